import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDirectoryStore } from '../../lambdas/adapters/directory-store';
import type { ManifestRecord } from '../../lambdas/core/manifest';
import type { ArchiveStore } from '../../lambdas/core/ports';
import { restoreUnarchivedAssetHrefs } from '../../lambdas/core/unarchived-assets';

const prefix = 'demo-ws/3f9c2e1a-7b44-11f1-9a3e-0242ac120002/';
const source =
  'https://demo-ws.eodatahub-workspaces.org.uk/files/workspaces-eodhp/processing-results/ndvi-calc';

let directory: string;
let store: ArchiveStore;
const warnings: { message: string; attributes: Record<string, unknown> }[] = [];
const logger = {
  warn: (message: string, attributes: Record<string, unknown>) => {
    warnings.push({ message, attributes });
  },
};

beforeEach(async () => {
  warnings.length = 0;
  directory = await mkdtemp(path.join(tmpdir(), 'unarchived-assets-'));
  store = createDirectoryStore(directory);
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function record(key: string, overrides: Partial<ManifestRecord> = {}): ManifestRecord {
  return {
    key,
    source: `${source}/${key.slice('results/'.length)}`,
    kind: 'asset',
    bytes: 10,
    sha256: 'a'.repeat(64),
    contentType: 'image/tiff',
    outcome: 'archived',
    ...overrides,
  };
}

async function putItem(key: string, assets: Record<string, string>): Promise<void> {
  const item = {
    type: 'Feature',
    id: key,
    assets: Object.fromEntries(
      Object.entries(assets).map(([name, href]) => [name, { href, type: 'image/tiff' }]),
    ),
  };
  await store.putObject(`${prefix}${key}`, JSON.stringify(item, null, 2), {
    contentType: 'application/geo+json',
  });
}

async function readItem(key: string): Promise<{ assets: Record<string, { href: string }> }> {
  const bytes = await store.getObject(`${prefix}${key}`);
  return JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array()));
}

describe('restoreUnarchivedAssetHrefs', () => {
  it('points failed assets at their source', async () => {
    await putItem('results/scene 1.json', {
      data: './scene%201/ndvi.tif',
      thumbnail: './scene%201/thumb.png',
    });
    const records = [
      record('results/scene 1.json', { kind: 'item', source: null }),
      record('results/scene 1/ndvi.tif', {
        outcome: 'failed',
        source: `${source}/scene%201/ndvi.tif`,
        reason: 'checksum mismatch',
      }),
      record('results/scene 1/thumb.png'),
    ];

    const updated = await restoreUnarchivedAssetHrefs(store, prefix, records, logger);

    const item = await readItem('results/scene 1.json');
    expect(item.assets.data?.href).toBe(`${source}/scene%201/ndvi.tif`);
    expect(item.assets.thumbnail?.href).toBe('./scene%201/thumb.png');
    const stored = (await store.getObject(`${prefix}results/scene 1.json`)) ?? new Uint8Array();
    expect(updated[0]).toMatchObject({
      key: 'results/scene 1.json',
      bytes: stored.byteLength,
      sha256: createHash('sha256').update(stored).digest('hex'),
    });
    expect(updated.slice(1)).toEqual(records.slice(1));
    expect(warnings).toEqual([]);
  });

  it('leaves items without failures untouched', async () => {
    await putItem('results/a.json', { data: './a/ndvi.tif' });
    const records = [record('results/a.json', { kind: 'item', source: null }), record('results/a/ndvi.tif')];
    const before = await store.getObject(`${prefix}results/a.json`);

    const updated = await restoreUnarchivedAssetHrefs(store, prefix, records, logger);

    expect(updated).toEqual(records);
    expect(await store.getObject(`${prefix}results/a.json`)).toEqual(before);
  });

  it('ignores failures without a relative href', async () => {
    await putItem('results/a.json', { data: 'ftp://files.example.invalid/a.tif' });
    const records = [
      record('results/a.json', { kind: 'item', source: null }),
      record('results/a/data', { outcome: 'failed', source: 'ftp://files.example.invalid/a.tif' }),
    ];

    const updated = await restoreUnarchivedAssetHrefs(store, prefix, records, logger);

    expect(updated).toEqual(records);
    expect((await readItem('results/a.json')).assets.data?.href).toBe('ftp://files.example.invalid/a.tif');
  });

  it('logs an item that is not JSON', async () => {
    await store.putObject(`${prefix}results/a.json`, '{not json', { contentType: 'application/geo+json' });
    const records = [
      record('results/a.json', { kind: 'item', source: null }),
      record('results/a/ndvi.tif', { outcome: 'failed' }),
    ];

    const updated = await restoreUnarchivedAssetHrefs(store, prefix, records, logger);

    expect(updated).toEqual(records);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toBe(
      'archived item not rewritten; it keeps relative hrefs to files that failed',
    );
    expect(warnings[0]?.attributes.key).toBe('results/a.json');
  });
});
