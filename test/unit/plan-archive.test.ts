import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDirectoryStore } from '../../lambdas/adapters/directory-store';
import type { RetryPolicy } from '../../lambdas/core/concurrency';
import { readMonitorConfig } from '../../lambdas/core/config';
import { ConfigurationError, InvalidInputError } from '../../lambdas/core/errors';
import { assertSafeKey } from '../../lambdas/core/keys';
import type { ManifestPart } from '../../lambdas/core/manifest';
import { type ArchivePlan, type BatchPlan, planArchive } from '../../lambdas/core/plan';
import type { ArchiveStore, GuardedFetch } from '../../lambdas/core/ports';
import type { JsonObject } from '../../lambdas/core/stac';
import type { CheckResult, JobContext, PlanSummary } from '../../lambdas/core/state';
import {
  createPlanArchiveHandler,
  defaultPlanArchiveDependencies,
  type PlanArchiveDependencies,
} from '../../lambdas/plan-archive';
import resultItem from '../fixtures/eodh/result-item.json';
import resultsCollection from '../fixtures/eodh/results-collection.json';
import { fixtureJob } from './support/fixtures';

const jobId = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';
const jobUrl = `https://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/${jobId}`;
const resultsUrl = `${jobUrl}/results`;
const catalogBase = `https://demo-ws.eodatahub-workspaces.org.uk/files/workspaces-eodhp/processing-results/ndvi-calc/catalog/col_${jobId}`;
const filesBase =
  'https://demo-ws.eodatahub-workspaces.org.uk/files/workspaces-eodhp/processing-results/ndvi-calc';
