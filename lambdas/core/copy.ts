import { createHash, type Hash } from 'node:crypto';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import { mapWithConcurrency, type RetryPolicy, retrying } from './concurrency';
import { ArtifactError, MonitorError } from './errors';
import { assertSafeKey } from './keys';
import { archiveKeys, jobPrefix, type ManifestPart, type ManifestRecord } from './manifest';
import {
  type ArchiveLogger,
  type ArchivePlan,
  errorMessageOf,
  isRetryableFetchError,
  maxReportedFailures,
  type PlanEntry,
  parseArchivePlan,
  parseBatchPlan,
  retryableStatuses,
  summaryFailure,
} from './plan';
import type { ArchiveStore, GuardedFetch } from './ports';
import type { ArchiveFailure, BatchSummary, JobContext } from './state';

/**
 * Copies the files of an archive plan into the store, streaming each one from `fetch` to
 * `putStream` through a check of its size and SHA-256, and writes one manifest part per batch.
 */

/** Files copied at the same time within one batch. */
export const batchConcurrency = 4;

// ---------------------------------------------------------------------------------------------
// Checksums and content checks

const sha256MultihashPattern = /^1220([0-9a-f]{64})$/i;

/**
 * Returns the hex digest of a `file:checksum` multihash when it is SHA2-256 (code 0x12,
 * length 0x20), or null for other algorithms, which are not verified.
 */
export function sha256FromMultihash(checksum: string): string | null {
  const match = sha256MultihashPattern.exec(checksum.trim());
  return match?.[1] === undefined ? null : match[1].toLowerCase();
}

function mediaTypeOf(contentType: string | null | undefined): string | null {
  if (!contentType) {
    return null;
  }
  return contentType.split(';')[0]?.trim().toLowerCase() || null;
}

const htmlTypes = new Set(['text/html', 'application/xhtml+xml']);

function isJsonType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType === 'text/json' || mediaType.endsWith('+json');
}

/**
 * Returns whether a file of this media type may be sent as JSON: a JSON type itself, any text,
 * and the generic `application/octet-stream`, which carries no information about the content.
 */
function mayArriveAsJson(mediaType: string): boolean {
  return isJsonType(mediaType) || mediaType.startsWith('text/') || mediaType === 'application/octet-stream';
}

/**
 * Returns why a response is not the expected file, or null when it may be. Servers send three
 * kinds of error response with status 200. One is a login page (HTML) where anything but HTML
 * was expected. Another is an RFC 7807 error document (`application/problem+json`) where
 * anything but that was expected. The third is any JSON document where a binary type such as
 * a GeoTIFF was expected.
 */
export function unexpectedContentReason(
  received: string | null,
  expected: string | undefined,
): string | null {
  const receivedType = mediaTypeOf(received);
  const expectedType = mediaTypeOf(expected);
  if (receivedType === null) {
    return null;
  }
  if (htmlTypes.has(receivedType) && (expectedType === null || !htmlTypes.has(expectedType))) {
    return `received an HTML page (Content-Type ${receivedType}) instead of the file`;
  }
  if (receivedType === 'application/problem+json' && expectedType !== receivedType) {
    return 'received an error document (Content-Type application/problem+json) instead of the file';
  }
  if (isJsonType(receivedType) && expectedType !== null && !mayArriveAsJson(expectedType)) {
    return `received a JSON document (Content-Type ${receivedType}) where ${expectedType} was expected`;
  }
  return null;
}

/** Returns Content-Length when it counts the bytes the body will yield, else null. */
function contentLengthOf(response: Response): number | null {
  const encoding = response.headers.get('content-encoding')?.trim().toLowerCase();
  // fetch decompresses encoded bodies, so Content-Length then counts compressed bytes.
  if (encoding && encoding !== 'identity') {
    return null;
  }
  const text = response.headers.get('content-length');
  if (text === null || !/^\d+$/.test(text.trim())) {
    return null;
  }
  const length = Number(text);
  return Number.isSafeInteger(length) ? length : null;
}

export interface ExpectedContent {
  /** From Content-Length. */
  contentLength: number | null;
  /** From STAC `file:size`. */
  expectedBytes: number | null;
  /** Lowercase hex SHA-256 from a `file:checksum` multihash. */
  sha256: string | null;
}

