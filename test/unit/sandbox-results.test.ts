import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, type ScenarioInput, type SubmittedJob, startSandbox } from '../../lib/sandbox';
import { expandItem, resultIndex } from '../../lib/sandbox/results';
import { loadScenario, parseScenario } from '../../lib/sandbox/scenarios';

const submittedAt = Date.parse('2026-11-30T09:12:04.311Z');
const geotiff = 'image/tiff; application=geotiff';

interface StacDocument {
  id: string;
  type: string;
  links: { rel: string; href: string; type?: string }[];
  assets?: Record<string, { href: string; type: string; 'file:size'?: number; 'file:checksum'?: string }>;
}

let now = submittedAt;
const clock = { now: () => now };
let sandbox: Sandbox;

beforeEach(async () => {
  now = submittedAt;
  sandbox = await startSandbox({ clock, token: 'test-token' });
});

afterEach(async () => {
  await sandbox.close();
});

function get(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { redirect: 'manual', ...init, headers: { authorization: `Bearer ${sandbox.token}` } });
}

async function getJson(url: string): Promise<StacDocument> {
  const response = await get(url);
  expect(response.status, url).toBe(200);
  return (await response.json()) as StacDocument;
}

/** Submits a scenario and moves the clock past its end, so its results are served. */
async function finished(scenario: string | ScenarioInput): Promise<SubmittedJob> {
  const job = await sandbox.submit(scenario);
  now = submittedAt + 10_000;
  return job;
}

