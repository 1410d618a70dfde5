import * as z from 'zod';
import type { ManifestPart, ManifestRecord } from './manifest';
import { type ArchiveFacts, MAX_LISTED_FAILURES } from './notification';
import type { ArchiveFailure, BatchSummary, Outcome, PlanSummary } from './state';

/**
 * Merges the manifest parts that the planner and the archive batches wrote into one manifest,
 * and counts what the archive holds for the outcome message.
 */

const manifestRecordSchema = z.object({
  key: z.string().min(1),
  source: z.string().nullable(),
  kind: z.enum(['status', 'results', 'item', 'asset', 'log']),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().nullable(),
  contentType: z.string().nullable(),
  outcome: z.enum(['archived', 'skipped', 'failed']),
  reason: z.string().optional(),
});

const manifestPartSchema = z.object({
  part: z.string(),
  records: z.array(manifestRecordSchema),
});

/** Parses one `manifest-parts/*.json` document. Throws a ZodError or SyntaxError that names the problem. */
export function parseManifestPart(text: string): ManifestPart {
  return manifestPartSchema.parse(JSON.parse(text));
}

export interface ManifestTotals {
  archived: number;
  skipped: number;
  failed: number;
  /** Bytes of the archived and skipped records, which is what the archive holds. */
  bytes: number;
}

/** Content of `manifest.json`. */
export interface Manifest {
  jobId: string;
  workspace: string;
  processId: string | null;
  outcome: Outcome;
  generatedAt: string;
  totals: ManifestTotals;
  records: ManifestRecord[];
}

const outcomeRank = { archived: 0, skipped: 1, failed: 2 } as const;

/**
 * Joins the records of all parts, keeping one record per key. A key that appears twice (a file
 * retried by a later batch) keeps its best outcome, archived before skipped before failed,
 * because an object that was stored once is in the archive. The result keeps part order, which
 * is plan order; sort it by key for the manifest.
 */
export function mergeManifestRecords(parts: readonly ManifestPart[]): ManifestRecord[] {
  const byKey = new Map<string, ManifestRecord>();
  for (const part of parts) {
    for (const record of part.records) {
      const existing = byKey.get(record.key);
      if (existing === undefined || outcomeRank[record.outcome] < outcomeRank[existing.outcome]) {
        byKey.set(record.key, record);
      }
    }
  }
  return [...byKey.values()];
}

/** Counts records by outcome. `bytes` sums the records that are in the archive. */
export function countManifestRecords(records: readonly ManifestRecord[]): ManifestTotals {
  const totals: ManifestTotals = { archived: 0, skipped: 0, failed: 0, bytes: 0 };
  for (const record of records) {
    totals[record.outcome] += 1;
    if (record.outcome !== 'failed') totals.bytes += record.bytes;
  }
  return totals;
}

/** Builds `manifest.json` with its records sorted by key (code unit order, so it is the same on every machine). */
export function buildManifest(
  meta: Omit<Manifest, 'totals' | 'records'>,
  records: readonly ManifestRecord[],
): Manifest {
  const sorted = [...records].sort(compareKeys);
  return { ...meta, totals: countManifestRecords(sorted), records: sorted };
}

function compareKeys(a: ManifestRecord, b: ManifestRecord): number {
  if (a.key < b.key) return -1;
  if (a.key > b.key) return 1;
  return 0;
}

/** Inputs of the archive summary besides the manifest records. */
export interface ArchiveSources {
  records: readonly ManifestRecord[];
  /** Whether any manifest part was found. Without parts the batch summaries are counted instead. */
  partsFound: boolean;
  plan: PlanSummary | null;
  batches: readonly BatchSummary[] | null;
  uri: string | null;
  consoleUrl: string | null;
}

/**
 * Counts what the archive holds for the job. Files are the job's assets and logs: the status,
 * results and item documents are the monitor's own copies and are counted only in the manifest.
 * `filesArchived` includes files an earlier run had archived (`skipped`), because they are in the
 * archive too. `filesFailed` counts failed records of every kind, documents included, or the
 * failures reported by the plan and batch summaries when those are more, because the planner may
 * report documents that have no record.
 */
export function summarizeArchive(sources: ArchiveSources): ArchiveFacts {
  const plan = sources.plan;
  const batches = sources.batches ?? [];
  const reportedFailures =
    (plan?.failureCount ?? 0) + batches.reduce((sum, batch) => sum + batch.filesFailed, 0);

  let filesArchived = 0;
  let filesSkipped = 0;
  let bytesArchived = 0;
  let failedRecords = 0;
  if (sources.partsFound) {
    for (const record of sources.records) {
      if (record.outcome === 'failed') {
        failedRecords += 1;
        continue;
      }
      if (record.kind !== 'asset' && record.kind !== 'log') continue;
      filesArchived += 1;
      bytesArchived += record.bytes;
      if (record.outcome === 'skipped') filesSkipped += 1;
    }
  } else {
    for (const batch of batches) {
      filesArchived += batch.filesArchived + batch.filesSkipped;
      filesSkipped += batch.filesSkipped;
      bytesArchived += batch.bytesArchived;
    }
  }

  return {
    uri: sources.uri,
    consoleUrl: sources.consoleUrl,
    filesArchived,
    filesSkipped,
    bytesArchived,
    filesFailed: Math.max(failedRecords, reportedFailures),
    failures: collectFailures(sources.records, plan, batches),
  };
}

/** Lists the first failures, one per key: failed records first, then those from the summaries. */
function collectFailures(
  records: readonly ManifestRecord[],
  plan: PlanSummary | null,
  batches: readonly BatchSummary[],
): ArchiveFailure[] {
  const byKey = new Map<string, ArchiveFailure>();
  for (const record of records) {
    if (record.outcome !== 'failed' || byKey.has(record.key)) continue;
    byKey.set(record.key, {
      key: record.key,
      url: record.source ?? '',
      reason: record.reason ?? 'no reason recorded',
    });
  }
  // The `Archive batch` task's ResultSelector drops batch failures from state, so they may be absent.
  const batchFailures = batches.flatMap((batch) => batch.failures ?? []);
  for (const failure of [...(plan?.failures ?? []), ...batchFailures]) {
    if (!byKey.has(failure.key)) byKey.set(failure.key, failure);
  }
  return [...byKey.values()].slice(0, MAX_LISTED_FAILURES);
}
