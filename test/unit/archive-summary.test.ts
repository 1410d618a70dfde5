import { describe, expect, it } from 'vitest';
import {
  buildManifest,
  countManifestRecords,
  mergeManifestRecords,
  parseManifestPart,
  summarizeArchive,
} from '../../lambdas/core/archive-summary';
import type { ManifestRecord } from '../../lambdas/core/manifest';
import type { BatchSummary, PlanSummary } from '../../lambdas/core/state';

function record(key: string, overrides: Partial<ManifestRecord> = {}): ManifestRecord {
  return {
    key,
    source: `https://demo-ws.eodatahub-workspaces.org.uk/files/${key}`,
    kind: 'asset',
    bytes: 100,
    sha256: 'a'.repeat(64),
    contentType: 'image/tiff',
    outcome: 'archived',
    ...overrides,
  };
}

const plan: PlanSummary = {
  archiveUri: 's3://archive-bucket/eodh-jobs/demo-ws/job-1/',
  planKey: 'eodh-jobs/demo-ws/job-1/plan.json',
  batches: [0],
  files: 3,
  documentsArchived: 3,
  documentBytes: 900,
  failures: [],
  failureCount: 0,
};

describe('parseManifestPart', () => {
  it('parses a valid part', () => {
    const part = { part: 'batch-00000', records: [record('logs/ndvi.log', { kind: 'log' })] };
    expect(parseManifestPart(JSON.stringify(part))).toEqual(part);
  });

  it('rejects a record with an unknown outcome', () => {
    const part = { part: 'batch-00000', records: [{ ...record('a'), outcome: 'lost' }] };
    expect(() => parseManifestPart(JSON.stringify(part))).toThrow(/outcome/);
  });

  it('rejects text that is not JSON', () => {
    expect(() => parseManifestPart('{"part":')).toThrow(SyntaxError);
  });
});

describe('mergeManifestRecords', () => {
  it('keeps records in part order', () => {
    const merged = mergeManifestRecords([
      { part: 'documents', records: [record('status.json', { kind: 'status' })] },
      { part: 'batch-00000', records: [record('z.tif'), record('a.tif')] },
    ]);
    expect(merged.map((entry) => entry.key)).toEqual(['status.json', 'z.tif', 'a.tif']);
  });

  it('keeps the best outcome of a repeated key', () => {
    const merged = mergeManifestRecords([
      { part: 'batch-00000', records: [record('a.tif', { outcome: 'failed', reason: 'timeout' })] },
      { part: 'batch-00001', records: [record('a.tif', { outcome: 'archived' })] },
      { part: 'batch-00002', records: [record('a.tif', { outcome: 'skipped' })] },
    ]);
    expect(merged).toEqual([record('a.tif', { outcome: 'archived' })]);
  });
});

describe('buildManifest', () => {
  it('sorts records by key and counts them', () => {
    const manifest = buildManifest(
      {
        jobId: 'job-1',
        workspace: 'demo-ws',
        processId: 'ndvi-calc',
        outcome: 'failed',
        generatedAt: '2026-11-30T09:33:00.000Z',
      },
      [
        record('results/b.tif', { bytes: 10 }),
        record('Results/a.tif', { outcome: 'skipped', bytes: 20 }),
        record('logs/x.log', { kind: 'log', outcome: 'failed', bytes: 0, reason: 'HTTP 404' }),
        record('results/collection.json', { kind: 'results', bytes: 5, source: null }),
      ],
    );
    expect(manifest.records.map((entry) => entry.key)).toEqual([
      'Results/a.tif',
      'logs/x.log',
      'results/b.tif',
      'results/collection.json',
    ]);
    expect(manifest.totals).toEqual({ archived: 2, skipped: 1, failed: 1, bytes: 35 });
    expect(manifest.jobId).toBe('job-1');
  });
});

describe('countManifestRecords', () => {
  it('counts nothing for no records', () => {
    expect(countManifestRecords([])).toEqual({ archived: 0, skipped: 0, failed: 0, bytes: 0 });
  });
});

