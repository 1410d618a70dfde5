import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { ConfigurationError, TransientHttpError, UrlNotAllowedError } from '../core/errors';
import type { GuardedFetch, GuardedFetchInit, TokenSource } from '../core/ports';
import {
  assertUrlAllowed,
  classifyIpAddress,
  describeValue,
  type HostPattern,
  hostLabelOf,
  isAddressAllowed,
  parseHostPatterns,
} from '../core/validation';
import { Agent, buildConnector, fetch as undiciFetch } from './undici';

/**
 * GET with the monitor's safety rules, built on undici. Two layers guard every request. Before
 * anything is sent, each URL (and each redirect hop) must pass `assertUrlAllowed`. At connect
 * time, the agent's DNS lookup rejects host names that resolve to private, loopback, link-local
 * or other non-public addresses, so a name that points inside the network (or is re-pointed
 * there after the first check) is never connected to.
 *
 * Timeouts: `timeoutMs` bounds the time until the final response headers arrive, across all
 * redirect hops. After that, the agent's `bodyTimeout` (the same value) aborts a body that
 * sends nothing for `timeoutMs`, and `readBodyText` caps the bytes read, so a slow or endless
 * body cannot hold the caller past those bounds. A caller that needs a total deadline for a
 * large body passes its own `signal`.
 */

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

export interface GuardedFetchOptions {
  /** Host patterns such as `eodatahub.org.uk`, `*.eodatahub-workspaces.org.uk`, `127.0.0.1:8080`. */
  allowedHosts: readonly string[];
  /** Permits http:// to loopback hosts and connections to loopback addresses (local sandbox only). */
  allowLoopback: boolean;
  getToken: TokenSource;
  /**
   * Milliseconds until the final response headers, and the longest silence while a body streams.
   * @default 20000
   */
  timeoutMs?: number;
  /** @default 5 */
  maxRedirects?: number;
}

/** A guarded fetch that can also close its connection pool (tests and the local runtime). */
export type ClosableGuardedFetch = GuardedFetch & { close(): Promise<void> };

/**
 * Builds a DNS lookup for `net.connect` that fails with `UrlNotAllowedError` when any address
 * of the host is not public (loopback is accepted when `allowLoopback`). Rejecting the host when
 * any one address is private, instead of filtering that address out, keeps a DNS name that mixes
 * public and internal addresses from being used at all.
 */
export function createGuardedLookup(allowLoopback: boolean): LookupFunction {
  const guardedLookup = (
    hostname: string,
    options: { all?: boolean; family?: number | string; hints?: number },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(
      hostname,
      { family: options.family as number, hints: options.hints, all: true },
      (error, addresses) => {
        if (error) {
          callback(error, options.all ? [] : '', 0);
          return;
        }
        const rejected = addresses.find((entry) => !isAddressAllowed(entry.address, allowLoopback));
        const first = addresses[0];
        if (rejected !== undefined || first === undefined) {
          const address = rejected?.address ?? 'no address';
          const addressClass = rejected === undefined ? 'missing' : classifyIpAddress(rejected.address);
          callback(
            new UrlNotAllowedError(
              hostname,
              `host ${hostname} resolves to ${address} (${addressClass?.replace('_', ' ')}), which is never fetched`,
            ),
            options.all ? [] : '',
            0,
          );
          return;
        }
        if (options.all) {
          callback(null, addresses);
        } else {
          callback(null, first.address, first.family);
        }
      },
    );
  };
  return guardedLookup as unknown as LookupFunction;
}

function createGuardedAgent(allowLoopback: boolean, timeoutMs: number): Agent {
  const connect = buildConnector({ lookup: createGuardedLookup(allowLoopback), timeout: timeoutMs });
  return new Agent({
    // The per-request timer in `createGuardedFetch` bounds the wait for headers, so a request
    // may set a longer timeout than the default. undici's own 300 s limit is turned off.
    headersTimeout: 0,
    bodyTimeout: timeoutMs,
    // `net.connect` skips the lookup for IP literals, so they are checked here.
    connect: (options, callback) => {
      if (
        isIP(options.hostname.replace(/^\[(.*)\]$/, '$1')) !== 0 &&
        !isAddressAllowed(options.hostname, allowLoopback)
      ) {
        callback(
          new UrlNotAllowedError(
            options.hostname,
            `address ${options.hostname} is not public and is never fetched`,
          ),
          null,
        );
        return;
      }
      connect(options, callback);
    },
  });
}

function findCause<T extends Error>(
  error: unknown,
  type: abstract new (...args: never[]) => T,
): T | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth += 1) {
    if (current instanceof type) return current;
    current = current.cause;
  }
  return undefined;
}

const timeoutCodes = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** Returns the innermost error code (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, ...) of a fetch failure. */
function errorCodeOf(error: unknown): string | null {
  let current: unknown = error;
  let code: string | null = null;
  for (let depth = 0; depth < 8 && current instanceof Error; depth += 1) {
    const candidate = (current as { code?: unknown }).code;
    if (typeof candidate === 'string') code = candidate;
    current = current.cause;
  }
  return code;
}

function formatSeconds(milliseconds: number): string {
  return `${Number((milliseconds / 1000).toFixed(3))} s`;
}

/**
 * Creates the monitor's GET function. Every URL is checked before anything is sent, and the
 * bearer token is added only after that check passes. Redirects are followed one hop at a time
 * with the same check, so neither the request nor the token reaches a host outside
 * `allowedHosts`. Network failures and timeouts reject with `TransientHttpError`; rule
 * violations reject with `UrlNotAllowedError`; any HTTP status resolves.
 */
