import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../lib/local/virtual-clock';
import { type Sandbox, type SubmittedJob, startSandbox } from '../../lib/sandbox';
import { type LocalS3, startLocalS3 } from '../unit/support/s3rver';

const run = promisify(execFile);
const projectRoot = join(import.meta.dirname, '..', '..');

interface ManifestRecord {
  key: string;
  kind: string;
  source: string | null;
  bytes: number;
  sha256: string | null;
  outcome: string;
}

let s3: LocalS3;
let reference: Sandbox;
let referenceJob: SubmittedJob;
let workDir: string;

beforeAll(async () => {
  s3 = await startLocalS3('eodh-archive');
  // A second sandbox serves the same scenario's bytes: generated content depends only on its
  // seed. Its files are served once a demo job has finished there, so its clock jumps ahead.
  const clock = new VirtualClock();
  reference = await startSandbox({ clock });
  referenceJob = await reference.submit('demo');
  clock.advance(3_600);
  workDir = await mkdtemp(join(tmpdir(), 'eodh-e2e-'));
});

afterAll(async () => {
  await s3?.close();
  await reference?.close();
  await rm(workDir, { recursive: true, force: true });
});

async function getObject(key: string): Promise<Buffer> {
  const response = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return Buffer.from(
    await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

/** Fetches the reference sandbox's copy: assets by their path, logs from the reference job. */
async function fetchReference(record: ManifestRecord): Promise<Buffer> {
  const path = new URL(record.source ?? '').pathname;
  const url =
    record.kind === 'log'
      ? `${referenceJob.statusUrl}/${path.split('/').at(-1)}`
      : `${reference.filesOrigin}${path}`;
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${reference.token}` },
  });
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe('eodh-monitor run --sandbox demo', () => {
  it('archives the demo job to S3 byte for byte', async () => {
    const summaryFile = join(workDir, 'summary.json');
    const endpoint = s3.client.config.endpoint ? await s3.client.config.endpoint() : undefined;
    const endpointUrl = `${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`;

    const { stdout } = await run(
      join(projectRoot, 'node_modules', '.bin', 'tsx'),
      [
        'bin/eodh-monitor.ts',
        'run',
        '--sandbox',
        'demo',
        '--poll-initial-seconds',
        '1',
        '--poll-max-seconds',
        '2',
        '--archive',
        `s3://${s3.bucket}/jobs`,
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

    const summary = JSON.parse(await readFile(summaryFile, 'utf8')) as Record<string, unknown>;
    expect(summary.outcome).toBe('succeeded');
    expect(summary.workspace).toBe('demo-ws');
    expect(summary.archive).toBe(`s3://${s3.bucket}/jobs/demo-ws/${summary.jobId}/`);
    expect(summary.filesArchived).toBe(6);
    expect(stdout).toContain('outcome: succeeded');
    expect(stdout).toContain(`s3://${s3.bucket}/jobs/demo-ws/${summary.jobId}/`);

    const prefix = `jobs/demo-ws/${summary.jobId}/`;
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
    const keys = (listed.Contents ?? []).map((object) => object.Key?.slice(prefix.length));
    expect(keys).toEqual(
      expect.arrayContaining(['status.json', 'manifest.json', 'outcome.json', 'results/collection.json']),
    );

    const manifest = JSON.parse((await getObject(`${prefix}manifest.json`)).toString('utf8')) as {
      records: ManifestRecord[];
    };
    const files = manifest.records.filter((record) => record.kind === 'asset' || record.kind === 'log');
    expect(files).toHaveLength(6);
    expect(summary.bytesArchived).toBe(files.reduce((total, record) => total + record.bytes, 0));

    for (const record of files) {
      const archived = await getObject(`${prefix}${record.key}`);
      expect(archived.byteLength, record.key).toBe(record.bytes);
      expect(createHash('sha256').update(archived).digest('hex'), record.key).toBe(record.sha256);
      if (record.source !== null) {
        const original = await fetchReference(record);
        expect(archived.equals(original), `${record.key} matches the sandbox bytes`).toBe(true);
      }
    }
  });
});