describe('summarizeArchive', () => {
  const location = {
    uri: plan.archiveUri,
    consoleUrl: 'https://s3.console.aws.amazon.com/s3/buckets/b?prefix=p/',
  };

  it('counts assets and logs but not documents', () => {
    const summary = summarizeArchive({
      ...location,
      records: [
        record('status.json', { kind: 'status', bytes: 1_000, source: null }),
        record('results/a.tif', { bytes: 300 }),
        record('results/b.tif', { bytes: 200, outcome: 'skipped' }),
        record('logs/ndvi.log', { kind: 'log', bytes: 50 }),
      ],
      partsFound: true,
      plan,
      batches: null,
    });
    expect(summary).toEqual({
      ...location,
      filesArchived: 3,
      filesSkipped: 1,
      bytesArchived: 550,
      filesFailed: 0,
      failures: [],
    });
  });

  it('lists failed records and failures only the summaries report', () => {
    const batches: BatchSummary[] = [
      {
        batch: 0,
        filesArchived: 0,
        filesSkipped: 0,
        bytesArchived: 0,
        filesFailed: 1,
        failures: [{ key: 'results/a.tif', url: 'https://x/a.tif', reason: 'HTTP 404' }],
      },
    ];
    const summary = summarizeArchive({
      ...location,
      records: [record('results/a.tif', { outcome: 'failed', reason: 'HTTP 404 from the file host' })],
      partsFound: true,
      plan: {
        ...plan,
        failureCount: 2,
        failures: [{ key: 'results/item-1.json', url: 'https://x/item-1.json', reason: 'HTTP 500' }],
      },
      batches,
    });
    expect(summary.filesFailed).toBe(3);
    expect(summary.failures).toEqual([
      { key: 'results/a.tif', url: record('results/a.tif').source, reason: 'HTTP 404 from the file host' },
      { key: 'results/item-1.json', url: 'https://x/item-1.json', reason: 'HTTP 500' },
    ]);
  });

  it('lists at most 20 failures', () => {
    const records = Array.from({ length: 30 }, (_, index) =>
      record(`results/${index}.tif`, { outcome: 'failed', reason: 'HTTP 404' }),
    );
    const summary = summarizeArchive({ ...location, records, partsFound: true, plan: null, batches: null });
    expect(summary.filesFailed).toBe(30);
    expect(summary.failures).toHaveLength(20);
  });

  it('falls back to batch summaries without parts', () => {
    const summary = summarizeArchive({
      ...location,
      records: [],
      partsFound: false,
      plan: null,
      batches: [
        { batch: 0, filesArchived: 2, filesSkipped: 1, bytesArchived: 700, filesFailed: 0, failures: [] },
        { batch: 1, filesArchived: 1, filesSkipped: 0, bytesArchived: 300, filesFailed: 0, failures: [] },
      ],
    });
    expect(summary.filesArchived).toBe(4);
    expect(summary.filesSkipped).toBe(1);
    expect(summary.bytesArchived).toBe(1_000);
  });

  it('accepts batch counts without failures', () => {
    // The state machine keeps only the counts of each batch; the failures are in the parts.
    const counts = { batch: 0, filesArchived: 1, filesSkipped: 0, bytesArchived: 10, filesFailed: 1 };
    const summary = summarizeArchive({
      ...location,
      records: [record('results/a.tif', { outcome: 'failed', reason: 'HTTP 404' })],
      partsFound: true,
      plan: null,
      batches: [counts as BatchSummary],
    });
    expect(summary.filesFailed).toBe(1);
    expect(summary.failures).toEqual([
      { key: 'results/a.tif', url: record('results/a.tif').source, reason: 'HTTP 404' },
    ]);
  });

  it('counts nothing when no archive ran', () => {
    const summary = summarizeArchive({
      ...location,
      records: [],
      partsFound: false,
      plan: null,
      batches: null,
    });
    expect(summary).toEqual({
      ...location,
      filesArchived: 0,
      filesSkipped: 0,
      bytesArchived: 0,
      filesFailed: 0,
      failures: [],
    });
  });
});