/** Sends a GET with node:http, which does not decode the body, and returns headers and raw bytes. */
function rawGet(url: string): Promise<{ headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { headers: { authorization: `Bearer ${sandbox.token}` } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function linksOf(document: StacDocument, rel: string): string[] {
  return document.links.filter((link) => link.rel === rel).map((link) => link.href);
}

function scenarioWith(results: ScenarioInput['results']): ScenarioInput {
  return {
    name: 'results-sample',
    description: 'A job whose results the test defines.',
    processId: 'ndvi-calc',
    timeline: [{ at: 1, status: 'successful', message: 'ZOO-Kernel successfully run your service!' }],
    results,
  };
}

describe('expandItem', () => {
  it('numbers copies with padded suffixes', () => {
    const scenario = parseScenario(
      scenarioWith({
        items: [
          {
            id: 'tile',
            count: 12,
            assets: {
              data: { file: 'a.tif', type: geotiff, content: { bytes: 8, seed: 'tile' } },
              note: { file: 'note.txt', type: 'text/plain', content: { text: 'same\n' } },
            },
          },
        ],
      }),
      'test',
    );
    const [item] = typeof scenario.results === 'string' ? [] : scenario.results.items;
    if (item === undefined) throw new Error('the scenario has one item');

    const items = expandItem(item);

    expect(items.map((copy) => copy.id)).toEqual(
      Array.from({ length: 12 }, (_, i) => `tile-${String(i + 1).padStart(2, '0')}`),
    );
    expect(items[2]?.assets.data?.content).toEqual({ bytes: 8, seed: 'tile-03' });
    expect(items[2]?.assets.note?.content).toEqual({ text: 'same\n' });
    expect(items.every((copy) => copy.count === undefined)).toBe(true);
  });

  it('rejects a count that repeats an item ID', () => {
    expect(() =>
      parseScenario(
        scenarioWith({
          items: [
            { id: 'tile', count: 3, assets: {} },
            { id: 'tile-2', assets: {} },
          ],
        }),
        'test',
      ),
    ).toThrow('results.items.1.id: duplicate item id "tile-2"');
  });
});

describe('resultIndex', () => {
  it('lists nested items with their catalog paths', async () => {
    const index = resultIndex(await loadScenario('nested-catalogs'));

    expect(index?.items.map((entry) => [entry.item.id, entry.catalogPath.join('/')])).toEqual([
      ['overview', ''],
      ['ndvi-0601', '2026-06'],
      ['ndvi-0615', '2026-06'],
      ['tile-a', '2026-06/tiles'],
      ['tile-a-detail', '2026-06/tiles/detail'],
      ['ndvi-0701', '2026-07'],
    ]);
  });

  it('is null for empty results', () => {
    expect(resultIndex(parseScenario(scenarioWith('empty'), 'test'))).toBeNull();
  });
});

describe('scenario names', () => {
  it.each([
    ['.', 'must not be "." or ".."'],
    ['..', 'must not be "." or ".."'],
    ['a/b', 'must not contain "/"'],
    ['catalog', 'must not be "catalog"'],
    ['', 'must not be empty'],
  ])('rejects item id %j', (id, message) => {
    expect(() => parseScenario(scenarioWith({ items: [{ id, assets: {} }] }), 'test')).toThrow(message);
  });

  it('requires content unless href is set', () => {
    expect(() =>
      parseScenario(
        scenarioWith({ items: [{ id: 'a', assets: { data: { file: 'a.tif', type: geotiff } } }] }),
        'test',
      ),
    ).toThrow('results.items.0.assets.data.content: is required unless "href" is set');
  });

  it('rejects an item link to an unknown item', () => {
    expect(() =>
      parseScenario(scenarioWith({ items: [], catalogs: [{ id: 'c', itemLinks: ['missing'] }] }), 'test'),
    ).toThrow('results.catalogs.0.itemLinks.0: item "missing" is not defined');
  });
});

describe('sandbox nested catalogs', () => {
  it('serves child catalogs and their items', async () => {
    const job = await finished('nested-catalogs');
    const collection = await getJson(`${job.statusUrl}/results`);

    const [june, july] = linksOf(collection, 'child');
    expect(linksOf(collection, 'item')).toHaveLength(1);
    expect(june).toMatch(/\/catalog\/col_[^/]+\/2026-06\/catalog\.json$/);
    expect(july).toMatch(/\/2026-07\/catalog\.json$/);

    const juneCatalog = await getJson(june ?? '');
    expect(juneCatalog.type).toBe('Catalog');
    expect(juneCatalog.id).toBe('2026-06');
    expect(linksOf(juneCatalog, 'parent')).toEqual(linksOf(collection, 'self'));
    const [tiles] = linksOf(juneCatalog, 'child');
    const tilesCatalog = await getJson(tiles ?? '');
    const tileItems = linksOf(tilesCatalog, 'item');

    // tile-a lives in the tiles folder; ndvi-0601 is linked from June's folder as well.
    expect(tileItems).toHaveLength(2);
    expect(tileItems[1]).toBe(linksOf(juneCatalog, 'item')[0]);
    const tile = await getJson(tileItems[0] ?? '');
    expect(tile.id).toBe('tile-a');
    expect(linksOf(tile, 'parent')).toEqual([tiles]);
    expect(linksOf(tile, 'root')).toEqual(linksOf(collection, 'self'));

    const asset = await get(tile.assets?.data?.href ?? '');
    expect(asset.status).toBe(200);
    expect((await asset.arrayBuffer()).byteLength).toBe(1024);
  });

  it('serves an item only in its own folder', async () => {
    const job = await finished('nested-catalogs');
    const collection = await getJson(`${job.statusUrl}/results`);
    const [june] = linksOf(collection, 'child');

    const wrongFolder = (june ?? '').replace('2026-06/catalog.json', '2026-07/ndvi-0601.json');

    expect((await get(wrongFolder)).status).toBe(404);
    expect((await get((june ?? '').replace('2026-06', 'unknown'))).status).toBe(404);
  });
});

describe('sandbox content delivery', () => {
  it('sends a chunked file without Content-Length', async () => {
    const job = await finished('odd-content');
    const collection = await getJson(`${job.statusUrl}/results`);
    const item = await getJson(linksOf(collection, 'item')[0] ?? '');
    const chunked = item.assets?.chunked;

    const response = await rawGet(chunked?.href ?? '');

    expect(response.headers['content-length']).toBeUndefined();
    expect(response.headers['transfer-encoding']).toBe('chunked');
    expect(response.body.length).toBe(100_000);
    expect(`1220${sha256(response.body)}`).toBe(chunked?.['file:checksum']);
  });

  it('sends gzip with the compressed length', async () => {
    const job = await finished('odd-content');
    const collection = await getJson(`${job.statusUrl}/results`);
    const item = await getJson(linksOf(collection, 'item')[0] ?? '');
    const gzip = item.assets?.gzip;

    const response = await rawGet(gzip?.href ?? '');

    expect(response.headers['content-encoding']).toBe('gzip');
    expect(Number(response.headers['content-length'])).toBe(response.body.length);
    const decoded = gunzipSync(response.body);
    expect(response.body.length).toBeLessThan(decoded.length);
    expect(decoded.length).toBe(gzip?.['file:size']);
    expect(`1220${sha256(decoded)}`).toBe(gzip?.['file:checksum']);
  });

  it('writes asset hrefs and extra links with placeholders', async () => {
    const job = await finished('disallowed-host');
    const collection = await getJson(`${job.statusUrl}/results`);
    const [local, remote] = linksOf(collection, 'item');

    expect(remote).toBe(`${sandbox.foreignOrigin}/stac/remote-item.json`);
    const item = await getJson(local ?? '');
    expect(item.assets?.foreign?.href).toBe(`${sandbox.foreignOrigin}/data/ndvi.tif`);
    expect(item.assets?.climbing?.href).toBe('../../../../../../../etc/passwd');
    expect(item.assets?.foreign?.['file:size']).toBeUndefined();
  });

  it('serves odd file names at their encoded URLs', async () => {
    const job = await finished('odd-names');
    const collection = await getJson(`${job.statusUrl}/results`);
    const item = await getJson(linksOf(collection, 'item')[0] ?? '');

    expect(item.id).toBe('Scène 1 (final)');
    const climbing = item.assets?.escape?.href ?? '';
    expect(climbing).toMatch(/\/Sc%C3%A8ne%201%20\(final\)\/..%2F..%2Fescape\.tif$/);
    expect(await (await get(climbing)).text()).toBe('not outside the job prefix\n');
    const noName = item.assets?.['no-name']?.href ?? '';
    expect(noName.endsWith('/')).toBe(true);
    expect(await (await get(noName)).text()).toBe('no file name\n');
  });
});