/**
 * A pass-through stream that counts bytes and computes SHA-256. It errors, so the store aborts
 * the upload, as soon as the body runs past the announced size, and at its end when the size
 * or digest differ from what was expected.
 */
export class VerifyingStream extends Transform {
  bytes = 0;
  /** Hex SHA-256 of everything that passed, set once the stream has ended. */
  sha256: string | null = null;
  /** The mismatch that errored the stream, if any. */
  mismatch: ArtifactError | null = null;
  private readonly hash: Hash = createHash('sha256');
  private readonly maxBytes: number | null;

  constructor(private readonly expected: ExpectedContent) {
    super();
    const limits = [expected.contentLength, expected.expectedBytes].filter((limit) => limit !== null);
    this.maxBytes = limits.length > 0 ? Math.min(...limits) : null;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.maxBytes !== null && this.bytes > this.maxBytes) {
      callback(this.fail(`size mismatch: received more than the ${this.maxBytes} bytes expected`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { contentLength, expectedBytes, sha256 } = this.expected;
    if (contentLength !== null && this.bytes !== contentLength) {
      callback(
        this.fail(`size mismatch: received ${this.bytes} bytes but Content-Length is ${contentLength}`),
      );
      return;
    }
    if (expectedBytes !== null && this.bytes !== expectedBytes) {
      callback(this.fail(`size mismatch: received ${this.bytes} bytes but file:size is ${expectedBytes}`));
      return;
    }
    const digest = this.hash.digest('hex');
    if (sha256 !== null && digest !== sha256) {
      callback(this.fail(`checksum mismatch: SHA-256 is ${digest} but file:checksum expects ${sha256}`));
      return;
    }
    this.sha256 = digest;
    callback();
  }

  private fail(reason: string): ArtifactError {
    this.mismatch = new ArtifactError(reason);
    return this.mismatch;
  }
}

// ---------------------------------------------------------------------------------------------
// One file

export interface CopyResult {
  record: ManifestRecord;
  /** True when another attempt may succeed (network error, 429, 5xx, cut body). */
  retryable: boolean;
}

export interface CopyDependencies {
  fetch: GuardedFetch;
  store: ArchiveStore;
}

/**
 * Streams one planned file from its URL into the store under `storeKey`, never holding it
 * whole in memory. Returns an `archived` record, or a `failed` record with the reason in
 * words, and a failed copy leaves no object. Throws only when the store itself fails.
 *
 * @param storeKey - key relative to the store root (job prefix included)
 */
export async function copyArtifact(
  dependencies: CopyDependencies,
  storeKey: string,
  entry: PlanEntry,
): Promise<CopyResult> {
  const failed = (reason: string, retryable: boolean): CopyResult => ({
    record: {
      key: entry.key,
      source: entry.url,
      kind: entry.kind,
      bytes: 0,
      sha256: null,
      contentType: null,
      outcome: 'failed',
      reason,
    },
    retryable,
  });

  let response: Response;
  try {
    response = await dependencies.fetch(entry.url, { accept: entry.contentType ?? '*/*' });
  } catch (error) {
    return failed(`request failed: ${errorMessageOf(error)}`, isRetryableFetchError(error));
  }

  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    const statusText = response.statusText ? ` ${response.statusText}` : '';
    const hint =
      response.status === 401 || response.status === 403 ? ' (token rejected or file not accessible)' : '';
    return failed(`HTTP ${response.status}${statusText}${hint}`, retryableStatuses.has(response.status));
  }

  const receivedType = response.headers.get('content-type');
  const unexpected = unexpectedContentReason(receivedType, entry.contentType);
  if (unexpected !== null) {
    await response.body?.cancel().catch(() => {});
    return failed(unexpected, false);
  }

  const expected: ExpectedContent = {
    contentLength: contentLengthOf(response),
    expectedBytes: entry.expectedBytes ?? null,
    sha256: entry.checksum === undefined ? null : sha256FromMultihash(entry.checksum),
  };
  if (
    expected.contentLength !== null &&
    expected.expectedBytes !== null &&
    expected.contentLength !== expected.expectedBytes
  ) {
    await response.body?.cancel().catch(() => {});
    return failed(
      `size mismatch: Content-Length is ${expected.contentLength} but file:size is ${expected.expectedBytes}`,
      false,
    );
  }

  const contentType = entry.contentType ?? receivedType ?? 'application/octet-stream';
  const source =
    response.body === null
      ? Readable.from([])
      : Readable.fromWeb(response.body as unknown as NodeWebReadableStream<Uint8Array>);
  const verifier = new VerifyingStream(expected);

  // Registered before the pipeline so it runs before the verifier is destroyed, which is what
  // makes the store's upload fail: by the time putStream rejects, `sourceError` is set.
  let sourceError: unknown = null;
  source.on('error', (error) => {
    sourceError ??= error;
  });
  pipeline(source, verifier, () => {});

  try {
    const options = expected.sha256 === null ? { contentType } : { contentType, sha256: expected.sha256 };
    const stored = await dependencies.store.putStream(storeKey, verifier, options);
    return {
      record: {
        key: entry.key,
        source: entry.url,
        kind: entry.kind,
        bytes: stored.size,
        sha256: verifier.sha256,
        contentType,
        outcome: 'archived',
      },
      retryable: false,
    };
  } catch (error) {
    if (verifier.mismatch !== null) {
      return failed(verifier.mismatch.message, false);
    }
    if (sourceError !== null) {
      const announced = expected.contentLength ?? expected.expectedBytes;
      const progress =
        announced === null ? `${verifier.bytes} bytes` : `${verifier.bytes} of ${announced} bytes`;
      return failed(`download interrupted after ${progress}: ${describeStreamError(sourceError)}`, true);
    }
    throw error;
  } finally {
    source.destroy();
    verifier.destroy();
  }
}

/**
 * Describes a body stream error with its causes, such as `terminated (other side closed)`:
 * undici reports a cut connection as `terminated` and names the socket error only in `cause`.
 */
function describeStreamError(error: unknown): string {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    if (current.message !== '' && !messages.includes(current.message)) {
      messages.push(current.message);
    }
    current = current.cause;
  }
  const [first = String(error), ...causes] = messages;
  return causes.length === 0 ? first : `${first} (${causes.join(': ')})`;
}

