import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestRecord } from '../../lambdas/core/manifest';
import {
  downloadSource,
  exists,
  fileRecords,
  jobDirectory,
  monitorAgain,
  readArchivedJson,
  readManifest,
  walkArchivedStac,
} from './archive-support';
import { cleanUpScenarios, definition, runScenario, type ScenarioRun } from './support';

beforeAll(() => {
  definition();
}, 60_000);

afterAll(async () => {
  await cleanUpScenarios();
});

/** Reasons of the failed file records, by key. */
async function failureReasons(run: ScenarioRun): Promise<Record<string, string | undefined>> {
  const manifest = await readManifest(run);
  return Object.fromEntries(
    manifest.records
      .filter((record) => record.outcome === 'failed')
      .map((record) => [record.key, record.reason]),
  );
}

/** Asserts that no failed file left an object or a temporary file in the job folder. */
async function expectNothingLeftOfFailures(run: ScenarioRun): Promise<void> {
  const manifest = await readManifest(run);
  const failed = manifest.records.filter((record: ManifestRecord) => record.outcome === 'failed');
  for (const record of failed) {
    expect(await exists(join(jobDirectory(run), record.key)), record.key).toBe(false);
  }
  const names = await readdir(jobDirectory(run), { recursive: true });
  expect(names.filter((name) => name.includes('.tmp-'))).toEqual([]);
}

function foreignRequests(run: ScenarioRun) {
  return run.sandbox.requests.filter((request) => request.server === 'foreign');
}

function requestsFor(run: ScenarioRun, fileName: string) {
  return run.sandbox.requests.filter((request) => request.path.endsWith(`/${fileName}`));
}

describe('archive with bad checksums', () => {
  let run: ScenarioRun;

  beforeAll(async () => {
    run = await runScenario('bad-checksum');
  }, 60_000);

  it('fails each mismatch with its reason', async () => {
    const reasons = await failureReasons(run);

    expect(Object.keys(reasons).sort()).toEqual([
      'results/checked/wrong-checksum.tif',
      'results/checked/wrong-size-chunked.tif',
      'results/checked/wrong-size.tif',
    ]);
    expect(reasons['results/checked/wrong-checksum.tif']).toMatch(
      /^checksum mismatch: SHA-256 is [0-9a-f]{64} but file:checksum expects 0{64}$/,
    );
    expect(reasons['results/checked/wrong-size.tif']).toBe(
      'size mismatch: Content-Length is 4096 but file:size is 1000',
    );
    expect(reasons['results/checked/wrong-size-chunked.tif']).toBe(
      'size mismatch: received 4096 bytes but file:size is 5000',
    );
    await expectNothingLeftOfFailures(run);
  });

  it('archives the files that match', async () => {
    const files = fileRecords(await readManifest(run));

    expect(files.get('results/checked/good.tif')?.outcome).toBe('archived');
    // An MD5 file:checksum is not verified, so the file is archived with its SHA-256.
    expect(files.get('results/checked/md5.tif')).toMatchObject({ outcome: 'archived', bytes: 4096 });
  });

  it('publishes the partial failure', async () => {
    expect(run.result.executionStatus).toBe('SUCCEEDED');
    expect(run.result.outcome).toMatchObject({
      outcome: 'succeeded',
      filesArchived: 3,
      filesFailed: 3,
      bytesArchived: 4096 + 4096 + 17,
    });
    const text = run.messages[0]?.text ?? '';
    expect(text).toContain('Files not archived: 3');
    expect(text).toContain('results/checked/wrong-size.tif: size mismatch');
  });

  it('points failed assets back at their source', async () => {
    const item = await readArchivedJson<{ assets: Record<string, { href: string }> }>(
      run,
      'results/checked.json',
    );
    const walk = await walkArchivedStac(jobDirectory(run));
    const manifest = await readManifest(run);

    expect(item.assets.good?.href).toBe('./checked/good.tif');
    expect(item.assets['wrong-checksum']?.href).toBe(
      fileRecords(manifest).get('results/checked/wrong-checksum.tif')?.source,
    );
    expect(walk.unresolved).toEqual([]);
    const itemRecord = manifest.records.find((record) => record.key === 'results/checked.json');
    const stored = await readFile(join(jobDirectory(run), 'results', 'checked.json'));
    expect(itemRecord?.bytes).toBe(stored.byteLength);
  });
});

describe('archive with cut transfers', () => {
  let run: ScenarioRun;

  beforeAll(async () => {
    run = await runScenario('truncated-transfer');
  }, 60_000);

  it('fails a file cut on every attempt', async () => {
    const reasons = await failureReasons(run);

    expect(Object.keys(reasons)).toEqual(['results/cut-scene/always-cut.tif']);
    expect(reasons['results/cut-scene/always-cut.tif']).toMatch(
      /^download interrupted after \d+ of 20000 bytes: terminated \(other side closed\)$/,
    );
    expect(requestsFor(run, 'always-cut.tif')).toHaveLength(3);
    await expectNothingLeftOfFailures(run);
  });

  it('copies a file cut once on the retry', async () => {
    const files = fileRecords(await readManifest(run));
    const record = files.get('results/cut-scene/cut-once.tif');

    expect(requestsFor(run, 'cut-once.tif')).toHaveLength(2);
    expect(record).toMatchObject({ outcome: 'archived', bytes: 20_000 });
    const archived = await readFile(join(jobDirectory(run), 'results', 'cut-scene', 'cut-once.tif'));
    expect(archived.equals(await downloadSource(run, record?.source ?? ''))).toBe(true);
  });

  it('copies only the missing file on a second run', async () => {
    const before = await readManifest(run);
    // The cut ends 60 s after submission; the retries moved the virtual clock by 5 s.
    run.clock.advance(120);

    const again = await monitorAgain(run);
    const after = await readManifest(run);
    const outcomes = Object.fromEntries(
      [...fileRecords(after).values()].map((record) => [record.key, record.outcome]),
    );

    expect(before.totals.failed).toBe(1);
    expect(outcomes).toEqual({
      'logs/ndvi.log': 'skipped',
      'results/cut-scene/always-cut.tif': 'archived',
      'results/cut-scene/cut-once.tif': 'skipped',
      'results/cut-scene/intact.tif': 'skipped',
    });
    expect(again.outcome).toMatchObject({ outcome: 'succeeded', filesArchived: 4, filesFailed: 0 });
    expect(requestsFor(run, 'intact.tif')).toHaveLength(1);
    expect((await walkArchivedStac(jobDirectory(run))).unresolved).toEqual([]);
  }, 60_000);
});