const item1Url = `${catalogBase}/ndvi-20260601.json`;
const item2Url = `${catalogBase}/ndvi-20260615.json`;
const prefix = `demo-ws/${jobId}/`;

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/eodh/${name}`, import.meta.url));
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const clone = <T>(value: T): T => structuredClone(value);

const job: JobContext = fixtureJob({
  jobId,
  workspace: 'demo-ws',
  statusUrl: jobUrl,
  monitorStartedAt: '2026-11-30T09:12:10.000Z',
  generation: 0,
});

function checkResult(overrides: Partial<CheckResult> = {}): CheckResult {
  return {
    status: 'successful',
    rawStatus: 'successful',
    progress: null,
    message: 'ZOO-Kernel successfully run your service!',
    processId: 'ndvi-calc',
    created: '2026-11-30T09:12:04.311Z',
    started: '2026-11-30T09:12:04.311Z',
    finished: '2026-11-30T09:31:57.640Z',
    updated: '2026-11-30T09:31:57.402Z',
    resultsUrl,
    logUrls: 2,
    checks: 12,
    consecutiveTransientErrors: 0,
    consecutiveAuthErrors: 0,
    lastError: null,
    lastCheckedAt: '2026-11-30T09:32:10.000Z',
    terminalSeenAt: '2026-11-30T09:32:10.000Z',
    next: 'archive',
    giveUpReason: null,
    nextCheckSeconds: 1,
    ...overrides,
  };
}

type Route = () => Response;

const json = (value: unknown, status = 200, contentType = 'application/json'): Route => {
  const body = typeof value === 'string' || value instanceof Uint8Array ? value : JSON.stringify(value);
  return () => new Response(body, { status, headers: { 'content-type': contentType } });
};

const status = (code: number): Route =>
  json({ type: 'about:blank', status: code }, code, 'application/problem+json');

function fakeFetch(routes: Record<string, Route | Route[]>) {
  const requests: string[] = [];
  const fetch: GuardedFetch = async (url) => {
    requests.push(url);
    const route = routes[url];
    if (Array.isArray(route)) {
      const next = route.length > 1 ? route.shift() : route[0];
      if (next !== undefined) {
        return next();
      }
    } else if (route !== undefined) {
      return route();
    }
    return new Response('not found', { status: 404 });
  };
  return { fetch, requests };
}

/** Item 2 of the fixture collection: item 1 with its own id and asset folder. */
function secondItem(): JsonObject {
  const item = clone(resultItem) as JsonObject & typeof resultItem;
  item.id = 'ndvi-20260615';
  item.links[1] = { rel: 'self', type: 'application/geo+json', href: item2Url };
  item.assets.data.href = `${filesBase}/ndvi-20260615/ndvi.tif`;
  item.assets.thumbnail.href = `${filesBase}/ndvi-20260615/ndvi-thumb.png`;
  return item;
}

function fixtureRoutes(): Record<string, Route | Route[]> {
  return {
    [jobUrl]: json(fixture('status-successful.json')),
    [resultsUrl]: json(resultsCollection),
    [item1Url]: json(resultItem, 200, 'application/geo+json'),
    [item2Url]: json(secondItem(), 200, 'application/geo+json'),
  };
}

interface LogLine {
  level: string;
  message: string;
  attributes: Record<string, unknown>;
}

function recordingLogger() {
  const lines: LogLine[] = [];
  const keys: Record<string, unknown> = {};
  const logger: PlanArchiveDependencies['logger'] = {
    info: (message: string, attributes: Record<string, unknown>) => {
      lines.push({ level: 'info', message, attributes: { ...keys, ...attributes } });
    },
    warn: (message: string, attributes: Record<string, unknown>) => {
      lines.push({ level: 'warn', message, attributes: { ...keys, ...attributes } });
    },
    appendKeys: (attributes: Record<string, unknown>) => {
      Object.assign(keys, attributes);
    },
    removeKeys: (names: string[]) => {
      for (const name of names) {
        delete keys[name];
      }
    },
  } as PlanArchiveDependencies['logger'];
  return { logger, lines, keys };
}

const sleeps: number[] = [];
const noWaitRetry: RetryPolicy = {
  attempts: 3,
  delayMs: (attempt) => attempt * 1000,
  sleep: async (milliseconds) => {
    sleeps.push(milliseconds);
  },
};

let workDirectory: string;
let root: string;
let store: ArchiveStore;

beforeEach(async () => {
  sleeps.length = 0;
  workDirectory = await mkdtemp(path.join(tmpdir(), 'plan-archive-'));
  root = path.join(workDirectory, 'archive');
  await mkdir(root);
  store = createDirectoryStore(root);
});

afterEach(async () => {
  await rm(workDirectory, { recursive: true, force: true });
});

function handlerWith(
  routes: Record<string, Route | Route[]>,
  overrides: Partial<PlanArchiveDependencies> = {},
) {
  const { fetch, requests } = fakeFetch(routes);
  const { logger, lines, keys } = recordingLogger();
  const handler = createPlanArchiveHandler({
    fetch,
    store,
    clock: { now: () => Date.parse('2026-11-30T09:33:00.000Z') },
    logger,
    retry: noWaitRetry,
    ...overrides,
  });
  return { handler, requests, lines, keys };
}

const readJson = async <T = JsonObject>(key: string): Promise<T> =>
  JSON.parse(await readFile(path.join(root, prefix, key), 'utf8')) as T;

/** Lists every key in the store relative to the job prefix, asserting each is safe and under it. */
async function archivedKeys(): Promise<string[]> {
  const keys = await store.list('');
  for (const key of keys) {
    expect(() => assertSafeKey(key), key).not.toThrow();
    expect(key.startsWith(prefix), key).toBe(true);
  }
  // Nothing was written next to the archive root.
  expect(await readdir(workDirectory)).toEqual(['archive']);
  return keys.map((key) => key.slice(prefix.length));
}

/**
 * Resolves every link and asset href of every archived STAC document as a STAC client would,
 * and returns the relative ones that do not point at an archived object.
 */
async function unresolvedArchiveHrefs(): Promise<string[]> {
  const keys = new Set(await archivedKeys());
  const missing: string[] = [];
  for (const key of keys) {
    if (!key.startsWith('results/') || !key.endsWith('.json')) {
      continue;
    }
    const document = await readJson(key);
    const base = new URL(`file:///archive/${key}`);
    const hrefs = [
      ...((document.links as Array<{ href: string }> | undefined) ?? []).map((link) => link.href),
      ...Object.values((document.assets as Record<string, { href: string }> | undefined) ?? {}).map(
        (asset) => asset.href,
      ),
    ];
    for (const href of hrefs) {
      if (typeof href !== 'string' || !href.startsWith('./')) {
        continue;
      }
      const target = decodeURIComponent(new URL(href, base).pathname).replace('/archive/', '');
      if (!keys.has(target)) {
        missing.push(`${key} -> ${href}`);
      }
    }
  }
  return missing;
}