// ---------------------------------------------------------------------------------------------
// One batch

export interface BatchDependencies extends CopyDependencies {
  logger: ArchiveLogger;
  retry: RetryPolicy;
}

/**
 * Archives the files of one plan batch and writes `manifest-parts/batch-<n>.json`. A file is
 * not copied again, and is reported as `skipped`, when an earlier run archived it from the same
 * URL and its stored size (and SHA-256, when both are known) still match. This batch's earlier
 * part and the plan's record of all earlier parts show what earlier runs archived. A file that cannot be archived is
 * reported and does not fail the batch; only store failures and a missing or invalid plan throw.
 *
 * `bytesArchived` counts skipped files too, because they are in the archive.
 */
export async function archiveBatch(
  dependencies: BatchDependencies,
  job: JobContext,
  batch: number,
): Promise<BatchSummary> {
  const { store, logger } = dependencies;
  const prefix = jobPrefix(job.workspace, job.jobId);
  const entries = await readBatchEntries(store, prefix, batch);
  const previous = await readPreviousRecords(store, prefix, batch, logger);

  const records = await mapWithConcurrency(entries, batchConcurrency, (entry) =>
    archiveEntry(dependencies, prefix, entry, previous.get(entry.key)),
  );

  const part: ManifestPart = { part: `batch-${batch}`, records };
  const partBody = new TextEncoder().encode(JSON.stringify(part));
  await store.putObject(`${prefix}${archiveKeys.batchPart(batch)}`, partBody, {
    contentType: 'application/json',
  });

  const failures: ArchiveFailure[] = [];
  const summary: BatchSummary = {
    batch,
    filesArchived: 0,
    filesSkipped: 0,
    bytesArchived: 0,
    filesFailed: 0,
    failures,
  };
  for (const record of records) {
    if (record.outcome === 'failed') {
      summary.filesFailed += 1;
      if (failures.length < maxReportedFailures) {
        failures.push(summaryFailure(record.key, record.source ?? '', record.reason ?? 'unknown reason'));
        logger.warn('file not archived', { key: record.key, url: record.source, reason: record.reason });
      }
      continue;
    }
    if (record.outcome === 'skipped') {
      summary.filesSkipped += 1;
    } else {
      summary.filesArchived += 1;
    }
    summary.bytesArchived += record.bytes;
  }
  logger.info('archive batch finished', {
    batch,
    files: records.length,
    filesArchived: summary.filesArchived,
    filesSkipped: summary.filesSkipped,
    filesFailed: summary.filesFailed,
    bytesArchived: summary.bytesArchived,
  });
  return summary;
}

