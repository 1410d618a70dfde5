import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectoryStore } from '../../lambdas/adapters/directory-store';
import { UsageError } from '../../lib/cli/errors';
import {
  checkArchiveWritable,
  checkNotArchived,
  checkSummaryPath,
  messageForFlags,
} from '../../lib/cli/preflight';

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'eodh-preflight-'));
  await writeFile(join(workDir, 'a-file'), 'x');
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('checkArchiveWritable', () => {
  it('creates a missing archive directory', async () => {
    const target = join(workDir, 'new', 'archive');

    await checkArchiveWritable(createDirectoryStore(target), target);

    await expect(writeFile(join(target, 'probe'), 'ok')).resolves.toBeUndefined();
  });

  it('rejects a file as the archive directory', async () => {
    const target = join(workDir, 'a-file');

    await expect(checkArchiveWritable(createDirectoryStore(target), target)).rejects.toThrow(
      /cannot write to the archive directory .*a-file.*(ENOTDIR|EEXIST)/,
    );
  });
});

describe('checkSummaryPath', () => {
  it('accepts a new file in an existing folder', async () => {
    await expect(checkSummaryPath(join(workDir, 'summary.json'))).resolves.toBeUndefined();
  });

  it('rejects a folder that does not exist', async () => {
    await expect(checkSummaryPath(join(workDir, 'a-file', 'summary.json'))).rejects.toThrow(UsageError);
  });

  it('rejects a directory as the file', async () => {
    await expect(checkSummaryPath(workDir)).rejects.toThrow(/is a directory/);
  });
});

describe('checkNotArchived', () => {
  it('rejects a job whose outcome is archived', async () => {
    const root = join(workDir, 'archived');
    const store = createDirectoryStore(root);
    await store.putObject('demo-ws/job-1/outcome.json', '{}', { contentType: 'application/json' });

    await expect(checkNotArchived(store, 'demo-ws', 'job-1')).rejects.toThrow(/already monitored.*--force/);
    await expect(checkNotArchived(store, 'demo-ws', 'job-2')).resolves.toBeUndefined();
  });
});

describe('messageForFlags', () => {
  it('names flags in place of variables', () => {
    expect(messageForFlags('host a.example.org is not allowed (set ALLOWED_HOSTS to add one)')).toBe(
      'host a.example.org is not allowed (add --allowed-host <host> to allow one)',
    );
    expect(messageForFlags('API_URL "x" is not reachable under ALLOWED_HOSTS and ALLOW_LOOPBACK')).toBe(
      '--api-url "x" is not reachable under --allowed-host and --allow-loopback',
    );
  });

  it('suggests --allow-loopback for http on loopback', () => {
    expect(messageForFlags('URL scheme http: on 127.0.0.1:43209 is not allowed: use https')).toContain(
      'add --allow-loopback',
    );
  });
});