describe('createPlanArchiveHandler', () => {
  it('archives the fixture job', async () => {
    const { handler, requests } = handlerWith(fixtureRoutes());

    const summary = await handler({ job, check: checkResult() });

    const sizes = await Promise.all(
      [
        'status.json',
        'results/collection.json',
        'results/ndvi-20260601.json',
        'results/ndvi-20260615.json',
      ].map(async (key) => (await readFile(path.join(root, prefix, key))).length),
    );
    expect(summary).toEqual<PlanSummary>({
      archiveUri: path.join(root, prefix),
      planKey: `${prefix}plan.json`,
      batches: [0],
      files: 6,
      documentsArchived: 4,
      documentBytes: sizes.reduce((sum, size) => sum + size, 0),
      failures: [],
      failureCount: 0,
    });
    expect(requests).toEqual([jobUrl, resultsUrl, item1Url, item2Url]);
    expect(await archivedKeys()).toEqual([
      'manifest-parts/documents.json',
      'plan.json',
      'plan/batch-00000.json',
      'results/collection.json',
      'results/ndvi-20260601.json',
      'results/ndvi-20260615.json',
      'status.json',
    ]);
  });

  it('stores the status document verbatim', async () => {
    const { handler } = handlerWith(fixtureRoutes());

    await handler({ job, check: checkResult() });

    expect(await readFile(path.join(root, prefix, 'status.json'))).toEqual(fixture('status-successful.json'));
  });

  it('writes the plan with logs first', async () => {
    const { handler } = handlerWith(fixtureRoutes());

    await handler({ job, check: checkResult() });

    const plan = await readJson<ArchivePlan>('plan.json');
    expect(plan).toEqual<ArchivePlan>({
      jobId,
      workspace: 'demo-ws',
      createdAt: '2026-11-30T09:33:00.000Z',
      batchSize: 25,
      entries: [
        { key: 'logs/ndvi.log', url: `${jobUrl}/ndvi.log`, kind: 'log', batch: 0, contentType: 'text/plain' },
        {
          key: 'logs/node_stage_out.log',
          url: `${jobUrl}/node_stage_out.log`,
          kind: 'log',
          batch: 0,
          contentType: 'text/plain',
        },
        {
          key: 'results/ndvi-20260601/ndvi.tif',
          url: `${filesBase}/ndvi-20260601/ndvi.tif`,
          kind: 'asset',
          batch: 0,
          expectedBytes: 48_213_377,
          contentType: 'image/tiff; application=geotiff; profile=cloud-optimized',
        },
        {
          key: 'results/ndvi-20260601/ndvi-thumb.png',
          url: `${filesBase}/ndvi-20260601/ndvi-thumb.png`,
          kind: 'asset',
          batch: 0,
          expectedBytes: 91_240,
          contentType: 'image/png',
        },
        {
          key: 'results/ndvi-20260615/ndvi.tif',
          url: `${filesBase}/ndvi-20260615/ndvi.tif`,
          kind: 'asset',
          batch: 0,
          expectedBytes: 48_213_377,
          contentType: 'image/tiff; application=geotiff; profile=cloud-optimized',
        },
        {
          key: 'results/ndvi-20260615/ndvi-thumb.png',
          url: `${filesBase}/ndvi-20260615/ndvi-thumb.png`,
          kind: 'asset',
          batch: 0,
          expectedBytes: 91_240,
          contentType: 'image/png',
        },
      ],
    });
  });

  it('records documents in the manifest part', async () => {
    const { handler } = handlerWith(fixtureRoutes());

    await handler({ job, check: checkResult() });

    const part = await readJson<ManifestPart>('manifest-parts/documents.json');
    expect(part.part).toBe('documents');
    expect(part.records.map((record) => [record.key, record.kind, record.source, record.outcome])).toEqual([
      ['status.json', 'status', jobUrl, 'archived'],
      ['results/ndvi-20260601.json', 'item', null, 'archived'],
      ['results/ndvi-20260615.json', 'item', null, 'archived'],
      ['results/collection.json', 'results', null, 'archived'],
    ]);
    for (const record of part.records) {
      const bytes = await readFile(path.join(root, prefix, record.key));
      expect(record.bytes, record.key).toBe(bytes.length);
      expect(record.sha256, record.key).toBe(sha256(bytes));
    }
  });

  it('rewrites the collection and items', async () => {
    const { handler } = handlerWith(fixtureRoutes());

    await handler({ job, check: checkResult() });

    const collection = await readJson('results/collection.json');
    expect(
      (collection.links as Array<{ rel: string; href: string }>).map((link) => [link.rel, link.href]),
    ).toEqual([
      ['root', `${filesBase}.json`],
      ['parent', `${filesBase}/catalog.json`],
      ['self', './collection.json'],
      ['item', './ndvi-20260601.json'],
      ['item', './ndvi-20260615.json'],
    ]);
    expect(collection.extent).toEqual(resultsCollection.extent);
    const item = await readJson('results/ndvi-20260615.json');
    expect(item.id).toBe('ndvi-20260615');
    expect(item.assets).toEqual({
      data: { ...resultItem.assets.data, href: './ndvi-20260615/ndvi.tif' },
      thumbnail: { ...resultItem.assets.thumbnail, href: './ndvi-20260615/ndvi-thumb.png' },
    });
    expect(item.links).toEqual([
      { rel: 'collection', type: 'application/json', href: './collection.json' },
      { rel: 'self', type: 'application/geo+json', href: './ndvi-20260615.json' },
    ]);
  });

  it('resolves every document href inside the archive', async () => {
    const { handler } = handlerWith(fixtureRoutes());

    await handler({ job, check: checkResult() });

    expect(await unresolvedArchiveHrefs()).toEqual([
      // Assets are copied by the batches, not by the planner.
      'results/ndvi-20260601.json -> ./ndvi-20260601/ndvi.tif',
      'results/ndvi-20260601.json -> ./ndvi-20260601/ndvi-thumb.png',
      'results/ndvi-20260615.json -> ./ndvi-20260615/ndvi.tif',
      'results/ndvi-20260615.json -> ./ndvi-20260615/ndvi-thumb.png',
    ]);
  });

  it('notes files an earlier run archived', async () => {
    const logUrl = `${jobUrl}/ndvi.log`;
    const earlier: ManifestPart = {
      part: 'batch-7',
      records: [
        {
          key: 'logs/ndvi.log',
          source: logUrl,
          kind: 'log',
          bytes: 120,
          sha256: 'c'.repeat(64),
          contentType: 'text/plain',
          outcome: 'skipped',
        },
        {
          key: 'results/ndvi-20260601/ndvi.tif',
          source: 'https://elsewhere.example.org/ndvi.tif',
          kind: 'asset',
          bytes: 5,
          sha256: null,
          contentType: null,
          outcome: 'archived',
        },
        {
          key: 'results/ndvi-20260615/ndvi.tif',
          source: `${filesBase}/ndvi-20260615/ndvi.tif`,
          kind: 'asset',
          bytes: 0,
          sha256: null,
          contentType: null,
          outcome: 'failed',
          reason: 'HTTP 503',
        },
      ],
    };
    await store.putObject(`${prefix}manifest-parts/batch-00007.json`, JSON.stringify(earlier), {
      contentType: 'application/json',
    });
    await store.putObject(`${prefix}manifest-parts/batch-00008.json`, '{broken', {
      contentType: 'application/json',
    });
    const { handler, lines } = handlerWith(fixtureRoutes());

    await handler({ job, check: checkResult() });

    const plan = await readJson<ArchivePlan>('plan.json');
    const archived = Object.fromEntries(plan.entries.map((entry) => [entry.key, entry.archived]));
    expect(archived['logs/ndvi.log']).toEqual({
      bytes: 120,
      sha256: 'c'.repeat(64),
      contentType: 'text/plain',
    });
    // A record from another URL, or a failed one, is no evidence about the file planned now.
    expect(archived['results/ndvi-20260601/ndvi.tif']).toBeUndefined();
    expect(archived['results/ndvi-20260615/ndvi.tif']).toBeUndefined();
    expect(
      lines.find((line) => line.message === 'earlier manifest part is invalid, its files are copied again'),
    ).toMatchObject({
      level: 'warn',
      attributes: { key: `${prefix}manifest-parts/batch-00008.json` },
    });
  });

  it('splits files into batches', async () => {
    const { handler } = handlerWith(fixtureRoutes(), { batchSize: 4 });

    const summary = await handler({ job, check: checkResult() });

    expect(summary.batches).toEqual([0, 1]);
    const plan = await readJson<ArchivePlan>('plan.json');
    expect(plan.batchSize).toBe(4);
    expect(plan.entries.map((entry) => entry.batch)).toEqual([0, 0, 0, 0, 1, 1]);
    const first = await readJson<BatchPlan>('plan/batch-00000.json');
    const second = await readJson<BatchPlan>('plan/batch-00001.json');
    expect(first.batch).toBe(0);
    expect(first.entries).toEqual(plan.entries.slice(0, 4));
    expect(second.batch).toBe(1);
    expect(second.entries).toEqual(plan.entries.slice(4));
    expect(second.jobId).toBe(jobId);
  });

  it('rejects an invalid batch size', () => {
    for (const batchSize of [0, -1, 2.5]) {
      expect(() => handlerWith({}, { batchSize }), String(batchSize)).toThrow(RangeError);
    }
  });

  it('rejects invalid input', async () => {
    const { handler, requests } = handlerWith(fixtureRoutes());

    await expect(handler({ job: { ...job, jobId: '../etc' }, check: null })).rejects.toThrow(
      InvalidInputError,
    );
    await expect(handler({ job: { ...job, statusUrl: 'file:///etc/passwd' }, check: null })).rejects.toThrow(
      /job\.statusUrl/,
    );
    expect(requests).toEqual([]);
  });

  it('adds job keys to log lines', async () => {
    const { handler, lines, keys } = handlerWith(fixtureRoutes());

    await handler({ job, check: checkResult() });

    const planned = lines.find((line) => line.message === 'archive planned');
    expect(planned?.attributes).toMatchObject({ job_id: jobId, workspace: 'demo-ws', files: 6, batches: 1 });
    expect(keys).toEqual({});
  });
});

