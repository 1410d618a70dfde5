import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDirectoryStore } from '../../lambdas/adapters/directory-store';
import { createS3Store } from '../../lambdas/adapters/s3-store';
import {
  type ArchiveArtifactsDependencies,
  createArchiveArtifactsHandler,
  defaultArchiveArtifactsDependencies,
} from '../../lambdas/archive-artifacts';
import type { RetryPolicy } from '../../lambdas/core/concurrency';
import { readMonitorConfig } from '../../lambdas/core/config';
import { ConfigurationError, InvalidInputError, MonitorError } from '../../lambdas/core/errors';
import type { ManifestPart, ManifestRecord } from '../../lambdas/core/manifest';
import type { ArchivePlan, BatchPlan, PlanEntry } from '../../lambdas/core/plan';
import type { ArchiveStore, GuardedFetch } from '../../lambdas/core/ports';
import type { BatchSummary, JobContext } from '../../lambdas/core/state';
import { createPlanArchiveHandler } from '../../lambdas/plan-archive';
import resultsCollection from '../fixtures/eodh/results-collection.json';
import { fixtureJob } from './support/fixtures';
import { type LocalS3, startLocalS3 } from './support/s3rver';

const jobId = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';
const jobUrl = `https://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/${jobId}`;
const filesBase =
  'https://demo-ws.eodatahub-workspaces.org.uk/files/workspaces-eodhp/processing-results/ndvi-calc';
const prefix = `demo-ws/${jobId}/`;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function patternBytes(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let index = 0; index < size; index += 1) {
    bytes[index] = (index * 17 + seed) % 251;
  }
  return bytes;
}

const job: JobContext = fixtureJob({
  jobId,
  workspace: 'demo-ws',
  statusUrl: jobUrl,
  monitorStartedAt: '2026-11-30T09:12:10.000Z',
  generation: 0,
});

interface ServedFile {
  bytes: Uint8Array;
  contentType: string;
}

/** Files served by the fake file host, by URL. */
function servedFiles(): Map<string, ServedFile> {
  return new Map([
    [
      `${jobUrl}/ndvi.log`,
      {
        bytes: new TextEncoder().encode('INFO computing NDVI\nERROR no red band\n'),
        contentType: 'text/plain',
      },
    ],
    [`${filesBase}/a/ndvi.tif`, { bytes: patternBytes(700_001, 1), contentType: 'image/tiff' }],
    [`${filesBase}/a/thumb.png`, { bytes: patternBytes(4_096, 2), contentType: 'image/png' }],
    [`${filesBase}/b/ndvi.tif`, { bytes: patternBytes(650_000, 3), contentType: 'image/tiff' }],
    [`${filesBase}/b/thumb.png`, { bytes: patternBytes(3_000, 4), contentType: 'image/png' }],
  ]);
}

function fileHost(files: Map<string, ServedFile>, overrides: Record<string, Array<() => Response>> = {}) {
  const requests: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fetch: GuardedFetch = async (url) => {
    requests.push(url);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    // Yield to the event loop so concurrent copies overlap here.
    await new Promise((resolve) => setImmediate(resolve));
    inFlight -= 1;

    const queued = overrides[url];
    if (queued !== undefined && queued.length > 0) {
      return (queued.shift() as () => Response)();
    }
    const file = files.get(url);
    if (file === undefined) {
      return new Response('not found', { status: 404 });
    }
    return new Response(file.bytes, {
      headers: { 'content-type': file.contentType, 'content-length': String(file.bytes.length) },
    });
  };
  return {
    fetch,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

function entriesFor(files: Map<string, ServedFile>, batchSize: number): PlanEntry[] {
  const keys = [
    'logs/ndvi.log',
    'results/a/ndvi.tif',
    'results/a/thumb.png',
    'results/b/ndvi.tif',
    'results/b/thumb.png',
  ];
  return [...files.entries()].map(([url, file], index) => ({
    key: keys[index] ?? `results/extra-${index}`,
    url,
    kind: index === 0 ? 'log' : 'asset',
    batch: Math.floor(index / batchSize),
    expectedBytes: file.bytes.length,
    checksum: index === 1 ? `1220${sha256(file.bytes)}` : undefined,
    contentType: file.contentType,
  }));
}

async function writePlan(store: ArchiveStore, entries: PlanEntry[], batchSize = 25): Promise<void> {
  const plan: ArchivePlan = {
    jobId,
    workspace: 'demo-ws',
    createdAt: '2026-11-30T09:33:00.000Z',
    batchSize,
    entries,
  };
  await store.putObject(`${prefix}plan.json`, JSON.stringify(plan), { contentType: 'application/json' });
}

async function readPart(store: ArchiveStore, batch: number): Promise<ManifestPart> {
  const bytes = await store.getObject(`${prefix}manifest-parts/batch-${String(batch).padStart(5, '0')}.json`);
  return JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array())) as ManifestPart;
}

