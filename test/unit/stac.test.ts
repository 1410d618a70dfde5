import { describe, expect, it } from 'vitest';
import {
  assetsOf,
  type JsonObject,
  relativeHref,
  resolveUrl,
  rewriteCatalog,
  rewriteItem,
  type StacFetchResult,
  type StacNode,
  stacKindOf,
  walkStac,
} from '../../lambdas/core/stac';
import resultItem from '../fixtures/eodh/result-item.json';
import resultsCollection from '../fixtures/eodh/results-collection.json';

const resultsUrl =
  'https://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/3f9c2e1a-7b44-11f1-9a3e-0242ac120002/results';
const catalogBase =
  'https://demo-ws.eodatahub-workspaces.org.uk/files/workspaces-eodhp/processing-results/ndvi-calc/catalog/col_3f9c2e1a-7b44-11f1-9a3e-0242ac120002';
const item1Url = `${catalogBase}/ndvi-20260601.json`;
const item2Url = `${catalogBase}/ndvi-20260615.json`;

const clone = <T>(value: T): T => structuredClone(value);

function catalog(id: string, links: Array<{ rel: string; href: string }>): JsonObject {
  return { type: 'Catalog', stac_version: '1.0.0', id, description: id, links };
}

function documentSource(documents: Record<string, JsonObject>) {
  const requests: string[] = [];
  const fetchDocument = async (url: string): Promise<StacFetchResult> => {
    requests.push(url);
    const document = documents[url];
    return document === undefined
      ? { ok: false, reason: 'HTTP 404' }
      : { ok: true, document: clone(document) };
  };
  return { fetchDocument, requests };
}

const walkDefaults = { maxDepth: 4, maxDocuments: 10_000, concurrency: 4, chunkSize: 100 };

describe('stacKindOf', () => {
  it('recognizes items and catalogs', () => {
    expect(stacKindOf(resultItem)).toBe('item');
    expect(stacKindOf(resultsCollection)).toBe('catalog');
    expect(stacKindOf({ type: 'Catalog' })).toBe('catalog');
    expect(stacKindOf({ stac_version: '0.9.0', links: [] })).toBe('catalog');
  });

  it('rejects other documents', () => {
    expect(stacKindOf({})).toBeNull();
    expect(stacKindOf({ type: 'FeatureCollection', features: [] })).toBeNull();
    expect(
      stacKindOf({ type: 'https://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/result-not-ready' }),
    ).toBeNull();
  });
});

describe('assetsOf', () => {
  it('lists the fixture item assets', () => {
    const assets = assetsOf(resultItem, item1Url);

    expect(assets).toEqual([
      {
        name: 'data',
        href: resultItem.assets.data.href,
        url: resultItem.assets.data.href,
        type: 'image/tiff; application=geotiff; profile=cloud-optimized',
        roles: ['data'],
        size: 48_213_377,
      },
      {
        name: 'thumbnail',
        href: resultItem.assets.thumbnail.href,
        url: resultItem.assets.thumbnail.href,
        type: 'image/png',
        roles: ['thumbnail'],
        size: 91_240,
      },
    ]);
  });

  it('resolves relative hrefs and reads checksums', () => {
    const item = {
      type: 'Feature',
      assets: {
        a: { href: '../data/a.tif', 'file:checksum': '1220abcd', 'file:size': 12 },
        b: { href: 42 },
        c: { href: 'b.tif', 'file:size': -1 },
      },
    };
    const [a, b, c] = assetsOf(item, 'https://ws.example.org/files/out/item.json');

    expect(a).toEqual({
      name: 'a',
      href: '../data/a.tif',
      url: 'https://ws.example.org/files/data/a.tif',
      size: 12,
      checksum: '1220abcd',
    });
    expect(b).toEqual({ name: 'b', href: '', url: null });
    expect(c?.size).toBeUndefined();
  });
});

describe('resolveUrl', () => {
  it('resolves and drops fragments', () => {
    expect(resolveUrl('./x.json#frag', 'https://h.example.org/a/b.json')).toBe(
      'https://h.example.org/a/x.json',
    );
    expect(resolveUrl('http://[::1', 'https://h.example.org/')).toBeNull();
  });
});

