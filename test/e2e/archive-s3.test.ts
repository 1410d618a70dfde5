import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createS3Store } from '../../lambdas/adapters/s3-store';
import type { ManifestRecord } from '../../lambdas/core/manifest';
import { type LocalS3, startLocalS3 } from '../unit/support/s3rver';
import {
  type ArchivedManifest,
  downloadSource,
  fileRecords,
  monitorAgain,
  sha256,
} from '../workflow/archive-support';
import { cleanUpScenarios, definition, runScenario, type ScenarioRun } from '../workflow/support';

const run = promisify(execFile);
const projectRoot = join(import.meta.dirname, '..', '..');

let s3: LocalS3;
let workDir: string;

beforeAll(async () => {
  definition();
  s3 = await startLocalS3('eodh-archive');
  workDir = await mkdtemp(join(tmpdir(), 'eodh-archive-e2e-'));
}, 120_000);

afterAll(async () => {
  await cleanUpScenarios();
  await s3?.close();
  await rm(workDir, { recursive: true, force: true });
});

async function getObject(key: string): Promise<Buffer | null> {
  try {
    const response = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return Buffer.from(
      await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return null;
    throw error;
  }
}

async function listKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.client.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((object) => (object.Key ?? '').slice(prefix.length)));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys.sort();
}

/** Runs a scenario through the synthesized definition into s3rver under `s3://eodh-archive/<root>/`. */
function runIntoS3(scenario: string, root: string): Promise<ScenarioRun> {
  return runScenario(scenario, {
    store: () => createS3Store({ client: s3.client, bucket: s3.bucket, prefix: root }),
  });
}

function jobPrefixOf(scenarioRun: ScenarioRun, root: string): string {
  return `${root}/${scenarioRun.sandbox.workspace}/${scenarioRun.job.jobId}/`;
}

async function readManifestFromS3(prefix: string): Promise<ArchivedManifest> {
  const bytes = await getObject(`${prefix}manifest.json`);
  return JSON.parse(bytes?.toString('utf8') ?? '{}') as ArchivedManifest;
}

/**
 * Checks the job's objects in S3 against its manifest: every archived record's object has the
 * recorded size and SHA-256 and the bytes the sandbox serves, and no failed record left an
 * object. Returns the manifest.
 */
async function expectArchiveMatchesManifest(
  scenarioRun: ScenarioRun,
  root: string,
): Promise<ArchivedManifest> {
  const prefix = jobPrefixOf(scenarioRun, root);
  const manifest = await readManifestFromS3(prefix);
  const keys = await listKeys(prefix);

  for (const record of manifest.records) {
    const stored = keys.includes(record.key);
    expect(stored, `${record.key} stored`).toBe(record.outcome !== 'failed');
    if (record.outcome === 'failed' || record.sha256 === null) continue;
    const bytes = (await getObject(`${prefix}${record.key}`)) ?? Buffer.alloc(0);
    expect(bytes.byteLength, record.key).toBe(record.bytes);
    expect(sha256(bytes), record.key).toBe(record.sha256);
  }
  for (const record of fileRecords(manifest).values()) {
    if (record.outcome === 'failed') continue;
    const bytes = await getObject(`${prefix}${record.key}`);
    const source = await downloadSource(scenarioRun, record.source ?? '');
    expect(bytes?.equals(source), `${record.key} matches the sandbox bytes`).toBe(true);
  }

  // Besides the manifest's objects there are only the plan, the parts and the outcome.
  const recorded = new Set(
    manifest.records.filter((record) => record.outcome !== 'failed').map((r) => r.key),
  );
  const others = keys.filter((key) => !recorded.has(key));
  expect(
    others.filter(
      (key) =>
        !/^(plan\.json|plan\/batch-\d{5}\.json|manifest-parts\/.+\.json|manifest\.json|outcome\.json)$/.test(
          key,
        ),
    ),
  ).toEqual([]);
  return manifest;
}