const sleeps: number[] = [];
const noWaitRetry: RetryPolicy = {
  attempts: 3,
  delayMs: (attempt) => attempt * 1000,
  sleep: async (milliseconds) => {
    sleeps.push(milliseconds);
  },
};

const silentLogger: ArchiveArtifactsDependencies['logger'] = {
  info: () => {},
  warn: () => {},
  appendKeys: () => {},
  removeKeys: () => {},
};

function handlerFor(
  store: ArchiveStore,
  fetch: GuardedFetch,
  overrides: Partial<ArchiveArtifactsDependencies> = {},
) {
  return createArchiveArtifactsHandler({
    fetch,
    store,
    logger: silentLogger,
    retry: noWaitRetry,
    ...overrides,
  });
}

let directory: string;
let store: ArchiveStore;

beforeEach(async () => {
  sleeps.length = 0;
  directory = await mkdtemp(path.join(tmpdir(), 'archive-artifacts-'));
  store = createDirectoryStore(directory);
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('createArchiveArtifactsHandler', () => {
  it('archives every file of the batch', async () => {
    const files = servedFiles();
    const host = fileHost(files);
    await writePlan(store, entriesFor(files, 25));

    const summary = await handlerFor(store, host.fetch)({ job, batch: 0 });

    const totalBytes = [...files.values()].reduce((sum, file) => sum + file.bytes.length, 0);
    expect(summary).toEqual<BatchSummary>({
      batch: 0,
      filesArchived: 5,
      filesSkipped: 0,
      bytesArchived: totalBytes,
      filesFailed: 0,
      failures: [],
    });
    for (const [index, [url, file]] of [...files.entries()].entries()) {
      const key = entriesFor(files, 25)[index]?.key ?? '';
      const stored = await readFile(path.join(directory, prefix, key));
      expect(sha256(stored), url).toBe(sha256(file.bytes));
    }
  });

  it('writes the manifest part', async () => {
    const files = servedFiles();
    await writePlan(store, entriesFor(files, 25));

    await handlerFor(store, fileHost(files).fetch)({ job, batch: 0 });

    const part = await readPart(store, 0);
    const tif = files.get(`${filesBase}/a/ndvi.tif`);
    expect(part.part).toBe('batch-0');
    expect(part.records).toHaveLength(5);
    expect(part.records[1]).toEqual<ManifestRecord>({
      key: 'results/a/ndvi.tif',
      source: `${filesBase}/a/ndvi.tif`,
      kind: 'asset',
      bytes: 700_001,
      sha256: sha256(tif?.bytes ?? new Uint8Array()),
      contentType: 'image/tiff',
      outcome: 'archived',
    });
    expect(part.records[0]).toMatchObject({ key: 'logs/ndvi.log', kind: 'log', contentType: 'text/plain' });
  });

  it('copies only its own batch', async () => {
    const files = servedFiles();
    const host = fileHost(files);
    await writePlan(store, entriesFor(files, 2), 2);

    const summary = await handlerFor(store, host.fetch)({ job, batch: 1 });

    expect(summary.filesArchived).toBe(2);
    expect(host.requests).toEqual([`${filesBase}/a/thumb.png`, `${filesBase}/b/ndvi.tif`]);
    expect((await readPart(store, 1)).records.map((record) => record.key)).toEqual([
      'results/a/thumb.png',
      'results/b/ndvi.tif',
    ]);
    expect(await store.head(`${prefix}logs/ndvi.log`)).toBeNull();
  });

  it('reads only its batch plan object', async () => {
    const files = servedFiles();
    const host = fileHost(files);
    const entries = entriesFor(files, 2);
    const batchPlan: BatchPlan = {
      jobId,
      workspace: 'demo-ws',
      createdAt: '2026-11-30T09:33:00.000Z',
      batch: 1,
      entries: entries.filter((entry) => entry.batch === 1),
    };
    await store.putObject(`${prefix}plan/batch-00001.json`, JSON.stringify(batchPlan), {
      contentType: 'application/json',
    });
    const reads: string[] = [];
    const counting: ArchiveStore = {
      ...store,
      getObject: (key) => {
        reads.push(key);
        return store.getObject(key);
      },
    };

    const summary = await handlerFor(counting, host.fetch)({ job, batch: 1 });

    expect(summary.filesArchived).toBe(2);
    expect(host.requests).toEqual([`${filesBase}/a/thumb.png`, `${filesBase}/b/ndvi.tif`]);
    expect(reads).toEqual([`${prefix}plan/batch-00001.json`, `${prefix}manifest-parts/batch-00001.json`]);
  });

  it('rejects an invalid batch plan object', async () => {
    await store.putObject(`${prefix}plan/batch-00000.json`, '{"batch": 0}', {
      contentType: 'application/json',
    });

    await expect(handlerFor(store, fileHost(servedFiles()).fetch)({ job, batch: 0 })).rejects.toThrow(
      /archive plan at .*plan\/batch-00000\.json is invalid/,
    );
  });

  it('skips files on a second run', async () => {
    const files = servedFiles();
    await writePlan(store, entriesFor(files, 25));
    const first = await handlerFor(store, fileHost(files).fetch)({ job, batch: 0 });
    const firstPart = await readPart(store, 0);
    const host = fileHost(files);

    const second = await handlerFor(store, host.fetch)({ job, batch: 0 });

    expect(host.requests).toEqual([]);
    expect(second).toEqual<BatchSummary>({
      batch: 0,
      filesArchived: 0,
      filesSkipped: 5,
      bytesArchived: first.bytesArchived,
      filesFailed: 0,
      failures: [],
    });
    const secondPart = await readPart(store, 0);
    expect(secondPart.records).toEqual(
      firstPart.records.map((record) => ({ ...record, outcome: 'skipped' })),
    );
  });

  it('copies again when the stored size changed', async () => {
    const files = servedFiles();
    await writePlan(store, entriesFor(files, 25));
    await handlerFor(store, fileHost(files).fetch)({ job, batch: 0 });
    await writeFile(path.join(directory, prefix, 'results/b/thumb.png'), 'truncated');
    const host = fileHost(files);

    const summary = await handlerFor(store, host.fetch)({ job, batch: 0 });

    expect(host.requests).toEqual([`${filesBase}/b/thumb.png`]);
    expect(summary).toMatchObject({ filesArchived: 1, filesSkipped: 4 });
    expect((await readFile(path.join(directory, prefix, 'results/b/thumb.png'))).length).toBe(3_000);
  });

  it('retries files that failed before', async () => {
    const files = servedFiles();
    await writePlan(store, entriesFor(files, 25));
    const missing = new Map(files);
    missing.delete(`${filesBase}/a/thumb.png`);
    const first = await handlerFor(store, fileHost(missing).fetch)({ job, batch: 0 });
    const host = fileHost(files);

    const second = await handlerFor(store, host.fetch)({ job, batch: 0 });

    expect(first).toMatchObject({ filesArchived: 4, filesFailed: 1 });
    expect(host.requests).toEqual([`${filesBase}/a/thumb.png`]);
    expect(second).toMatchObject({ filesArchived: 1, filesSkipped: 4, filesFailed: 0 });
  });

  it('reports failed files without failing the batch', async () => {
    const files = servedFiles();
    const entries = entriesFor(files, 25);
    const html = () => new Response('<html>Sign in</html>', { headers: { 'content-type': 'text/html' } });
    const wrongSize = () => new Response(patternBytes(10, 9), { headers: { 'content-type': 'image/png' } });
    const host = fileHost(files, {
      [`${filesBase}/a/ndvi.tif`]: [html],
      [`${filesBase}/b/thumb.png`]: [wrongSize],
    });
    await writePlan(store, entries);

    const summary = await handlerFor(store, host.fetch)({ job, batch: 0 });

    expect(summary.filesArchived).toBe(3);
    expect(summary.filesFailed).toBe(2);
    expect(summary.failures).toEqual([
      {
        key: 'results/a/ndvi.tif',
        url: `${filesBase}/a/ndvi.tif`,
        reason: 'received an HTML page (Content-Type text/html) instead of the file',
      },
      {
        key: 'results/b/thumb.png',
        url: `${filesBase}/b/thumb.png`,
        reason: 'size mismatch: received 10 bytes but file:size is 3000',
      },
    ]);
    expect(await store.head(`${prefix}results/a/ndvi.tif`)).toBeNull();
    expect(await store.head(`${prefix}results/b/thumb.png`)).toBeNull();
    const records = (await readPart(store, 0)).records;
    expect(records.filter((record) => record.outcome === 'failed').map((record) => record.key)).toEqual([
      'results/a/ndvi.tif',
      'results/b/thumb.png',
    ]);
  });

  it('retries transient failures', async () => {
    const files = servedFiles();
    const busy = () => new Response('busy', { status: 503 });
    const host = fileHost(files, { [`${filesBase}/a/thumb.png`]: [busy, busy] });
    await writePlan(store, entriesFor(files, 25));

    const summary = await handlerFor(store, host.fetch)({ job, batch: 0 });

    expect(summary).toMatchObject({ filesArchived: 5, filesFailed: 0 });
    expect(host.requests.filter((url) => url === `${filesBase}/a/thumb.png`)).toHaveLength(3);
    expect(sleeps).toEqual([1000, 2000]);
  });

  it('does not retry permanent failures', async () => {
    const files = servedFiles();
    files.delete(`${filesBase}/a/thumb.png`);
    const host = fileHost(files);
    await writePlan(store, entriesFor(servedFiles(), 25));

    const summary = await handlerFor(store, host.fetch)({ job, batch: 0 });

    expect(summary.failures).toEqual([
      { key: 'results/a/thumb.png', url: `${filesBase}/a/thumb.png`, reason: 'HTTP 404' },
    ]);
    expect(host.requests.filter((url) => url === `${filesBase}/a/thumb.png`)).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('copies at most four files at once', async () => {
    const files = new Map<string, ServedFile>();
    for (let index = 0; index < 12; index += 1) {
      files.set(`${filesBase}/many/f${index}.bin`, {
        bytes: patternBytes(1000, index),
        contentType: 'application/octet-stream',
      });
    }
    const host = fileHost(files);
    let storing = 0;
    let maxStoring = 0;
    const countingStore: ArchiveStore = {
      ...store,
      async putStream(key, body, options) {
        storing += 1;
        maxStoring = Math.max(maxStoring, storing);
        try {
          return await store.putStream(key, body, options);
        } finally {
          storing -= 1;
        }
      },
    };
    await writePlan(store, entriesFor(files, 25));

    const summary = await handlerFor(countingStore, host.fetch)({ job, batch: 0 });

    expect(summary.filesArchived).toBe(12);
    expect(host.maxInFlight).toBe(4);
    expect(maxStoring).toBeLessThanOrEqual(4);
  });

  it('records metrics', async () => {
    const files = servedFiles();
    await writePlan(store, entriesFor(files, 25));
    const recorded: Array<[string, string, number]> = [];

    await handlerFor(store, fileHost(files).fetch, {
      metrics: { addMetric: (name, unit, value) => recorded.push([name, String(unit), value]) },
    })({ job, batch: 0 });

    expect(recorded).toEqual([
      ['FilesArchived', 'Count', 5],
      ['FilesSkipped', 'Count', 0],
      ['FilesFailed', 'Count', 0],
      ['BytesArchived', 'Bytes', [...files.values()].reduce((sum, file) => sum + file.bytes.length, 0)],
    ]);
  });

  it('rejects an unsafe key in the plan', async () => {
    const files = servedFiles();
    const entries = entriesFor(files, 25);
    entries[0] = { ...(entries[0] as PlanEntry), key: '../../outside.log' };
    await writePlan(store, entries);

    const summary = await handlerFor(store, fileHost(files).fetch)({ job, batch: 0 });

    expect(summary.failures[0]?.reason).toMatch(/^unsafe archive key "\.\.\/\.\.\/outside\.log"/);
    expect(await createDirectoryStore(path.dirname(directory)).head('outside.log')).toBeNull();
  });
});

describe('createArchiveArtifactsHandler errors', () => {
  it('throws when the plan is missing', async () => {
    const handler = handlerFor(store, fileHost(servedFiles()).fetch);

    await expect(handler({ job, batch: 0 })).rejects.toThrow(MonitorError);
    await expect(handler({ job, batch: 0 })).rejects.toThrow(
      /archive plan not found at .*plan\.json: the Plan archive step must run first/,
    );
  });

  it('throws when the plan is invalid', async () => {
    await store.putObject(`${prefix}plan.json`, '{"entries": "none"}', { contentType: 'application/json' });

    await expect(handlerFor(store, fileHost(servedFiles()).fetch)({ job, batch: 0 })).rejects.toThrow(
      /archive plan at .* is invalid/,
    );
  });

  it('throws when the store fails', async () => {
    const files = servedFiles();
    await writePlan(store, entriesFor(files, 25));
    const failingStore: ArchiveStore = {
      ...store,
      putStream: async () => {
        throw new Error('SlowDown: reduce your request rate');
      },
    };

    await expect(handlerFor(failingStore, fileHost(files).fetch)({ job, batch: 0 })).rejects.toThrow(
      'SlowDown',
    );
  });

  it('rejects invalid input', async () => {
    const handler = handlerFor(store, fileHost(servedFiles()).fetch);

    for (const batch of [-1, 1.5, Number.NaN, '0' as unknown as number]) {
      await expect(handler({ job, batch }), String(batch)).rejects.toThrow(InvalidInputError);
    }
    await expect(handler({ job: { ...job, workspace: '../x' }, batch: 0 })).rejects.toThrow(/job\.workspace/);
  });

  it('reads an unreadable earlier part as absent', async () => {
    const files = servedFiles();
    await writePlan(store, entriesFor(files, 25));
    await store.putObject(`${prefix}manifest-parts/batch-00000.json`, 'not json', {
      contentType: 'application/json',
    });
    const host = fileHost(files);

    const summary = await handlerFor(store, host.fetch)({ job, batch: 0 });

    expect(summary.filesArchived).toBe(5);
    expect(host.requests).toHaveLength(5);
  });
});

describe('plan and archive again', () => {
  it('skips files an earlier run archived in another batch', async () => {
    const files = servedFiles();
    const item = {
      type: 'Feature',
      stac_version: '1.0.0',
      id: 'scene',
      links: [],
      assets: Object.fromEntries(
        ['a/ndvi.tif', 'a/thumb.png', 'b/ndvi.tif', 'b/thumb.png'].map((path) => [
          path.replace('/', '-'),
          { href: `${filesBase}/${path}`, type: files.get(`${filesBase}/${path}`)?.contentType },
        ]),
      ),
    };
    const documents: Record<string, unknown> = {
      [jobUrl]: {
        jobID: jobId,
        status: 'successful',
        links: [
          { rel: 'http://www.opengis.net/def/rel/ogc/1.0/results', href: `${jobUrl}/results` },
          { rel: 'related', type: 'text/plain', href: `${jobUrl}/ndvi.log` },
        ],
      },
      [`${jobUrl}/results`]: {
        ...resultsCollection,
        links: [{ rel: 'item', href: `${filesBase}/scene.json` }],
      },
      [`${filesBase}/scene.json`]: item,
    };
    const host = fileHost(files);
    const fetch: GuardedFetch = async (url, init) => {
      const document = documents[url];
      return document === undefined
        ? host.fetch(url, init)
        : new Response(JSON.stringify(document), { headers: { 'content-type': 'application/json' } });
    };
    const planWith = (batchSize: number) =>
      createPlanArchiveHandler({ fetch, store, clock: { now: () => 0 }, logger: silentLogger, batchSize })({
        job,
        check: null,
      });
    const archive = handlerFor(store, fetch);

    const first = await planWith(2);
    for (const batch of first.batches) await archive({ job, batch });
    const copies = host.requests.length;
    // With three files per batch instead of two, every file but the first lands in another batch.
    const second = await planWith(3);
    const summaries = [];
    for (const batch of second.batches) summaries.push(await archive({ job, batch }));

    expect(first.batches).toEqual([0, 1, 2]);
    expect(second.batches).toEqual([0, 1]);
    expect(copies).toBe(5);
    expect(host.requests).toHaveLength(5);
    expect(summaries.map((summary) => [summary.filesArchived, summary.filesSkipped])).toEqual([
      [0, 3],
      [0, 2],
    ]);
    const plan = JSON.parse(
      new TextDecoder().decode((await store.getObject(`${prefix}plan.json`)) ?? new Uint8Array()),
    ) as ArchivePlan;
    expect(plan.entries[3]?.archived).toEqual({
      bytes: 650_000,
      sha256: sha256(files.get(`${filesBase}/b/ndvi.tif`)?.bytes ?? new Uint8Array()),
      contentType: 'image/tiff',
    });
  });
});

describe('plan and archive against s3rver', () => {
  let local: LocalS3;

  beforeAll(async () => {
    local = await startLocalS3();
  });

  afterAll(async () => {
    await local.close();
  });

  it('archives the planned files and skips them on a second run', async () => {
    const s3Store = createS3Store({ client: local.client, bucket: local.bucket, prefix: 'eodh' });
    const files = servedFiles();
    const tif = files.get(`${filesBase}/a/ndvi.tif`)?.bytes ?? new Uint8Array();
    const item = {
      type: 'Feature',
      stac_version: '1.0.0',
      id: 'ndvi 2026',
      links: [{ rel: 'self', href: `${filesBase}/catalog/ndvi.json` }],
      assets: {
        data: {
          href: `${filesBase}/a/ndvi.tif`,
          type: 'image/tiff',
          'file:size': tif.length,
          'file:checksum': `1220${sha256(tif)}`,
        },
        thumbnail: { href: `${filesBase}/a/thumb.png`, type: 'image/png' },
      },
    };
    const status = {
      jobID: jobId,
      status: 'successful',
      links: [
        { rel: 'http://www.opengis.net/def/rel/ogc/1.0/results', href: `${jobUrl}/results` },
        { rel: 'related', type: 'text/plain', href: `${jobUrl}/ndvi.log` },
      ],
    };
    const documents: Record<string, unknown> = {
      [jobUrl]: status,
      [`${jobUrl}/results`]: {
        ...resultsCollection,
        links: [{ rel: 'item', href: `${filesBase}/catalog/ndvi.json` }],
      },
      [`${filesBase}/catalog/ndvi.json`]: item,
    };
    const host = fileHost(files);
    const fetch: GuardedFetch = async (url, init) => {
      const document = documents[url];
      return document === undefined
        ? host.fetch(url, init)
        : new Response(JSON.stringify(document), { headers: { 'content-type': 'application/json' } });
    };
    const plan = await createPlanArchiveHandler({
      fetch,
      store: s3Store,
      clock: { now: () => 0 },
      logger: silentLogger,
      retry: noWaitRetry,
    })({ job, check: null });
    const archive = handlerFor(s3Store, fetch);

    const first = await archive({ job, batch: 0 });
    const requestsAfterFirst = host.requests.length;
    const second = await archive({ job, batch: 0 });

    expect(plan).toMatchObject({
      files: 3,
      batches: [0],
      failureCount: 0,
      archiveUri: `s3://${local.bucket}/eodh/${prefix}`,
    });
    expect(first).toMatchObject({ filesArchived: 3, filesSkipped: 0, filesFailed: 0 });
    expect(second).toMatchObject({ filesArchived: 0, filesSkipped: 3, bytesArchived: first.bytesArchived });
    expect(host.requests.length).toBe(requestsAfterFirst);
    const stored = await s3Store.getObject(`${prefix}results/ndvi 2026/ndvi.tif`);
    expect(sha256(stored ?? new Uint8Array())).toBe(sha256(tif));
    expect((await s3Store.head(`${prefix}results/ndvi 2026/ndvi.tif`))?.sha256).toBe(sha256(tif));
    const storedItem = JSON.parse(
      new TextDecoder().decode((await s3Store.getObject(`${prefix}results/ndvi 2026.json`)) ?? undefined),
    );
    expect(storedItem.assets.data.href).toBe('./ndvi%202026/ndvi.tif');
    expect((await s3Store.list(prefix)).sort()).toEqual(
      [
        'logs/ndvi.log',
        'manifest-parts/batch-00000.json',
        'manifest-parts/documents.json',
        'plan.json',
        'plan/batch-00000.json',
        'results/collection.json',
        'results/ndvi 2026.json',
        'results/ndvi 2026/ndvi.tif',
        'results/ndvi 2026/thumb.png',
        'status.json',
      ].map((key) => `${prefix}${key}`),
    );
  });
});

describe('defaultArchiveArtifactsDependencies', () => {
  it('builds the S3 store from the environment', () => {
    const env = { ARCHIVE_BUCKET: 'team-archive', EODH_TOKEN: 'token' };

    const dependencies = defaultArchiveArtifactsDependencies(readMonitorConfig(env), env);

    expect(dependencies.store.location).toBe('s3://team-archive/');
    expect(dependencies.metrics).toBeDefined();
  });

  it('rejects a missing bucket', () => {
    expect(() => defaultArchiveArtifactsDependencies(readMonitorConfig({}), {})).toThrow(/ARCHIVE_BUCKET/);
    expect(() => defaultArchiveArtifactsDependencies(readMonitorConfig({}), {})).toThrow(ConfigurationError);
  });
});