describe('walkStac', () => {
  it('visits the fixture collection in link order', async () => {
    const item2 = { ...clone(resultItem), id: 'ndvi-20260615' };
    const source = documentSource({ [item1Url]: resultItem, [item2Url]: item2 });
    const chunks: StacNode[][] = [];

    const stats = await walkStac(
      { ...walkDefaults, rootUrl: resultsUrl, root: resultsCollection, fetchDocument: source.fetchDocument },
      async (nodes) => {
        chunks.push(nodes);
      },
    );

    expect(stats).toEqual({ documents: 3, linksBeyondDepth: 0, linksBeyondLimit: 0 });
    expect(chunks.map((nodes) => nodes.map((node) => node.url))).toEqual([
      [resultsUrl],
      [item1Url, item2Url],
    ]);
    expect(chunks[1]?.map((node) => node.status === 'fetched' && node.kind)).toEqual(['item', 'item']);
    expect(chunks[1]?.every((node) => node.parentUrl === resultsUrl && node.depth === 1)).toBe(true);
    expect(source.requests).toEqual([item1Url, item2Url]);
  });

  it('fetches each URL once', async () => {
    const root = catalog('root', [
      { rel: 'self', href: 'https://h.example.org/root.json' },
      { rel: 'item', href: './a.json' },
      { rel: 'item', href: 'https://h.example.org/a.json#again' },
      { rel: 'child', href: './sub.json' },
      { rel: 'child', href: './root.json' },
    ]);
    const sub = catalog('sub', [
      { rel: 'item', href: './a.json' },
      { rel: 'child', href: './sub.json' },
      { rel: 'parent', href: './root.json' },
    ]);
    const source = documentSource({
      'https://h.example.org/a.json': { type: 'Feature', id: 'a', assets: {} },
      'https://h.example.org/sub.json': sub,
    });

    const stats = await walkStac(
      {
        ...walkDefaults,
        rootUrl: 'https://h.example.org/jobs/1/results',
        root,
        fetchDocument: source.fetchDocument,
      },
      async () => {},
    );

    expect(source.requests).toEqual(['https://h.example.org/a.json', 'https://h.example.org/sub.json']);
    expect(stats.documents).toBe(3);
  });

  it('stops below the maximum depth', async () => {
    // root -> c1 -> c2 -> c3 -> c4 -> c5: c5 is at depth 5.
    const documents: Record<string, JsonObject> = {};
    for (let level = 1; level <= 5; level += 1) {
      documents[`https://h.example.org/c${level}.json`] = catalog(`c${level}`, [
        { rel: 'child', href: `./c${level + 1}.json` },
      ]);
    }
    const root = catalog('root', [{ rel: 'child', href: './c1.json' }]);
    const source = documentSource(documents);
    const depths: number[] = [];

    const stats = await walkStac(
      {
        ...walkDefaults,
        rootUrl: 'https://h.example.org/root.json',
        root,
        fetchDocument: source.fetchDocument,
      },
      async (nodes) => {
        depths.push(...nodes.map((node) => node.depth));
      },
    );

    expect(depths).toEqual([0, 1, 2, 3, 4]);
    expect(stats.linksBeyondDepth).toBe(1);
    expect(source.requests).not.toContain('https://h.example.org/c5.json');
  });

  it('stops at the maximum document count', async () => {
    const links = Array.from({ length: 5 }, (_, index) => ({ rel: 'item', href: `./i${index}.json` }));
    const root = catalog('root', links);
    const documents = Object.fromEntries(
      links.map((_, index) => [`https://h.example.org/i${index}.json`, { type: 'Feature', id: `i${index}` }]),
    );
    const source = documentSource(documents);

    const stats = await walkStac(
      {
        ...walkDefaults,
        maxDocuments: 3,
        rootUrl: 'https://h.example.org/root.json',
        root,
        fetchDocument: source.fetchDocument,
      },
      async () => {},
    );

    expect(stats).toEqual({ documents: 3, linksBeyondDepth: 0, linksBeyondLimit: 3 });
    expect(source.requests).toEqual(['https://h.example.org/i0.json', 'https://h.example.org/i1.json']);
  });

  it('reports failed and non-STAC documents', async () => {
    const root = catalog('root', [
      { rel: 'item', href: './missing.json' },
      { rel: 'item', href: './problem.json' },
    ]);
    const source = documentSource({
      'https://h.example.org/problem.json': { type: 'about:blank', title: 'Forbidden' },
    });
    const nodes: StacNode[] = [];

    await walkStac(
      {
        ...walkDefaults,
        rootUrl: 'https://h.example.org/root.json',
        root,
        fetchDocument: source.fetchDocument,
      },
      async (chunk) => {
        nodes.push(...chunk);
      },
    );

    expect(nodes[1]).toMatchObject({ status: 'failed', reason: 'HTTP 404' });
    expect(nodes[2]).toMatchObject({
      status: 'failed',
      reason: 'not a STAC Item, Catalog or Collection (type "about:blank")',
    });
  });

  it('hands documents over in chunks', async () => {
    const links = Array.from({ length: 7 }, (_, index) => ({ rel: 'item', href: `./i${index}.json` }));
    const documents = Object.fromEntries(
      links.map((_, index) => [`https://h.example.org/i${index}.json`, { type: 'Feature', id: `i${index}` }]),
    );
    const source = documentSource(documents);
    const sizes: number[] = [];

    await walkStac(
      {
        ...walkDefaults,
        chunkSize: 3,
        rootUrl: 'https://h.example.org/root.json',
        root: catalog('root', links),
        fetchDocument: source.fetchDocument,
      },
      async (nodes) => {
        sizes.push(nodes.length);
      },
    );

    expect(sizes).toEqual([1, 3, 3, 1]);
  });
});

