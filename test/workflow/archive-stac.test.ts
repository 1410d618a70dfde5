import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSafeKey } from '../../lambdas/core/keys';
import type { ScenarioInput } from '../../lib/sandbox';
import {
  downloadSource,
  exists,
  fileRecords,
  jobDirectory,
  readArchivedJson,
  readManifest,
  sha256,
  walkArchivedStac,
} from './archive-support';
import { cleanUpScenarios, definition, runScenario, type ScenarioRun } from './support';

beforeAll(() => {
  definition();
}, 60_000);

afterAll(async () => {
  await cleanUpScenarios();
});

/** Checks every archived file against its manifest digest and the bytes the sandbox serves. */
async function expectSourceBytes(run: ScenarioRun): Promise<void> {
  const manifest = await readManifest(run);
  for (const record of fileRecords(manifest).values()) {
    expect(() => assertSafeKey(record.key), record.key).not.toThrow();
    const archived = await readFile(join(jobDirectory(run), record.key));
    expect(archived.byteLength, record.key).toBe(record.bytes);
    expect(sha256(archived), record.key).toBe(record.sha256);
    expect(archived.equals(await downloadSource(run, record.source ?? '')), record.key).toBe(true);
  }
}

describe('archive of nested catalogs', () => {
  let run: ScenarioRun;

  beforeAll(async () => {
    run = await runScenario('nested-catalogs');
  }, 60_000);

  it('reaches every item and asset from the collection', async () => {
    const walk = await walkArchivedStac(jobDirectory(run));

    expect(walk.documents).toEqual(
      [
        'collection.json',
        '2026-06.json',
        '2026-07.json',
        'tiles.json',
        'detail.json',
        'overview.json',
        'ndvi-0601.json',
        'ndvi-0615.json',
        'ndvi-0701.json',
        'tile-a.json',
        'tile-a-detail.json',
      ]
        .map((name) => join('results', name))
        .sort(),
    );
    expect(walk.assets).toEqual([
      'results/ndvi-0601/ndvi.tif',
      'results/ndvi-0615/ndvi.tif',
      'results/ndvi-0701/ndvi.tif',
      'results/overview/overview.tif',
      'results/tile-a-detail/detail.tif',
      'results/tile-a/tile.tif',
    ]);
    expect(walk.unresolved).toEqual([]);
  });

  it('keeps only workspace links absolute', async () => {
    const walk = await walkArchivedStac(jobDirectory(run));
    const processFiles = `${run.sandbox.filesOrigin}/files/workspaces-eodhp/processing-results/ndvi-calc`;

    expect(walk.absolute).toEqual([
      `results/collection.json root ${processFiles}.json`,
      `results/collection.json parent ${processFiles}/catalog.json`,
    ]);
  });

  it('fetches an item linked twice once', () => {
    const itemRequests = run.sandbox.requests.filter((request) => request.path.endsWith('/ndvi-0601.json'));

    expect(itemRequests).toHaveLength(1);
  });

  it('points child catalogs at their archived parents', async () => {
    const tiles = await readArchivedJson<{ links: { rel: string; href: string }[] }>(
      run,
      'results/tiles.json',
    );
    const hrefs = Object.fromEntries(
      tiles.links
        .filter((link) => link.rel !== 'item' && link.rel !== 'child')
        .map((link) => [link.rel, link.href]),
    );

    expect(hrefs).toEqual({ root: './collection.json', parent: './2026-06.json', self: './tiles.json' });
  });

  it('archives the bytes the sandbox serves', async () => {
    expect(run.result.outcome).toMatchObject({ outcome: 'succeeded', filesArchived: 7, filesFailed: 0 });
    await expectSourceBytes(run);
  });
});

