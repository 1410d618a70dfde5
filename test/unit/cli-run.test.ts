import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectoryStore } from '../../lambdas/adapters/directory-store';
import { main } from '../../lib/cli/program';

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'eodh-cli-'));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  });
  return { code, stdout, stderr };
}

describe('eodh-monitor run usage errors', () => {
  it.each([
    [['run', '--workspace', 'demo-ws'], 'missing <jobId>'],
    [['run', '3f9c2e1a'], 'missing --workspace'],
    [['run', 'abc/../etc', '--workspace', 'demo-ws'], '<jobId>'],
    [['run', '3f9c2e1a', '--workspace', 'Demo_WS'], '--workspace'],
    [
      ['run', '3f9c2e1a', '--workspace', 'demo-ws', '--poll-initial-seconds', 'soon'],
      '--poll-initial-seconds',
    ],
    [['run', '3f9c2e1a', '--workspace', 'demo-ws', '--poll-initial-seconds', '0'], '--poll-initial-seconds'],
    [['run', '3f9c2e1a', '--workspace', 'demo-ws', '--archive', 's3://Not_A_Bucket/x'], 'invalid --archive'],
    [
      ['run', '3f9c2e1a', '--workspace', 'demo-ws', '--virtual-clock'],
      '--virtual-clock works only with --sandbox',
    ],
    [['run', '3f9c2e1a', '--workspace', 'demo-ws', '--sandbox', 'demo'], 'leave out <jobId>, --workspace'],
    [['run', '--sandbox', 'demo', '--allowed-host', 'example.org'], 'leave out --allowed-host'],
  ])('rejects %j', async (args, expected) => {
    const result = await cli(args);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(expected);
  });

  it('rejects a status URL on another host before any request', async () => {
    const result = await cli([
      'run',
      '3f9c2e1a',
      '--workspace',
      'demo-ws',
      '--status-url',
      'https://eodh.example.org/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/3f9c2e1a',
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--status-url');
    expect(result.stderr).toContain('eodh.example.org');
  });

  it('rejects a plain http status URL', async () => {
    const result = await cli([
      'run',
      '3f9c2e1a',
      '--workspace',
      'demo-ws',
      '--status-url',
      'http://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/3f9c2e1a',
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--status-url');
    expect(result.stderr).toContain('https');
  });

  it('lists the built-in scenarios for an unknown one', async () => {
    const result = await cli(['run', '--sandbox', 'no-such-scenario']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no-such-scenario');
    expect(result.stderr).toContain('demo');
    expect(result.stderr).toContain('logs-late');
  });

  it('names the file and field of a malformed scenario', async () => {
    const file = join(workDir, 'broken.json');
    await writeFile(
      file,
      JSON.stringify({ name: 'broken', description: 'x', processId: 'p', timeline: [{ at: 'soon' }] }),
    );

    const result = await cli(['run', '--sandbox', file]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toContain('timeline.0');
  });

  it('rejects a scenario file that is not JSON', async () => {
    const file = join(workDir, 'not-json.json');
    await writeFile(file, '{ "name": ');

    const result = await cli(['run', '--sandbox', file]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(file);
  });
});

describe('eodh-monitor run --sandbox --virtual-clock', () => {
  it('exits 0 and writes the summary for a successful job', async () => {
    const summaryFile = join(workDir, 'demo-summary.json');
    const archive = join(workDir, 'archive-demo');

    const result = await cli([
      'run',
      '--sandbox',
      'demo',
      '--virtual-clock',
      '--archive',
      archive,
      '--summary-json',
      summaryFile,
    ]);

    expect(result.code).toBe(0);
    const summary = JSON.parse(await readFile(summaryFile, 'utf8')) as Record<string, unknown>;
    expect(summary.outcome).toBe('succeeded');
    expect(summary.workspace).toBe('demo-ws');
    expect(summary.archive).toBe(`${join(archive, 'demo-ws', String(summary.jobId))}/`);
    expect(summary.filesArchived).toBe(6);
    expect(summary.bytesArchived).toBeGreaterThan(400_000);
    expect(summary.checks).toBeGreaterThanOrEqual(2);
    expect(result.stdout).toContain('Subject: [EODH] ndvi-calc succeeded');
    expect(result.stdout).toContain('outcome: succeeded');
  });

  it('exits 1 for a failed job', async () => {
    const result = await cli([
      'run',
      '--sandbox',
      'failed',
      '--virtual-clock',
      '--archive',
      join(workDir, 'archive-failed'),
    ]);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('outcome: failed');
    expect(result.stdout).toContain('RuntimeError');
  });
});

describe('eodh-monitor run pre-flight checks', () => {
  it('rejects an archive path that is a file before submitting', async () => {
    const file = join(workDir, 'plain-file');
    await writeFile(file, 'x');

    const result = await cli(['run', '--sandbox', 'demo', '--virtual-clock', '--archive', file]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot write to the archive directory');
    expect(result.stderr).not.toContain('submitted scenario');
  });

  it('rejects a summary path in a missing folder before submitting', async () => {
    const result = await cli([
      'run',
      '--sandbox',
      'demo',
      '--virtual-clock',
      '--archive',
      join(workDir, 'archive-preflight'),
      '--summary-json',
      join(workDir, 'missing', 'summary.json'),
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--summary-json');
    expect(result.stderr).not.toContain('submitted scenario');
  });

  it('rejects a missing EODH_TOKEN before any request', async () => {
    const result = await cli([
      'run',
      '3f9c2e1a',
      '--workspace',
      'demo-ws',
      '--archive',
      join(workDir, 'archive-token'),
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('EODH_TOKEN is not set');
  });

  it('names --allowed-host for a status URL on another host', async () => {
    const result = await cli([
      'run',
      '3f9c2e1a',
      '--workspace',
      'demo-ws',
      '--api-url',
      'https://eodatahub.org.uk',
      '--status-url',
      'https://other.example.org/jobs/3f9c2e1a',
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--allowed-host');
    expect(result.stderr).not.toContain('ALLOWED_HOSTS');
  });

  it('refuses to monitor an archived job again without --force', async () => {
    const archive = join(workDir, 'archive-twice');
    const store = createDirectoryStore(archive);
    await store.putObject('demo-ws/3f9c2e1a/outcome.json', '{"outcome":"failed"}', {
      contentType: 'application/json',
    });

    const result = await cli(['run', '3f9c2e1a', '--workspace', 'demo-ws', '--archive', archive], {
      EODH_TOKEN: 'token-for-the-test',
    });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('already monitored');
    expect(result.stderr).toContain('--force');
    expect(await readFile(join(archive, 'demo-ws', '3f9c2e1a', 'outcome.json'), 'utf8')).toBe(
      '{"outcome":"failed"}',
    );
  });
});