export function createGuardedFetch(options: GuardedFetchOptions): ClosableGuardedFetch {
  const allowedHosts: HostPattern[] = parseHostPatterns(
    options.allowedHosts,
    (entry) =>
      new ConfigurationError(
        `invalid allowed-host pattern ${describeValue(entry)}: expected a host name, *.domain or an IP address, each optionally with :port`,
      ),
  );
  const rules = { allowedHosts, allowLoopback: options.allowLoopback };
  const defaultTimeoutMs = options.timeoutMs ?? 20_000;
  const maxRedirects = options.maxRedirects ?? 5;
  const agent = createGuardedAgent(options.allowLoopback, defaultTimeoutMs);

  const guardedFetch = async (url: string, init: GuardedFetchInit = {}): Promise<Response> => {
    const timeoutMs = init.timeoutMs ?? defaultTimeoutMs;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const signal =
      init.signal === undefined ? timeout.signal : AbortSignal.any([timeout.signal, init.signal]);

    let current: URL;
    try {
      current = new URL(url);
    } catch (error) {
      clearTimeout(timer);
      throw new UrlNotAllowedError('(invalid URL)', 'URL is not a valid absolute URL', { cause: error });
    }

    try {
      for (let hop = 0; ; hop += 1) {
        assertUrlAllowed(current, rules);
        const token = await options.getToken();
        const host = hostLabelOf(current);

        let response: Response;
        try {
          response = (await undiciFetch(current, {
            method: init.method ?? 'GET',
            redirect: 'manual',
            signal,
            dispatcher: agent,
            headers: {
              accept: init.accept ?? '*/*',
              authorization: `Bearer ${token}`,
              'user-agent': 'eodh-job-monitor',
            },
          })) as unknown as Response;
        } catch (error) {
          throw classifyFetchFailure(error, host, timeoutMs, timeout.signal.aborted, init.signal);
        }

        const location = response.headers.get('location');
        if (!redirectStatuses.has(response.status) || location === null) {
          return response;
        }
        await response.body?.cancel().catch(() => {});
        if (hop >= maxRedirects) {
          throw new TransientHttpError(`stopped after ${maxRedirects} redirects, the last from ${host}`, {
            kind: 'redirects',
            status: response.status,
          });
        }

        let next: URL;
        try {
          next = new URL(location, current);
        } catch (error) {
          throw new TransientHttpError(
            `redirect from ${host} has an invalid Location header`,
            {
              kind: 'redirects',
              status: response.status,
            },
            { cause: error },
          );
        }
        try {
          assertUrlAllowed(next, rules);
        } catch (error) {
          if (!(error instanceof UrlNotAllowedError)) throw error;
          throw new UrlNotAllowedError(
            error.host,
            `redirect from ${host} to ${error.host} rejected: ${error.message}`,
            {
              cause: error,
            },
          );
        }
        current = next;
      }
    } finally {
      clearTimeout(timer);
    }
  };

  return Object.assign(guardedFetch, { close: () => agent.close() });
}

function classifyFetchFailure(
  error: unknown,
  host: string,
  timeoutMs: number,
  timedOut: boolean,
  callerSignal: AbortSignal | undefined,
): Error {
  const blocked = findCause(error, UrlNotAllowedError);
  if (blocked !== undefined) return blocked;

  const code = errorCodeOf(error);
  if (timedOut || (code !== null && timeoutCodes.has(code))) {
    return new TransientHttpError(
      `timed out after ${formatSeconds(timeoutMs)} waiting for ${host}`,
      { kind: 'timeout' },
      {
        cause: error,
      },
    );
  }
  if (callerSignal?.aborted) {
    return callerSignal.reason instanceof Error
      ? callerSignal.reason
      : new Error('request aborted', { cause: error });
  }
  const detail = code ?? (error instanceof Error ? error.message : String(error));
  return new TransientHttpError(
    `network error reaching ${host} (${detail})`,
    { kind: 'network' },
    { cause: error },
  );
}

/**
 * Reads a response body as UTF-8 text, failing once it exceeds `maxBytes` so a huge or endless
 * body cannot exhaust memory. Read failures (cut connection, body timeout) become
 * `TransientHttpError`.
 * @param host - named in error messages
 */
export async function readBodyText(response: Response, maxBytes: number, host: string): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let received = 0;
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new TransientHttpError(`response from ${host} is larger than ${maxBytes} bytes`, {
          kind: 'body',
          status: response.status,
        });
      }
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    if (error instanceof TransientHttpError) throw error;
    const code = errorCodeOf(error);
    const kind = code !== null && timeoutCodes.has(code) ? 'timeout' : 'body';
    const failure = kind === 'timeout' ? 'timed out' : 'failed';
    throw new TransientHttpError(
      `reading the response from ${host} ${failure} (${code ?? (error as Error).message})`,
      {
        kind,
        status: response.status,
      },
      { cause: error },
    );
  }
  return text + decoder.decode();
}

/**
 * Parses a `Retry-After` header: delay seconds or an HTTP date. Returns whole seconds from
 * `nowMs` (rounded up), or null when the header is missing, invalid or in the past.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : null;
  }
  // HTTP dates always name the weekday and GMT; requiring a letter keeps bare numbers such
  // as "1.5" from being read as a date by Date.parse.
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  const seconds = Math.ceil((at - nowMs) / 1000);
  return seconds > 0 ? seconds : null;
}
