import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { JsonDocument } from './documents';
import { RequestBodyTooLargeError } from './errors';
import type { RawOverride } from './scenario-schema';

/** Whether a request carried the sandbox's bearer token, another credential, or none. */
export type AuthState = 'valid' | 'invalid' | 'none';

/** A response a route decided on; `writeReply` sends it. */
export type Reply =
  | { kind: 'buffer'; status: number; headers: OutgoingHttpHeaders; body: Buffer; truncateAt?: number }
  | {
      kind: 'stream';
      status: number;
      headers: OutgoingHttpHeaders;
      /** Sent as `Content-Length`; null sends the body in chunked transfer encoding. */
      length: number | null;
      open: () => Readable;
    }
  | { kind: 'hang' };

export function classifyAuth(header: string | undefined, token: string): AuthState {
  if (header === undefined || header === '') {
    return 'none';
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match?.[1] === undefined) {
    return 'invalid';
  }
  const given = Buffer.from(match[1], 'utf8');
  const expected = Buffer.from(token, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'valid' : 'invalid';
}

export function jsonReply(status: number, document: JsonDocument, headers: OutgoingHttpHeaders = {}): Reply {
  return {
    kind: 'buffer',
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(document), 'utf8'),
  };
}

export function textReply(
  status: number,
  text: string,
  contentType = 'text/plain; charset=utf-8',
  headers: OutgoingHttpHeaders = {},
): Reply {
  return {
    kind: 'buffer',
    status,
    headers: { 'content-type': contentType, ...headers },
    body: Buffer.from(text, 'utf8'),
  };
}

/** Values a raw override may reference as `{{name}}` in its headers and body. */
export type PlaceholderValues = Record<string, string>;

/** Replaces each `{{name}}` with a known name by its value; unknown placeholders stay as written. */
export function fillPlaceholders(text: string, values: PlaceholderValues): string {
  return text.replace(/\{\{(\w+)\}\}/g, (placeholder, name: string) => values[name] ?? placeholder);
}

/**
 * Builds the reply a raw override describes: status, headers and body as written, except that
 * `{{name}}` placeholders with a known name are filled in (ports are only known at run time).
 * `Content-Length` is added unless the override sets it.
 */
export function rawReply(override: RawOverride, values: PlaceholderValues): Reply {
  if (override.response === undefined) {
    return { kind: 'hang' };
  }
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(override.response.headers)) {
    headers[name] = fillPlaceholders(value, values);
  }
  const reply: Reply = {
    kind: 'buffer',
    status: override.response.status,
    headers,
    body: Buffer.from(fillPlaceholders(override.response.body, values), 'utf8'),
  };
  if (override.response.truncateAt !== undefined) {
    reply.truncateAt = override.response.truncateAt;
  }
  return reply;
}

function hasHeader(headers: OutgoingHttpHeaders, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

/**
 * Sends a reply. HEAD requests get the headers only. A truncated reply announces the whole
 * body's length, sends the first `truncateAt` bytes and cuts the connection; a hang sends nothing.
 */
export async function writeReply(
  request: IncomingMessage,
  response: ServerResponse,
  reply: Reply,
): Promise<void> {
  if (reply.kind === 'hang') {
    return;
  }
  const headOnly = request.method === 'HEAD';

  if (reply.kind === 'stream') {
    response.writeHead(
      reply.status,
      reply.length === null ? reply.headers : { ...reply.headers, 'content-length': reply.length },
    );
    if (headOnly) {
      response.end();
      return;
    }
    try {
      await pipeline(reply.open(), response);
    } catch {
      // The client went away mid-body; there is no one left to tell.
      response.destroy();
    }
    return;
  }

  const headers = hasHeader(reply.headers, 'content-length')
    ? reply.headers
    : { ...reply.headers, 'content-length': reply.body.length };
  response.writeHead(reply.status, headers);
  if (headOnly) {
    response.end();
    return;
  }
  if (reply.truncateAt !== undefined && reply.truncateAt < reply.body.length) {
    response.write(reply.body.subarray(0, reply.truncateAt), () => response.destroy());
    return;
  }
  response.end(reply.body);
}

/** Largest request body read, in bytes; execute requests carry small JSON documents. */
export const maxRequestBodyBytes = 1024 * 1024;

export async function readRequestBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request) {
    length += (chunk as Buffer).length;
    if (length > maxRequestBodyBytes) {
      throw new RequestBodyTooLargeError(maxRequestBodyBytes);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Splits a path into decoded segments, or returns null when a segment is not valid percent-encoding. */
export function pathSegments(pathname: string): string[] | null {
  try {
    return pathname.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return null;
  }
}