describe('createPlanArchiveHandler results', () => {
  it('plans no items for an empty results document', async () => {
    const { handler } = handlerWith({
      ...fixtureRoutes(),
      [resultsUrl]: json(fixture('results-empty.json')),
    });

    const summary = await handler({ job, check: checkResult() });

    expect(summary).toMatchObject({ files: 2, failureCount: 0, failures: [], documentsArchived: 2 });
    expect(await readFile(path.join(root, prefix, 'results/collection.json'), 'utf8')).toBe(
      fixture('results-empty.json').toString('utf8'),
    );
  });

  it('notes missing results of a failed job', async () => {
    const routes = { [jobUrl]: json(fixture('status-failed-bare.json')) };
    const { handler, requests, lines } = handlerWith(routes);

    const summary = await handler({ job, check: checkResult({ status: 'failed', resultsUrl: null }) });

    expect(summary).toMatchObject({ files: 0, batches: [], failureCount: 0, documentsArchived: 1 });
    expect(requests).toEqual([jobUrl]);
    expect(lines.find((line) => line.message === 'no results for a job that did not succeed')).toBeDefined();
  });

  it('notes a 500 for a failed job', async () => {
    const status500 = { ...JSON.parse(fixture('status-failed-exception.json').toString()) };
    status500.links.push({ rel: 'http://www.opengis.net/def/rel/ogc/1.0/results', href: resultsUrl });
    const { handler } = handlerWith({ [jobUrl]: json(status500), [resultsUrl]: status(500) });

    const summary = await handler({ job, check: checkResult({ status: 'failed' }) });

    expect(summary.failureCount).toBe(0);
    expect(summary.files).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('notes a job that produced no output', async () => {
    const noOutput = json(
      { type: 'NoApplicableCode', title: 'NoApplicableCode', detail: 'The service failed to execute.' },
      500,
      'application/json',
    );
    const { handler, lines } = handlerWith({ ...fixtureRoutes(), [resultsUrl]: noOutput });

    const summary = await handler({ job, check: checkResult() });

    expect(summary.failureCount).toBe(0);
    expect(summary.failures).toEqual([]);
    expect(summary.files).toBe(2);
    expect(summary.documentsArchived).toBe(1);
    expect(
      lines.find((line) => line.message === 'results endpoint reports that the job produced no output'),
    ).toMatchObject({
      level: 'info',
      attributes: { jobStatus: 'successful', reason: 'HTTP 500 NoApplicableCode' },
    });
  });

  it('fails missing results of a successful job', async () => {
    for (const code of [404, 500]) {
      const { handler } = handlerWith({ ...fixtureRoutes(), [resultsUrl]: status(code) });

      const summary = await handler({ job, check: checkResult() });

      expect(summary.failureCount, String(code)).toBe(1);
      expect(summary.failures[0]).toEqual({
        key: 'results/collection.json',
        url: resultsUrl,
        reason: `no results archived: the results document was not found (HTTP ${code})`,
      });
    }
  });

  it('fails a successful job without a results link', async () => {
    const { handler } = handlerWith({
      [jobUrl]: json(fixture('status-failed-bare.json').toString().replace('"failed"', '"successful"')),
    });

    const summary = await handler({ job, check: checkResult({ resultsUrl: null }) });

    expect(summary.failures).toEqual([
      {
        key: 'results/collection.json',
        url: jobUrl,
        reason: 'no results archived: the status document has no results link',
      },
    ]);
  });

  it('reports a rejected token', async () => {
    for (const code of [401, 403]) {
      const { handler } = handlerWith({ ...fixtureRoutes(), [resultsUrl]: status(code) });

      const summary = await handler({ job, check: checkResult() });

      expect(summary.failures[0]?.reason).toBe(
        `token rejected (HTTP ${code}) while fetching the results document`,
      );
    }
  });

  it('retries a busy results endpoint', async () => {
    const { handler, requests } = handlerWith({
      ...fixtureRoutes(),
      [resultsUrl]: [status(503), status(429), json(resultsCollection)],
    });

    const summary = await handler({ job, check: checkResult() });

    expect(summary.failureCount).toBe(0);
    expect(summary.files).toBe(6);
    expect(requests.filter((url) => url === resultsUrl)).toHaveLength(3);
    expect(sleeps).toEqual([1000, 2000]);
  });

  it('gives up after three attempts', async () => {
    const { handler, requests } = handlerWith({ ...fixtureRoutes(), [resultsUrl]: status(503) });

    const summary = await handler({ job, check: checkResult() });

    expect(requests.filter((url) => url === resultsUrl)).toHaveLength(3);
    expect(summary.failures[0]?.reason).toBe(
      'no results archived: the results document was not found (HTTP 503)',
    );
  });

  it('stores a non-STAC results document as received', async () => {
    const outputs = { ndvi: { href: `${filesBase}/ndvi.tif`, type: 'image/tiff' } };
    const { handler } = handlerWith({ ...fixtureRoutes(), [resultsUrl]: json(outputs) });

    const summary = await handler({ job, check: checkResult() });

    expect(await readJson('results/collection.json')).toEqual(outputs);
    expect(summary.failures[0]?.reason).toMatch(/^results document is not a STAC Catalog or Collection/);
    expect(summary.files).toBe(2);
  });

  it('reports invalid JSON results', async () => {
    const { handler } = handlerWith({ ...fixtureRoutes(), [resultsUrl]: json('{"type": "Collection",') });

    const summary = await handler({ job, check: checkResult() });

    expect(summary.failures[0]?.reason).toBe('results document is not a JSON object');
    expect((await archivedKeys()).includes('results/collection.json')).toBe(false);
  });

  it('falls back to the check when the status fetch fails', async () => {
    const { handler, requests } = handlerWith({ ...fixtureRoutes(), [jobUrl]: status(403) });

    const summary = await handler({ job, check: checkResult() });

    expect(requests).toEqual([jobUrl, resultsUrl, item1Url, item2Url]);
    expect(summary.files).toBe(4);
    expect(summary.failures).toEqual([
      {
        key: 'status.json',
        url: jobUrl,
        reason:
          'token rejected or job not found (HTTP 403) while fetching the status document, so no log files were archived',
      },
    ]);
    const part = await readJson<ManifestPart>('manifest-parts/documents.json');
    expect(part.records[0]).toMatchObject({ key: 'status.json', kind: 'status', outcome: 'failed' });
  });

  it('reports a failed item and keeps its link', async () => {
    const { handler } = handlerWith({ ...fixtureRoutes(), [item2Url]: status(404) });

    const summary = await handler({ job, check: checkResult() });

    expect(summary.files).toBe(4);
    expect(summary.failures).toEqual([
      { key: 'results/ndvi-20260615.json', url: item2Url, reason: 'STAC document not archived: HTTP 404' },
    ]);
    const collection = await readJson('results/collection.json');
    expect((collection.links as Array<{ href: string }>).map((link) => link.href)).toContain(item2Url);
  });

  it('lists only the first 20 failures', async () => {
    const links = Array.from({ length: 25 }, (_, index) => ({
      rel: 'item',
      href: `${catalogBase}/missing-${index}.json`,
    }));
    const { handler } = handlerWith({
      ...fixtureRoutes(),
      [resultsUrl]: json({ ...resultsCollection, links }),
    });

    const summary = await handler({ job, check: checkResult() });

    expect(summary.failureCount).toBe(25);
    expect(summary.failures).toHaveLength(20);
    expect(summary.failures[19]?.key).toBe('results/missing-19.json');
  });
});

describe('createPlanArchiveHandler names', () => {
  const oddItemUrl = `${catalogBase}/odd.json`;
  const twinUrl = `${catalogBase}/twin.json`;
  const longName = `${'very-long-name-'.repeat(20)}.tif`;

  function oddItem(): JsonObject {
    return {
      type: 'Feature',
      stac_version: '1.0.0',
      id: '../../evil item',
      links: [{ rel: 'self', href: oddItemUrl }],
      assets: {
        spaces: { href: `${filesBase}/out/NDVI%20map%20%2B%2010%25.tif`, type: 'image/tiff' },
        unicode: { href: `${filesBase}/out/%E6%9D%B1%E4%BA%AC.tif` },
        traversal: { href: `${filesBase}/out/..%2F..%2Fescape.tif` },
        folder: { href: `${filesBase}/out/` },
        long: { href: `${filesBase}/out/${longName}` },
        first: { href: `${filesBase}/a/data.tif` },
        second: { href: `${filesBase}/b/data.tif` },
        again: { href: `${filesBase}/a/data.tif` },
        control: { href: `${filesBase}/out/line%0Abreak.tif` },
        hidden: { href: `${filesBase}/out/.hidden` },
        relative: { href: '../rel/local.tif' },
        noHref: { type: 'image/png' },
        s3: { href: 's3://bucket/x.tif' },
      },
    };
  }

  function twinItem(): JsonObject {
    // The same id as the odd item, and one href shared with it.
    return {
      type: 'Feature',
      id: '../../evil item',
      links: [{ rel: 'self', href: twinUrl }],
      assets: { shared: { href: `${filesBase}/a/data.tif` } },
    };
  }

  function oddRoutes(): Record<string, Route | Route[]> {
    const collection = {
      ...resultsCollection,
      links: [
        ...resultsCollection.links.filter((link) => link.rel !== 'item'),
        { rel: 'item', href: oddItemUrl },
        { rel: 'item', href: twinUrl },
        { rel: 'item', href: `${catalogBase}/collection.json` },
      ],
    };
    return {
      [jobUrl]: json(fixture('status-successful.json')),
      [resultsUrl]: json(collection),
      [oddItemUrl]: json(oddItem()),
      [twinUrl]: json(twinItem()),
      [`${catalogBase}/collection.json`]: json({ type: 'Feature', id: 'collection', assets: {} }),
    };
  }

  it('sanitizes odd names into unique keys', async () => {
    const { handler } = handlerWith(oddRoutes());

    const summary = await handler({ job, check: checkResult() });

    const plan = await readJson<ArchivePlan>('plan.json');
    const assetKeys = plan.entries.filter((entry) => entry.kind === 'asset').map((entry) => entry.key);
    const longKey = assetKeys.find((key) => key.includes('very-long-name'));
    expect(assetKeys).toEqual([
      'results/_._evil item/NDVI map + 10%.tif',
      'results/_._evil item/東京.tif',
      'results/_._evil item/_._escape.tif',
      'results/_._evil item/folder',
      longKey,
      'results/_._evil item/data.tif',
      'results/_._evil item/data-2.tif',
      'results/_._evil item/line_break.tif',
      'results/_._evil item/hidden',
      'results/_._evil item/local.tif',
      'results/_._evil item-2/data.tif',
    ]);
    expect(longKey).toMatch(/^results\/_\._evil item\/(very-long-name-)+[a-z-]*-[0-9a-f]{8}\.tif$/);
    expect(Buffer.byteLength(longKey?.split('/').pop() ?? '', 'utf8')).toBeLessThanOrEqual(200);
    expect(new Set(assetKeys).size).toBe(assetKeys.length);
    expect(plan.entries.find((entry) => entry.key === 'results/_._evil item/local.tif')?.url).toBe(
      'https://demo-ws.eodatahub-workspaces.org.uk/files/workspaces-eodhp/processing-results/ndvi-calc/catalog/rel/local.tif',
    );
    expect(summary.failures.map((failure) => [failure.key, failure.reason])).toEqual([
      ['results/_._evil item/noHref', 'asset "noHref" has no href'],
      ['results/_._evil item/s3', 'asset "s3" href is not an http(s) URL'],
    ]);
    expect(await archivedKeys()).toContain('results/collection-2.json');
  });

  it('rewrites odd hrefs that resolve inside the archive', async () => {
    const { handler } = handlerWith(oddRoutes());

    await handler({ job, check: checkResult() });

    const item = await readJson('results/_._evil item.json');
    const assets = item.assets as Record<string, { href: string }>;
    expect(assets.spaces?.href).toBe('./_._evil%20item/NDVI%20map%20+%2010%25.tif');
    expect(assets.unicode?.href).toBe('./_._evil%20item/東京.tif');
    expect(assets.again?.href).toBe(assets.first?.href);
    expect(assets.s3?.href).toBe('s3://bucket/x.tif');
    const plan = await readJson<ArchivePlan>('plan.json');
    const unresolved = await unresolvedArchiveHrefs();
    // Every relative href points at a planned file or an archived document.
    for (const entry of unresolved) {
      const target = entry.split(' -> ')[1] ?? '';
      const key = decodeURIComponent(new URL(target, 'file:///archive/results/x.json').pathname).replace(
        '/archive/',
        '',
      );
      expect(
        plan.entries.map((planned) => planned.key),
        entry,
      ).toContain(key);
    }
  });
});

describe('createPlanArchiveHandler nested catalogs', () => {
  const tilesUrl = `${catalogBase}/tiles/catalog.json`;

  function nestedRoutes(): Record<string, Route | Route[]> {
    const collection = {
      ...resultsCollection,
      links: [
        ...resultsCollection.links.filter((link) => link.rel !== 'item'),
        { rel: 'item', href: item1Url },
        { rel: 'child', href: tilesUrl },
      ],
    };
    const tiles = {
      type: 'Catalog',
      stac_version: '1.0.0',
      id: 'tiles',
      description: 'Tiles',
      links: [
        { rel: 'root', href: `${catalogBase}.json` },
        { rel: 'parent', href: `${catalogBase}.json` },
        { rel: 'self', href: tilesUrl },
        { rel: 'item', href: './t1.json' },
        { rel: 'item', href: './t2.json' },
      ],
    };
    const tile = (id: string): JsonObject => ({
      type: 'Feature',
      stac_version: '1.0.0',
      id,
      links: [
        { rel: 'self', href: `./${id}.json` },
        { rel: 'parent', href: './catalog.json' },
        { rel: 'root', href: `${catalogBase}.json` },
      ],
      assets: { data: { href: `./${id}.tif`, type: 'image/tiff', 'file:size': 10 } },
    });
    return {
      ...fixtureRoutes(),
      [resultsUrl]: json(collection),
      [tilesUrl]: json(tiles),
      [`${catalogBase}/tiles/t1.json`]: json(tile('t1')),
      [`${catalogBase}/tiles/t2.json`]: json(tile('t2')),
    };
  }

  it('archives child catalogs with rewritten links', async () => {
    const { handler, requests } = handlerWith(nestedRoutes());

    const summary = await handler({ job, check: checkResult() });

    expect(summary.failureCount).toBe(0);
    expect(requests.slice(2)).toEqual([
      item1Url,
      tilesUrl,
      `${catalogBase}/tiles/t1.json`,
      `${catalogBase}/tiles/t2.json`,
    ]);
    const tiles = await readJson('results/tiles.json');
    expect((tiles.links as Array<{ href: string }>).map((link) => link.href)).toEqual([
      './collection.json',
      './collection.json',
      './tiles.json',
      './t1.json',
      './t2.json',
    ]);
    const tile = await readJson('results/t1.json');
    expect(tile.links).toEqual([
      { rel: 'self', href: './t1.json' },
      { rel: 'parent', href: './tiles.json' },
      { rel: 'root', href: './collection.json' },
    ]);
    expect((tile.assets as Record<string, { href: string }>).data?.href).toBe('./t1/t1.tif');
    const plan = await readJson<ArchivePlan>('plan.json');
    expect(plan.entries.find((entry) => entry.key === 'results/t1/t1.tif')?.url).toBe(
      `${catalogBase}/tiles/t1.tif`,
    );
    const collection = await readJson('results/collection.json');
    expect(
      (collection.links as Array<{ rel: string; href: string }>).filter((link) => link.rel === 'child'),
    ).toEqual([{ rel: 'child', href: './tiles.json' }]);
  });

  it('reports catalogs nested too deep', async () => {
    const routes: Record<string, Route | Route[]> = { [jobUrl]: json(fixture('status-successful.json')) };
    const levelUrl = (level: number): string =>
      level === 0 ? resultsUrl : `${catalogBase}/level-${level}.json`;
    for (let level = 0; level <= 6; level += 1) {
      routes[levelUrl(level)] = json({
        type: 'Catalog',
        stac_version: '1.0.0',
        id: `level-${level}`,
        links: [{ rel: 'child', href: levelUrl(level + 1) }],
      });
    }
    const { handler, requests } = handlerWith(routes);

    const summary = await handler({ job, check: checkResult() });

    expect(requests).not.toContain(levelUrl(5));
    expect(summary.failures).toEqual([
      {
        key: 'results/collection.json',
        url: resultsUrl,
        reason: '1 STAC links lead deeper than 4 levels below the results document and were not followed',
      },
    ]);
  });
});

describe('planArchive limits', () => {
  it('stops at the document limit', async () => {
    const links = Array.from({ length: 6 }, (_, index) => ({
      rel: 'item',
      href: `${catalogBase}/i${index}.json`,
    }));
    const routes: Record<string, Route | Route[]> = {
      ...fixtureRoutes(),
      [resultsUrl]: json({ ...resultsCollection, links }),
    };
    for (const link of links) {
      routes[link.href] = json({ type: 'Feature', id: path.basename(link.href, '.json'), assets: {} });
    }
    const { fetch, requests } = fakeFetch(routes);

    const summary = await planArchive(
      {
        fetch,
        store,
        clock: { now: () => 0 },
        logger: recordingLogger().logger,
        batchSize: 25,
        retry: noWaitRetry,
        limits: { maxDocuments: 4 },
      },
      job,
      checkResult(),
    );

    expect(requests.filter((url) => url.startsWith(`${catalogBase}/i`))).toHaveLength(3);
    expect(summary.failures).toEqual([
      {
        key: 'results/collection.json',
        url: resultsUrl,
        reason: 'the results contain more than 4 STAC documents, so 3 links were not followed',
      },
    ]);
  });
});

describe('createPlanArchiveHandler store errors', () => {
  it('rethrows a failed write', async () => {
    const failingStore: ArchiveStore = {
      ...createDirectoryStore(root),
      putObject: async () => {
        throw new Error('AccessDenied: not allowed to write');
      },
    };
    const { handler, keys } = handlerWith(fixtureRoutes(), { store: failingStore });

    await expect(handler({ job, check: checkResult() })).rejects.toThrow(
      'AccessDenied: not allowed to write',
    );
    expect(keys).toEqual({});
  });
});

describe('defaultPlanArchiveDependencies', () => {
  it('builds the S3 store from the environment', () => {
    const env = { ARCHIVE_BUCKET: 'team-archive', ARCHIVE_PREFIX: 'eodh', EODH_TOKEN: 'token' };

    const dependencies = defaultPlanArchiveDependencies(readMonitorConfig(env), env);

    expect(dependencies.store.location).toBe('s3://team-archive/eodh/');
    expect(dependencies.store.uriOf(prefix)).toBe(`s3://team-archive/eodh/${prefix}`);
  });

  it('rejects a missing bucket', () => {
    expect(() => defaultPlanArchiveDependencies(readMonitorConfig({}), {})).toThrow(ConfigurationError);
  });
});