describe('archive of odd names', () => {
  let run: ScenarioRun;

  beforeAll(async () => {
    run = await runScenario('odd-names');
  }, 60_000);

  it('gives every file a readable distinct key', async () => {
    const keys = [...fileRecords(await readManifest(run)).keys()].sort();
    const longName = `${'very long band name '.repeat(9)}very lo-df7d8d2d.tif`;

    expect(keys).toEqual(
      [
        'logs/ndvi.log',
        'results/%2F/ndvi.tif',
        'results/Scène 1 (final)-2/ndvi.tif',
        'results/Scène 1 (final)/Data.TIF',
        'results/Scène 1 (final)/NDVI map 2026+06 100%.tif',
        'results/Scène 1 (final)/_._escape.tif',
        'results/Scène 1 (final)/a#b?c.tif',
        'results/Scène 1 (final)/data-2.tif',
        'results/Scène 1 (final)/hidden.tif',
        'results/Scène 1 (final)/no-name',
        'results/Scène 1 (final)/report_gnp.tif',
        'results/Scène 1 (final)/tab_here_.tif',
        `results/Scène 1 (final)/${longName}`,
        'results/Scène 1 (final)/ñandú 日本.png',
        'results/UPPER/ndvi.tif',
        'results/scene 2/NDVI map 2026+06 100%.tif',
        'results/upper-2/ndvi.tif',
      ].sort(),
    );
    expect(Buffer.byteLength(longName)).toBeLessThanOrEqual(200);
  });

  it('resolves every percent-encoded href', async () => {
    const walk = await walkArchivedStac(jobDirectory(run));
    const item = await readArchivedJson<{ assets: Record<string, { href: string }> }>(
      run,
      'results/Scène 1 (final).json',
    );

    expect(walk.unresolved).toEqual([]);
    expect(walk.assets).toHaveLength(16);
    expect(item.assets.data?.href).toBe('./Scène%201%20(final)/NDVI%20map%202026+06%20100%25.tif');
    expect(item.assets.query?.href).toBe('./Scène%201%20(final)/a%23b%3Fc.tif');
  });

  it('keeps every file inside the job folder', async () => {
    expect(await exists(join(run.archiveRoot, run.sandbox.workspace, 'escape.tif'))).toBe(false);
    await expectSourceBytes(run);
  });
});

describe('archive of odd content', () => {
  let run: ScenarioRun;

  beforeAll(async () => {
    run = await runScenario('odd-content');
  }, 60_000);

  it('archives empty, chunked and gzip files by their decoded bytes', async () => {
    const files = fileRecords(await readManifest(run));

    expect(run.result.outcome).toMatchObject({ outcome: 'succeeded', filesArchived: 7, filesFailed: 0 });
    expect(files.get('results/odd/empty.tif')).toMatchObject({ outcome: 'archived', bytes: 0 });
    expect(files.get('results/odd/empty.tif')?.sha256).toBe(sha256(new Uint8Array()));
    expect(files.get('results/odd/chunked.tif')).toMatchObject({ outcome: 'archived', bytes: 100_000 });
    expect(files.get('results/odd/gzip.tif')).toMatchObject({ outcome: 'archived', bytes: 10_400 });
    expect(files.get('results/odd/gzip-chunked.json')).toMatchObject({ outcome: 'archived', bytes: 26 });
    await expectSourceBytes(run);
  });

  it('copies a shared asset into each item', async () => {
    const files = fileRecords(await readManifest(run));
    const original = files.get('results/odd/chunked.tif');
    const shared = files.get('results/odd-2/chunked.tif');

    expect(shared?.source).toBe(original?.source);
    expect(shared?.sha256).toBe(original?.sha256);
    const walk = await walkArchivedStac(jobDirectory(run));
    expect(walk.assets).toContain('results/odd-2/chunked.tif');
    expect(walk.documents).toContain('results/no-assets.json');
    expect(walk.unresolved).toEqual([]);
  });
});

function succeededWith(results: ScenarioInput['results']): ScenarioInput {
  return {
    name: 'results-edge',
    description: 'A job that succeeds after one second with the results the test sets.',
    processId: 'ndvi-calc',
    timeline: [{ at: 1, status: 'successful', message: 'ZOO-Kernel successfully run your service!' }],
    results,
    logs: [{ name: 'ndvi.log', text: 'done\n' }],
  };
}

describe('archive of jobs without outputs', () => {
  it('keeps an empty results document', async () => {
    const run = await runScenario(succeededWith('empty'));

    expect(run.result.outcome).toMatchObject({ outcome: 'succeeded', filesArchived: 1, filesFailed: 0 });
    expect(await readFile(join(jobDirectory(run), 'results', 'collection.json'), 'utf8')).toBe('{}');
  });

  it('reports no failure for a 500 from the results', async () => {
    const run = await runScenario(succeededWith('none'));
    const manifest = await readManifest(run);

    expect(run.result.outcome).toMatchObject({ outcome: 'succeeded', filesArchived: 1, filesFailed: 0 });
    expect(manifest.totals.failed).toBe(0);
    expect(await exists(join(jobDirectory(run), 'results', 'collection.json'))).toBe(false);
    expect(run.messages[0]?.text).not.toContain('not archived');
  });

  it('archives a collection without items', async () => {
    const run = await runScenario(succeededWith({ items: [] }));
    const walk = await walkArchivedStac(jobDirectory(run));

    expect(run.result.outcome).toMatchObject({ outcome: 'succeeded', filesArchived: 1, filesFailed: 0 });
    expect(walk.documents).toEqual(['results/collection.json']);
    expect(walk.assets).toEqual([]);
  });
});
