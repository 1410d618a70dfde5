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
  | {
      kind: 'buffer';
      status: number;
      headers: OutgoingHttpHeaders;
      body: Buffer;
      truncateAt?: number;
      stallAt?: number;
    }
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
  return tokenIndexOf(header, token) === null ? 'invalid' : 'valid';
}

/** Returns token `index` of a rotation: the sandbox's own token for 0, a token derived from it after. */
export function rotatedToken(token: string, index: number): string {
  return index === 0 ? token : `${token}.rotated-${index}`;
}

function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Returns which of the sandbox's tokens an Authorization header carries: 0 for its own token,
 * n for `rotatedToken(token, n)`, null for anything else.
 */
export function tokenIndexOf(header: string | undefined, token: string): number | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const given = match?.[1];
  if (given === undefined) return null;
  if (sameText(given, token)) return 0;
  const rotated = /^(.*)\.rotated-([1-9]\d{0,5})$/.exec(given);
  if (rotated?.[1] === undefined || rotated[2] === undefined || !sameText(rotated[1], token)) return null;
  return Number(rotated[2]);
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
export function rawReply(override: RawOverride, values: PlaceholderValues, nowMs?: number): Reply {
  if (override.response === undefined) {
    return { kind: 'hang' };
  }
  const fill = (text: string) =>
    fillPlaceholders(nowMs === undefined ? text : fillHttpDates(text, nowMs), values);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(override.response.headers)) {
    headers[name] = fill(value);
  }
  const reply: Reply = {
    kind: 'buffer',
    status: override.response.status,
    headers,
    body: Buffer.from(fill(override.response.body), 'utf8'),
  };
  if (override.response.truncateAt !== undefined) {
    reply.truncateAt = override.response.truncateAt;
  }
  if (override.response.stallAt !== undefined) {
    reply.stallAt = override.response.stallAt;
  }
  return reply;
}

/**
 * Replaces `{{httpDate}}`, `{{httpDate+N}}` and `{{httpDate-N}}` with the HTTP date (RFC 9110
 * IMF-fixdate) N seconds from `nowMs` on the sandbox clock, as a `Retry-After` date needs.
 */
export function fillHttpDates(text: string, nowMs: number): string {
  return text.replace(
    /\{\{httpDate(?:([+-])(\d{1,9}))?\}\}/g,
    (_placeholder, sign?: string, seconds?: string) => {
      const offset = seconds === undefined ? 0 : Number(seconds) * (sign === '-' ? -1 : 1);
      return new Date(nowMs + offset * 1000).toUTCString();
    },
  );
}

function hasHeader(headers: OutgoingHttpHeaders, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

/**
 * Sends a reply. HEAD requests get the headers only. A truncated reply announces the whole
 * body's length, sends the first `truncateAt` bytes and cuts the connection. A stalled reply
 * sends the first `stallAt` bytes and keeps the connection open. A hang sends nothing.
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
  if (reply.stallAt !== undefined && reply.stallAt < reply.body.length) {
    // Headers and the first bytes go out, then nothing: the client's read timeout has to end it.
    response.flushHeaders();
    if (reply.stallAt > 0) response.write(reply.body.subarray(0, reply.stallAt));
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
