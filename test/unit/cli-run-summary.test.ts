import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/program';
import type { RunSummary } from '../../lib/cli/run-command';

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'eodh-cli-summary-'));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function runSandbox(scenario: string): Promise<{ code: number; stdout: string; summary: RunSummary }> {
  let stdout = '';
  const summaryPath = join(workDir, `${scenario}.json`);
  const code = await main(
    [
      'run',
      '--sandbox',
      scenario,
      '--virtual-clock',
      '--archive',
      join(workDir, scenario),
      '--summary-json',
      summaryPath,
    ],
    { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true }, env: {} },
  );
  const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as RunSummary;
  return { code, stdout, summary };
}

describe('eodh-monitor run --summary-json', () => {
  // One run, because each synthesizes the stack (about 6 s on 2 cores).
  it('counts checks, executions, history and messages of a long job', async () => {
    const { code, stdout, summary } = await runSandbox('stuck-accepted');

    expect(code).toBe(0);
    expect(summary).toMatchObject({ outcome: 'succeeded', executionStatus: 'SUCCEEDED' });
    expect(summary.notifications).toEqual({ warning: 1, succeeded: 1 });
    expect(summary.jobDurationSeconds).toBe(5 * 86_400);
    expect(summary.detectionDelaySeconds).toBeGreaterThanOrEqual(0);
    expect(summary.detectionDelaySeconds).toBeLessThanOrEqual(900);
    expect(summary.checks).toBeGreaterThan(500);
    expect(summary.executions).toBe(Math.ceil(summary.checks / 500));
    expect(summary.lambdaInvocations).toBeGreaterThan(summary.checks);
    expect(summary.stateTransitions).toBeGreaterThan(3 * summary.checks);
    expect(summary.maxHistoryEvents).toBeGreaterThan(2_000);
    expect(summary.maxHistoryEvents).toBeLessThan(25_000);
    expect(stdout).toContain('Subject: [EODH] warning: job looks stuck');
    expect(stdout).toContain(`${summary.executions} executions`);
  });
});
