import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectoryStore } from '../../lambdas/adapters/directory-store';
import type { ArchiveStore } from '../../lambdas/core/ports';
import { StateName } from '../../lib/state-names';
import { cleanUpScenarios, definition, runScenario } from './support';

interface Manifest {
  totals: { archived: number; skipped: number; failed: number; bytes: number };
  records: {
    key: string;
    kind: string;
    bytes: number;
    sha256: string | null;
    outcome: string;
    source: string | null;
  }[];
}

async function readJson<T>(root: string, ...parts: string[]): Promise<T> {
  return JSON.parse(await readFile(join(root, ...parts), 'utf8')) as T;
}

function failingStore(root: string, inner: ArchiveStore): ArchiveStore {
  return {
    ...inner,
    location: root,
    async putObject(key) {
      throw new Error(`disk full while writing ${key}`);
    },
  };
}

beforeAll(() => {
  definition();
}, 60_000);

afterAll(async () => {
  await cleanUpScenarios();
});

describe('monitor workflow on the synthesized definition', () => {
  it('archives and reports a successful job', async () => {
    const run = await runScenario('demo');
    const prefix = `${run.sandbox.workspace}/${run.job.jobId}`;

    expect(run.result.executionStatus).toBe('SUCCEEDED');
    expect(run.result.outcome?.outcome).toBe('succeeded');
    expect(run.result.statesEntered.at(-1)).toBe(StateName.jobSucceeded);
    expect(run.result.statesEntered).toContain(StateName.waitForNextCheck);
    expect(run.result.statesEntered).not.toContain(StateName.publishMonitorFailure);

    const manifest = await readJson<Manifest>(run.archiveRoot, prefix, 'manifest.json');
    const keys = manifest.records.map((record) => record.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        'status.json',
        'results/collection.json',
        'results/ndvi-20260601.json',
        'results/ndvi-20260601/ndvi.tif',
        'results/ndvi-20260601/ndvi-thumb.png',
        'results/ndvi-20260615/ndvi.tif',
        'logs/ndvi.log',
        'logs/node_stage_out.log',
      ]),
    );
    expect(manifest.totals.failed).toBe(0);
    expect(run.result.outcome?.filesArchived).toBe(6);

    const outcome = await readJson<{ outcome: string; jobId: string }>(
      run.archiveRoot,
      prefix,
      'outcome.json',
    );
    expect(outcome.outcome).toBe('succeeded');
    expect(outcome.jobId).toBe(run.job.jobId);

    expect(run.messages).toHaveLength(1);
    expect(run.messages[0]?.subject).toBe(
      `[EODH] ndvi-calc succeeded (demo-ws, ${run.job.jobId.slice(0, 8)})`,
    );
    expect(run.messages[0]?.attributes).toEqual({
      outcome: 'succeeded',
      workspace: 'demo-ws',
      processId: 'ndvi-calc',
    });
  });

  it('rewrites archived STAC hrefs to relative copies', async () => {
    const run = await runScenario('demo');
    const prefix = join(run.archiveRoot, run.sandbox.workspace, run.job.jobId);

    const collection = await readJson<{ links: { rel: string; href: string }[] }>(
      prefix,
      'results',
      'collection.json',
    );
    const itemLinks = collection.links.filter((link) => link.rel === 'item').map((link) => link.href);
    expect(itemLinks.sort()).toEqual(['./ndvi-20260601.json', './ndvi-20260615.json']);

    const item = await readJson<{ assets: Record<string, { href: string }> }>(
      prefix,
      'results',
      'ndvi-20260601.json',
    );
    expect(item.assets.data?.href).toBe('./ndvi-20260601/ndvi.tif');
    const archived = await readFile(join(prefix, 'results', 'ndvi-20260601', 'ndvi.tif'));
    expect(archived.byteLength).toBeGreaterThan(100_000);
  });

  it('reports a failed job with its log tail', async () => {
    const run = await runScenario('failed');

    expect(run.result.executionStatus).toBe('SUCCEEDED');
    expect(run.result.outcome?.outcome).toBe('failed');
    expect(run.result.statesEntered.at(-1)).toBe(StateName.jobFailed);
    expect(run.messages).toHaveLength(1);
    const text = run.messages[0]?.text ?? '';
    expect(text).toContain('RuntimeError');
    expect(text).toContain('ndvi.log');
    const logCopy = await readFile(
      join(run.archiveRoot, run.sandbox.workspace, run.job.jobId, 'logs', 'ndvi.log'),
      'utf8',
    );
    expect(logCopy.length).toBeGreaterThan(0);
  });

  it('reports a bare failure without results or logs', async () => {
    const run = await runScenario('failed-bare', { options: { logWaitSeconds: 20 } });

    expect(run.result.outcome?.outcome).toBe('failed');
    expect(run.result.statesEntered).toContain(StateName.waitForLogLinks);
    expect(run.result.outcome?.filesArchived).toBe(0);
    expect(run.messages).toHaveLength(1);
    expect(run.messages[0]?.text).toContain('No logs were published');
  });

  it('reports a dismissed job without waiting for logs', async () => {
    const run = await runScenario('dismissed');

    expect(run.result.outcome?.outcome).toBe('dismissed');
    expect(run.result.statesEntered.at(-1)).toBe(StateName.jobDismissed);
    expect(run.result.statesEntered).not.toContain(StateName.waitForLogLinks);
    expect(run.messages[0]?.attributes.outcome).toBe('dismissed');
  });

  it('waits for late log links and archives them', async () => {
    const run = await runScenario('logs-late', { options: { logWaitSeconds: 60 } });
    const prefix = `${run.sandbox.workspace}/${run.job.jobId}`;

    expect(run.result.outcome?.outcome).toBe('succeeded');
    expect(run.result.statesEntered).toContain(StateName.waitForLogLinks);
    const manifest = await readJson<Manifest>(run.archiveRoot, prefix, 'manifest.json');
    const logs = manifest.records.filter((record) => record.kind === 'log').map((record) => record.key);
    expect(logs.length).toBeGreaterThan(0);
    expect(run.result.lastCheck?.logUrls).toBe(logs.length);
  });

  it('publishes a monitor error for invalid input', async () => {
    const run = await runScenario('demo', {
      input: (_job, sandbox) => ({ jobId: '../escape', workspace: sandbox.workspace }),
    });

    expect(run.result.executionStatus).toBe('FAILED');
    expect(run.result.error?.name).toBe('MonitorFailed');
    expect(run.result.outcome?.outcome).toBe('monitor_error');
    expect(run.result.statesEntered).toEqual([
      StateName.validateInput,
      StateName.publishMonitorFailure,
      StateName.monitorFailed,
    ]);
    expect(run.messages).toHaveLength(1);
    expect(run.messages[0]?.text).toContain('jobId');
    expect(run.result.stats.checks).toBe(0);
  });

  it('publishes a monitor error when the archive store fails', async () => {
    const run = await runScenario('demo', {
      store: (root) => failingStore(root, createDirectoryStore(root)),
    });

    expect(run.result.executionStatus).toBe('FAILED');
    expect(run.result.outcome?.outcome).toBe('monitor_error');
    expect(run.result.statesEntered).toContain(StateName.planArchive);
    expect(run.result.statesEntered.at(-1)).toBe(StateName.monitorFailed);
    expect(run.messages).toHaveLength(1);
    expect(run.messages[0]?.text).toContain('disk full');
  });

  it('gives up after the transient error budget', async () => {
    const run = await runScenario(
      {
        name: 'status-unavailable',
        description: 'the status endpoint answers 503 until the budget runs out',
        processId: 'ndvi-calc',
        timeline: [{ at: 600, status: 'successful', message: 'never reached' }],
        raw: [
          {
            target: 'status',
            response: { status: 503, headers: { 'retry-after': '2' }, body: 'unavailable' },
          },
        ],
      },
      { options: { transientErrorBudget: 3, transientErrorBudgetSeconds: 0 } },
    );

    expect(run.result.outcome?.outcome).toBe('monitor_error');
    expect(run.result.executionStatus).toBe('FAILED');
    expect(run.result.error?.name).toBe('MonitorGaveUp');
    expect(run.result.lastCheck?.consecutiveTransientErrors).toBe(4);
    expect(run.result.lastCheck?.lastError).toContain('503');
    expect(run.messages).toHaveLength(1);
  });
});