describe('archive with redirects', () => {
  let run: ScenarioRun;

  beforeAll(async () => {
    run = await runScenario('cross-host-redirect');
  }, 60_000);

  it('never sends a request to the other host', () => {
    expect(foreignRequests(run)).toEqual([]);
  });

  it('fails redirects off the allowed hosts and loops', async () => {
    const reasons = await failureReasons(run);
    const filesHost = new URL(run.sandbox.filesOrigin).host;
    const foreignHost = new URL(run.sandbox.foreignOrigin).host;

    expect(Object.keys(reasons).sort()).toEqual(['results/moved/elsewhere.tif', 'results/moved/loop.tif']);
    expect(reasons['results/moved/elsewhere.tif']).toMatch(
      new RegExp(
        `^request failed: redirect from ${filesHost} to ${foreignHost} rejected: host ${foreignHost} is not allowed`,
      ),
    );
    expect(reasons['results/moved/loop.tif']).toBe(
      `request failed: stopped after 5 redirects, the last from ${filesHost}`,
    );
    await expectNothingLeftOfFailures(run);
  });

  it('follows a redirect on the same host', async () => {
    const files = fileRecords(await readManifest(run));

    expect(files.get('results/moved/same-host.tif')).toMatchObject({ outcome: 'archived', bytes: 3000 });
    expect(files.get('results/moved/same-host.tif')?.sha256).toBe(
      files.get('results/moved/copy.tif')?.sha256,
    );
  });
});

describe('archive with sign-in pages', () => {
  let run: ScenarioRun;

  beforeAll(async () => {
    run = await runScenario('sign-in-redirect');
  }, 60_000);

  it('never sends the token to the sign-in host', () => {
    expect(foreignRequests(run)).toEqual([]);
  });

  it('fails every response that is not the file', async () => {
    const reasons = await failureReasons(run);
    const foreignHost = new URL(run.sandbox.foreignOrigin).host;

    expect(reasons).toEqual({
      'logs/ndvi.log': expect.stringMatching(
        new RegExp(`^request failed: redirect from .+ to ${foreignHost} rejected`),
      ),
      'results/protected/redirected.tif': expect.stringMatching(
        new RegExp(`^request failed: redirect from .+ to ${foreignHost} rejected`),
      ),
      'results/protected/page.tif': 'received an HTML page (Content-Type text/html) instead of the file',
      'results/protected/via-page.tif': 'received an HTML page (Content-Type text/html) instead of the file',
      'results/protected/error-document.tif':
        'received a JSON document (Content-Type application/json) where image/tiff was expected',
      'results/protected/problem.tif':
        'received an error document (Content-Type application/problem+json) instead of the file',
    });
    await expectNothingLeftOfFailures(run);
  });

  it('archives the readable file and publishes', async () => {
    const files = fileRecords(await readManifest(run));

    expect(files.get('results/protected/readable.tif')).toMatchObject({ outcome: 'archived', bytes: 2000 });
    expect(run.result.outcome).toMatchObject({ outcome: 'succeeded', filesArchived: 1, filesFailed: 6 });
    expect(run.messages).toHaveLength(1);
  });
});

describe('archive with hosts that are not allowed', () => {
  let run: ScenarioRun;

  beforeAll(async () => {
    run = await runScenario('disallowed-host');
  }, 60_000);

  it('never sends a request to the other host', () => {
    expect(foreignRequests(run)).toEqual([]);
  });

  it('fails each href that must not be fetched', async () => {
    const reasons = await failureReasons(run);
    const foreignHost = new URL(run.sandbox.foreignOrigin).host;

    expect(reasons).toEqual({
      'results/remote-item.json': expect.stringMatching(
        new RegExp(`^STAC document not archived: host ${foreignHost} is not allowed`),
      ),
      'results/remote/ndvi.tif': expect.stringMatching(
        new RegExp(`^request failed: host ${foreignHost} is not allowed`),
      ),
      'results/remote/ftp': 'asset "ftp" href is not an http(s) URL',
      'results/remote/local-file': 'asset "local-file" href is not an http(s) URL',
      'results/remote/passwd': 'HTTP 404 Not Found',
    });
    await expectNothingLeftOfFailures(run);
  });

  it('keeps unfetched hrefs absolute', async () => {
    const item = await readArchivedJson<{ assets: Record<string, { href: string }> }>(
      run,
      'results/remote.json',
    );

    expect(item.assets.foreign?.href).toBe(`${run.sandbox.foreignOrigin}/data/ndvi.tif`);
    expect(item.assets['local-file']?.href).toBe('file:///etc/passwd');
    expect(item.assets.allowed?.href).toBe('./remote/allowed.tif');
    expect(run.result.outcome).toMatchObject({ outcome: 'succeeded', filesArchived: 2, filesFailed: 5 });
  });
});
