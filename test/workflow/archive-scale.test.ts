import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectoryStore } from '../../lambdas/adapters/directory-store';
import type { ArchiveStore } from '../../lambdas/core/ports';
import { StateName } from '../../lib/state-names';
import {
  downloadSource,
  fileRecords,
  jobDirectory,
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

/** Builds a directory store that records the keys read, to show which plan objects each step read. */
function readRecordingStore(root: string, reads: string[]): ArchiveStore {
  const inner = createDirectoryStore(root);
  return {
    ...inner,
    getObject: (key) => {
      reads.push(key);
      return inner.getObject(key);
    },
  };
}

describe('archive of many items', () => {
  const reads: string[] = [];
  let run: ScenarioRun;

  beforeAll(async () => {
    run = await runScenario('many-items', { store: (root) => readRecordingStore(root, reads) });
  }, 120_000);

  it('keeps every state under 8 KB', () => {
    expect(run.result.executionStatus).toBe('SUCCEEDED');
    expect(run.result.outcome).toMatchObject({ outcome: 'succeeded', filesArchived: 2_401, filesFailed: 0 });
    expect(run.result.plan?.files).toBe(2_401);
    expect(run.result.plan?.batches).toHaveLength(97);
    expect(run.result.statesEntered.filter((name) => name === StateName.archiveBatch)).toHaveLength(97);
    // 2,401 files and 1,200 item documents never reach the state machine's state.
    expect(run.result.stats.maxStateBytes).toBeGreaterThan(1_000);
    expect(run.result.stats.maxStateBytes).toBeLessThan(8 * 1024);
  });

  it('reads one plan object per batch', () => {
    const planReads = reads.filter((key) => key.includes('/plan'));

    expect(planReads.filter((key) => key.endsWith('/plan.json'))).toEqual([]);
    expect(new Set(planReads).size).toBe(97);
    expect(planReads.every((key) => /\/plan\/batch-000\d\d\.json$/.test(key))).toBe(true);
  });

  it('archives every file with its digest', async () => {
    const manifest = await readManifest(run);
    const files = fileRecords(manifest);

    expect(files.size).toBe(2_401);
    expect([...files.values()].every((record) => record.outcome === 'archived')).toBe(true);
    const sample = [
      'results/tile-0001/ndvi.tif',
      'results/tile-0600/tile.json',
      'results/tile-1200/ndvi.tif',
    ];
    for (const key of sample) {
      const bytes = await readFile(join(jobDirectory(run), key));
      expect(sha256(bytes), key).toBe(files.get(key)?.sha256);
      expect(bytes.equals(await downloadSource(run, files.get(key)?.source ?? '')), key).toBe(true);
    }

    const walk = await walkArchivedStac(jobDirectory(run));
    expect(walk.documents).toHaveLength(1_201);
    expect(walk.assets).toHaveLength(2_400);
    expect(walk.unresolved).toEqual([]);
  });
});

describe('archive of a large file', () => {
  it('streams it and verifies size and checksum', async () => {
    const run = await runScenario('large-file');
    const manifest = await readManifest(run);
    const record = fileRecords(manifest).get('results/large-1/large.tif');

    expect(run.result.outcome).toMatchObject({ outcome: 'succeeded', filesArchived: 2, filesFailed: 0 });
    expect(record).toMatchObject({ outcome: 'archived', bytes: 1_048_576 });
    const bytes = await readFile(join(jobDirectory(run), 'results', 'large-1', 'large.tif'));
    expect(bytes.byteLength).toBe(1_048_576);
    expect(sha256(bytes)).toBe(record?.sha256);
    const item = JSON.parse(await readFile(join(jobDirectory(run), 'results', 'large-1.json'), 'utf8')) as {
      assets: { data: { 'file:checksum': string } };
    };
    expect(item.assets.data['file:checksum']).toBe(`1220${record?.sha256}`);
  }, 60_000);
});