describe('archive to S3', () => {
  it('archives odd names byte for byte', async () => {
    const scenarioRun = await runIntoS3('odd-names', 'odd');
    const manifest = await expectArchiveMatchesManifest(scenarioRun, 'odd');

    expect(fileRecords(manifest).size).toBe(17);
    expect(manifest.totals.failed).toBe(0);
    const keys = await listKeys(jobPrefixOf(scenarioRun, 'odd'));
    expect(keys).toContain('results/Scène 1 (final)/NDVI map 2026+06 100%.tif');
    expect(keys).toContain('results/Scène 1 (final)/ñandú 日本.png');
  });

  it('archives nested catalogs and odd content', async () => {
    for (const scenario of ['nested-catalogs', 'odd-content']) {
      const scenarioRun = await runIntoS3(scenario, scenario);
      const manifest = await expectArchiveMatchesManifest(scenarioRun, scenario);

      expect(manifest.totals.failed, scenario).toBe(0);
      expect(scenarioRun.result.outcome?.outcome, scenario).toBe('succeeded');
    }
  });

  it('streams a multipart file with its checksum', async () => {
    // 17 MiB is three 8 MiB parts, the last one short.
    vi.stubEnv('EODH_SANDBOX_LARGE_FILE_BYTES', String(17 * 1024 * 1024));
    const scenarioRun = await runIntoS3('large-file', 'large');
    const manifest = await expectArchiveMatchesManifest(scenarioRun, 'large');

    expect(fileRecords(manifest).get('results/large-1/large.tif')).toMatchObject({
      outcome: 'archived',
      bytes: 17 * 1024 * 1024,
    });
    expect(s3.commands).toContain('CompleteMultipartUploadCommand');
  });

  it('leaves no object for failed files and resumes', async () => {
    const scenarioRun = await runIntoS3('truncated-transfer', 'cut');
    const first = await expectArchiveMatchesManifest(scenarioRun, 'cut');
    const failed = first.records.filter((record: ManifestRecord) => record.outcome === 'failed');
    expect(failed.map((record) => record.key)).toEqual(['results/cut-scene/always-cut.tif']);

    scenarioRun.clock.advance(120);
    await monitorAgain(scenarioRun);
    const second = await expectArchiveMatchesManifest(scenarioRun, 'cut');

    // The three documents and the file that failed before are archived; the other three files are skipped.
    expect(second.totals).toMatchObject({ archived: 4, skipped: 3, failed: 0 });
    expect(fileRecords(second).get('results/cut-scene/always-cut.tif')?.outcome).toBe('archived');
  });
});

describe('eodh-monitor run with failed files', () => {
  it('exits 0 and prints each failure', async () => {
    const summaryFile = join(workDir, 'summary.json');
    const endpoint = s3.client.config.endpoint ? await s3.client.config.endpoint() : undefined;
    const endpointUrl = `${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`;

    const { stdout } = await run(
      join(projectRoot, 'node_modules', '.bin', 'tsx'),
      [
        'bin/eodh-monitor.ts',
        'run',
        '--sandbox',
        'bad-checksum',
        '--virtual-clock',
        '--archive',
        `s3://${s3.bucket}/cli`,
        '--s3-endpoint',
        endpointUrl,
        '--summary-json',
        summaryFile,
      ],
      {
        cwd: projectRoot,
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
          AWS_REGION: 'us-east-1',
        },
        timeout: 60_000,
      },
    );

    const summary = JSON.parse(await readFile(summaryFile, 'utf8')) as {
      outcome: string;
      filesArchived: number;
      filesFailed: number;
      failures: { key: string; reason: string }[];
    };
    expect(summary.outcome).toBe('succeeded');
    expect(summary.filesArchived).toBe(3);
    expect(summary.filesFailed).toBe(3);
    expect(summary.failures.map((failure) => failure.key).sort()).toEqual([
      'results/checked/wrong-checksum.tif',
      'results/checked/wrong-size-chunked.tif',
      'results/checked/wrong-size.tif',
    ]);
    expect(stdout).toContain('outcome: succeeded');
    expect(stdout).toContain('not archived: 3 files');
    expect(stdout).toContain(
      '  results/checked/wrong-size.tif: size mismatch: Content-Length is 4096 but file:size is 1000',
    );
  });
});