/**
 * Reads the entries of one batch from `plan/batch-<n>.json`. A plan stored without batch
 * objects (an execution planned before they existed) is read whole from `plan.json` instead.
 */
async function readBatchEntries(store: ArchiveStore, prefix: string, batch: number): Promise<PlanEntry[]> {
  const batchKey = `${prefix}${archiveKeys.batchPlan(batch)}`;
  const batchBytes = await store.getObject(batchKey);
  if (batchBytes !== null) {
    const batchPlan = parseStored(store, batchKey, batchBytes, parseBatchPlan);
    return batchPlan.entries.filter((entry) => entry.batch === batch);
  }

  const planKey = `${prefix}${archiveKeys.plan}`;
  const planBytes = await store.getObject(planKey);
  if (planBytes === null) {
    throw new MonitorError(
      `archive plan not found at ${store.uriOf(planKey)}: the Plan archive step must run first`,
    );
  }
  const plan: ArchivePlan = parseStored(store, planKey, planBytes, parseArchivePlan);
  return plan.entries.filter((entry) => entry.batch === batch);
}

function parseStored<T>(store: ArchiveStore, key: string, bytes: Uint8Array, parse: (text: string) => T): T {
  try {
    return parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new MonitorError(`archive plan at ${store.uriOf(key)} is invalid: ${errorMessageOf(error)}`, {
      cause: error,
    });
  }
}

/** Records of an earlier run of this batch, by key; empty when there was none or it is unreadable. */
async function readPreviousRecords(
  store: ArchiveStore,
  prefix: string,
  batch: number,
  logger: ArchiveLogger,
): Promise<Map<string, ManifestRecord>> {
  const key = `${prefix}${archiveKeys.batchPart(batch)}`;
  const bytes = await store.getObject(key);
  const records = new Map<string, ManifestRecord>();
  if (bytes === null) {
    return records;
  }
  try {
    const part = JSON.parse(new TextDecoder().decode(bytes)) as Partial<ManifestPart>;
    for (const record of part.records ?? []) {
      records.set(record.key, record);
    }
  } catch (error) {
    logger.warn('earlier manifest part is invalid, copying every file again', {
      key,
      error: errorMessageOf(error),
    });
  }
  return records;
}

async function archiveEntry(
  dependencies: BatchDependencies,
  prefix: string,
  entry: PlanEntry,
  previous: ManifestRecord | undefined,
): Promise<ManifestRecord> {
  try {
    assertSafeKey(entry.key);
  } catch (error) {
    return {
      key: entry.key,
      source: entry.url,
      kind: entry.kind,
      bytes: 0,
      sha256: null,
      contentType: null,
      outcome: 'failed',
      reason: errorMessageOf(error),
    };
  }
  const storeKey = `${prefix}${entry.key}`;

  // The batch's own earlier part comes first; the plan's record of an earlier run covers a file
  // that an earlier run archived in another batch.
  const earlier: ManifestRecord | undefined =
    previous ??
    (entry.archived === undefined
      ? undefined
      : { key: entry.key, source: entry.url, kind: entry.kind, ...entry.archived, outcome: 'archived' });
  if (earlier !== undefined && earlier.outcome !== 'failed' && earlier.source === entry.url) {
    const stored = await dependencies.store.head(storeKey);
    const sameDigest = earlier.sha256 === null || stored?.sha256 == null || stored.sha256 === earlier.sha256;
    if (stored !== null && stored.size === earlier.bytes && sameDigest) {
      const { reason: _reason, ...unchanged } = earlier;
      return { ...unchanged, outcome: 'skipped' };
    }
  }

  const result = await retrying(dependencies.retry, async (attempt) => {
    const copy = await copyArtifact(dependencies, storeKey, entry);
    if (copy.retryable && attempt < dependencies.retry.attempts) {
      dependencies.logger.info('file copy failed, retrying', {
        key: entry.key,
        attempt,
        reason: copy.record.reason,
      });
    }
    return copy;
  });
  return result.record;
}
