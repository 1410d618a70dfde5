/**
 * Manifest records and the fixed keys of a job's archive. Batches write their records to
 * parts under `manifest-parts/` because 5,000 records do not fit in Step Functions state;
 * `Publish outcome` merges the parts into `manifest.json`.
 */

export type ManifestOutcome = 'archived' | 'skipped' | 'failed';

/** One archived (or not archived) object. */
export interface ManifestRecord {
  /** Key relative to the job prefix, such as `results/ndvi-20260601/ndvi.tif`. */
  key: string;
  /** Source URL, or null for documents the monitor wrote itself (rewritten STAC). */
  source: string | null;
  kind: 'status' | 'results' | 'item' | 'asset' | 'log';
  bytes: number;
  sha256: string | null;
  contentType: string | null;
  /** `skipped` means an identical copy was already archived by an earlier run. */
  outcome: ManifestOutcome;
  reason?: string;
}

/** Content of one `manifest-parts/*.json` object. */
export interface ManifestPart {
  part: string;
  records: ManifestRecord[];
}

export const archiveKeys = {
  status: 'status.json',
  collection: 'results/collection.json',
  plan: 'plan.json',
  /** The entries of one batch, so a batch reads only its own files and not the whole plan. */
  batchPlan: (batch: number) => `plan/batch-${String(batch).padStart(5, '0')}.json`,
  manifest: 'manifest.json',
  outcome: 'outcome.json',
  manifestPartsPrefix: 'manifest-parts/',
  documentsPart: 'manifest-parts/documents.json',
  batchPart: (batch: number) => `manifest-parts/batch-${String(batch).padStart(5, '0')}.json`,
} as const;

/**
 * Returns the key prefix of one job's archive, `<workspace>/<jobId>/`. Both values were
 * validated by `Validate input` (DNS label and a restricted ID), so neither can contain `/`
 * or `..`. The check here stops a caller that skipped validation.
 */
export function jobPrefix(workspace: string, jobId: string): string {
  for (const segment of [workspace, jobId]) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(segment) || segment.includes('..')) {
      throw new Error(`invalid archive path segment "${segment}": expected letters, digits, ".", "_" or "-"`);
    }
  }
  return `${workspace}/${jobId}/`;
}
