/**
 * The narrow dependencies the core and the handlers take, so tests and the local runtime can
 * pass their own (a manual clock, a directory store, a recording notifier).
 */

/** Current time in milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A number in [0, 1), as `Math.random` returns. Injected so jitter is testable. */
export type RandomSource = () => number;

/**
 * GET with the monitor's safety rules: only http(s) URLs on allowed hosts, the bearer token sent
 * only to allowed hosts, redirects followed manually with each hop checked, and a timeout.
 * It resolves with the final response whatever its status code and rejects on a rule violation
 * (`UrlNotAllowedError`) or a network failure.
 */
export type GuardedFetch = (url: string, init?: GuardedFetchInit) => Promise<Response>;

export interface GuardedFetchInit {
  /** @default 'GET'; `DELETE` dismisses a job */
  method?: 'GET' | 'DELETE';
  accept?: string;
  signal?: AbortSignal;
  /** Milliseconds before the request is aborted; the adapter has its own default. */
  timeoutMs?: number;
}

/** Returns the EODH bearer token; re-read on each call so a rotated secret is picked up. */
export type TokenSource = () => Promise<string>;

/** Metadata kept with each archived object, used to skip files already archived. */
export interface StoredObjectInfo {
  key: string;
  size: number;
  sha256: string | null;
  contentType: string | null;
}

export interface PutOptions {
  contentType: string;
  /** Lowercase hex SHA-256 of the body, stored as object metadata when known up front. */
  sha256?: string;
}

/**
 * Destination of a job's archive: an S3 bucket and prefix, or a local directory. Keys are relative
 * to the store's root and already sanitized. A failed `putStream` leaves no object behind.
 */
export interface ArchiveStore {
  /** `s3://bucket/prefix/` or an absolute directory path, for messages. */
  readonly location: string;
  /** Location of one key, in the same form as `location`. */
  uriOf(key: string): string;
  /** S3 console link for a key prefix, or null for a directory store. */
  consoleUrlOf(key: string): string | null;
  putObject(key: string, body: string | Uint8Array, options: PutOptions): Promise<void>;
  /**
   * Streams `body` to `key` without buffering it whole. When the body stream errors (size or
   * checksum mismatch, cut connection) the upload is aborted, no object is left, and the error
   * is rethrown. Resolves with the number of bytes stored.
   */
  putStream(
    key: string,
    body: NodeJS.ReadableStream | ReadableStream<Uint8Array>,
    options: PutOptions,
  ): Promise<{ size: number }>;
  getObject(key: string): Promise<Uint8Array | null>;
  head(key: string): Promise<StoredObjectInfo | null>;
  list(prefix: string): Promise<string[]>;
}

/** Sends the outcome message; SNS in AWS, a recorder or nothing locally. */
export interface Notifier {
  publish(message: OutcomeMessage): Promise<{ messageId: string | null }>;
}

export interface OutcomeMessage {
  subject: string;
  /** Plain-text e-mail body. */
  text: string;
  /** Structured copy for machine subscribers. */
  json: Record<string, unknown>;
  attributes: { outcome: string; workspace: string; processId: string };
}
