/**
 * Errors the monitor raises on purpose. Each class sets `name` explicitly because Step Functions
 * `ErrorEquals` matches on the error name a Lambda function reports, and minifiers rename classes,
 * so `constructor.name` cannot be trusted in a bundle.
 */

export interface MonitorErrorOptions {
  cause?: unknown;
}

/** Base class of every error the monitor raises on purpose. */
export class MonitorError extends Error {
  override name = 'MonitorError';

  constructor(message: string, options: MonitorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** An environment variable or other setting is missing or invalid; the message names it. */
export class ConfigurationError extends MonitorError {
  override name = 'ConfigurationError';
}

/** The execution input (or a Task input) is invalid; the message names the field and value. */
export class InvalidInputError extends MonitorError {
  override name = 'InvalidInputError';
  /** Path of the invalid field, such as `options.pollMaxSeconds`. */
  readonly field: string;

  constructor(field: string, message: string, options: MonitorErrorOptions = {}) {
    super(message, options);
    this.field = field;
  }
}

/**
 * A URL breaks the fetch rules (scheme, host not allowed, userinfo, private address). Raised
 * before any byte is sent to that host.
 */
export class UrlNotAllowedError extends MonitorError {
  override name = 'UrlNotAllowedError';
  /** Host (with port when not the default) of the rejected URL. */
  readonly host: string;

  constructor(host: string, message: string, options: MonitorErrorOptions = {}) {
    super(message, options);
    this.host = host;
  }
}

export type TransientKind = 'network' | 'timeout' | 'status' | 'redirects' | 'body';

/**
 * A failure that may go away on retry: network error, timeout, 429 or 5xx, cut or oversized
 * body, redirect loop. `retryAfterSeconds` is set when the server sent `Retry-After`.
 */
export class TransientHttpError extends MonitorError {
  override name = 'TransientHttpError';
  readonly kind: TransientKind;
  /** HTTP status code, or null when no response arrived. */
  readonly status: number | null;
  readonly retryAfterSeconds: number | null;

  constructor(
    message: string,
    details: { kind: TransientKind; status?: number | null; retryAfterSeconds?: number | null },
    options: MonitorErrorOptions = {},
  ) {
    super(message, options);
    this.kind = details.kind;
    this.status = details.status ?? null;
    this.retryAfterSeconds = details.retryAfterSeconds ?? null;
  }
}

/** An artifact could not be archived (wrong content, size or checksum mismatch, bad key). */
export class ArtifactError extends MonitorError {
  override name = 'ArtifactError';
}

/**
 * Publishing a message to SNS failed (throttling, a service error, a network error). The state
 * machine retries `Publish outcome` on this name; any other handler error is not retried.
 */
export class PublishFailedError extends MonitorError {
  override name = 'PublishFailedError';
}