describe('relativeHref', () => {
  it('encodes each segment', () => {
    expect(relativeHref('item 1/NDVI + 10%.tif')).toBe('./item%201/NDVI%20+%2010%25.tif');
    expect(relativeHref('collection.json')).toBe('./collection.json');
  });
});

describe('rewriteItem', () => {
  const names = new Map([
    [resultsUrl, 'collection.json'],
    [`${catalogBase}.json`, 'collection.json'],
    [item1Url, 'ndvi-20260601.json'],
  ]);

  it('points assets and links into the archive', () => {
    const rewritten = rewriteItem(resultItem, {
      documentUrl: item1Url,
      selfName: 'ndvi-20260601.json',
      parentName: 'collection.json',
      names,
      assetPaths: new Map([
        ['data', 'ndvi-20260601/ndvi.tif'],
        ['thumbnail', 'ndvi-20260601/ndvi-thumb.png'],
      ]),
    });
    const assets = rewritten.assets as Record<string, JsonObject>;

    expect(assets.data?.href).toBe('./ndvi-20260601/ndvi.tif');
    expect(assets.thumbnail?.href).toBe('./ndvi-20260601/ndvi-thumb.png');
    expect(assets.data?.['file:size']).toBe(48_213_377);
    expect(rewritten.links).toEqual([
      { rel: 'collection', type: 'application/json', href: './collection.json' },
      { rel: 'self', type: 'application/geo+json', href: './ndvi-20260601.json' },
    ]);
  });

  it('leaves the input document unchanged', () => {
    const original = clone(resultItem);

    rewriteItem(resultItem, {
      documentUrl: item1Url,
      selfName: 'x.json',
      parentName: 'collection.json',
      names,
      assetPaths: new Map([['data', 'x/ndvi.tif']]),
    });

    expect(resultItem).toEqual(original);
  });

  it('makes unarchived hrefs absolute', () => {
    const item = {
      type: 'Feature',
      id: 'x',
      links: [
        { rel: 'root', href: '../../root.json' },
        { rel: 'parent', href: '../somewhere.json' },
        { rel: 'license', href: './LICENSE' },
      ],
      assets: { remote: { href: 's3://bucket/x.tif' }, local: { href: './x.tif' } },
    };

    const rewritten = rewriteItem(item, {
      documentUrl: 'https://h.example.org/a/b/x.json',
      selfName: 'x.json',
      parentName: 'sub.json',
      names: new Map(),
      assetPaths: new Map(),
    });

    expect(rewritten.links).toEqual([
      { rel: 'root', href: './collection.json' },
      { rel: 'parent', href: './sub.json' },
      { rel: 'license', href: 'https://h.example.org/a/b/LICENSE' },
    ]);
    expect(rewritten.assets).toEqual({
      remote: { href: 's3://bucket/x.tif' },
      local: { href: 'https://h.example.org/a/b/x.tif' },
    });
  });
});

describe('rewriteCatalog', () => {
  it('rewrites the root collection', () => {
    const names = new Map([
      [resultsUrl, 'collection.json'],
      [`${catalogBase}.json`, 'collection.json'],
      [item1Url, 'ndvi-20260601.json'],
    ]);

    const rewritten = rewriteCatalog(resultsCollection, {
      documentUrl: resultsUrl,
      selfName: 'collection.json',
      parentName: null,
      names,
    });
    const hrefs = (rewritten.links as Array<{ rel: string; href: string }>).map((link) => [
      link.rel,
      link.href,
    ]);

    expect(hrefs).toEqual([
      [
        'root',
        'https://demo-ws.eodatahub-workspaces.org.uk/files/workspaces-eodhp/processing-results/ndvi-calc.json',
      ],
      [
        'parent',
        'https://demo-ws.eodatahub-workspaces.org.uk/files/workspaces-eodhp/processing-results/ndvi-calc/catalog.json',
      ],
      ['self', './collection.json'],
      ['item', './ndvi-20260601.json'],
      // Not in `names`, as for an item that could not be fetched: the link keeps pointing at the source.
      ['item', item2Url],
    ]);
    expect(rewritten.extent).toEqual(resultsCollection.extent);
  });

  it('rewrites a child catalog', () => {
    const child = catalog('tiles', [
      { rel: 'root', href: 'https://h.example.org/top.json' },
      { rel: 'parent', href: 'https://h.example.org/elsewhere.json' },
      { rel: 'self', href: 'https://h.example.org/tiles.json' },
      { rel: 'item', href: './t1.json' },
      { rel: 'child', href: './deeper.json' },
    ]);
    const names = new Map([
      ['https://h.example.org/t1.json', 't1.json'],
      ['https://h.example.org/deeper.json', 'deeper.json'],
    ]);

    const rewritten = rewriteCatalog(child, {
      documentUrl: 'https://h.example.org/tiles.json',
      selfName: 'tiles.json',
      parentName: 'collection.json',
      names,
    });

    expect((rewritten.links as Array<{ href: string }>).map((link) => link.href)).toEqual([
      './collection.json',
      './collection.json',
      './tiles.json',
      './t1.json',
      './deeper.json',
    ]);
  });
});
