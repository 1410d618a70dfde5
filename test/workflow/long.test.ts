import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionName } from '../../lambdas/core/execution-name';
import { StateName } from '../../lib/state-names';
import { cleanUpLongScenarios, countByKind, type LongRun, runLongScenario } from './long-support';
import { definition } from './support';

/** Step Functions fails a Standard execution at 25,000 history events. */
const historyLimit = 25_000;
const hour = 3_600_000;
const day = 24 * hour;

beforeAll(() => {
  definition();
}, 60_000);

afterAll(async () => {
  await cleanUpLongScenarios();
});

function count(run: LongRun, state: string): number {
  return run.result.statesEntered.filter((name) => name === state).length;
}

/** Seconds from the job's `finished` time to the check that first saw it finished. */
function detectionDelaySeconds(run: LongRun): number {
  const check = run.result.lastCheck;
  return (Date.parse(check?.terminalSeenAt ?? '') - Date.parse(check?.finished ?? '')) / 1000;
}

describe('long jobs in virtual time', () => {
  it('monitors a 30-day job through eight generations', async () => {
    // Waits of up to an hour keep this test at about 1,500 checks; the default 300 s maximum
    // takes about 16,500 checks and 33 generations.
    const run = await runLongScenario('long-30d', {
      options: { pollMaxSeconds: 3_600, checksPerExecution: 200, maxJobAgeHours: 768 },
    });
    const { stats } = run.result;

    expect(run.result.executionStatus).toBe('SUCCEEDED');
    expect(run.result.outcome?.outcome).toBe('succeeded');
    expect(countByKind(run.messages)).toEqual({ succeeded: 1 });
    expect(stats.notifications).toEqual({ succeeded: 1 });
    expect(stats.checks).toBe(1_544);
    expect(stats.executions).toBe(8);
    expect(run.result.executionNames).toEqual(
      Array.from({ length: 8 }, (_, generation) => executionName(run.job.jobId, generation)),
    );
    expect(count(run, StateName.handedOver)).toBe(7);
    expect(count(run, StateName.validateInput)).toBe(8);
    expect(run.result.lastCheck?.checks).toBe(stats.checks);
    expect(stats.maxHistoryEvents).toBeLessThan(historyLimit / 10);
    expect(detectionDelaySeconds(run)).toBeLessThanOrEqual(3_600);
    expect(run.clock.now() - run.submittedAt).toBeGreaterThanOrEqual(30 * day);

    const outcome = JSON.parse(
      await readFile(join(run.archiveRoot, run.sandbox.workspace, run.job.jobId, 'outcome.json'), 'utf8'),
    ) as { outcome: string };
    expect(outcome.outcome).toBe('succeeded');
  });

  it('monitors a 24-hour job in one execution', async () => {
    const run = await runLongScenario('long-24h');
    const { stats } = run.result;

    expect(run.result.outcome?.outcome).toBe('succeeded');
    expect(countByKind(run.messages)).toEqual({ succeeded: 1 });
    // Waits grow to the 15-minute default, so a day takes about 250 checks, under one handover.
    expect(stats.checks).toBe(255);
    expect(stats.executions).toBe(1);
    expect(run.result.lastCheck?.checksThisExecution).toBe(stats.checks);
    expect(stats.maxHistoryEvents).toBeGreaterThan(2_000);
    expect(stats.maxHistoryEvents).toBeLessThan(historyLimit / 5);
    expect(detectionDelaySeconds(run)).toBeLessThanOrEqual(900);
  });

  it('recovers from an expired token once a new one is stored', async () => {
    // Waits of up to 15 minutes cut the checks to a third; the failure budgets are the defaults.
    const run = await runLongScenario('token-rotation-7d', {
      options: { pollMaxSeconds: 900 },
      env: { TOKEN_SECRET_NAME: 'eodh/api-token' },
    });
    const rejected = run.statusRequests.filter((request) => request.status === 403);

    expect(run.result.outcome?.outcome).toBe('succeeded');
    expect(countByKind(run.messages)).toEqual({ warning: 1, succeeded: 1 });
    expect(run.result.stats.executions).toBeGreaterThan(2);
    expect(rejected.length).toBeGreaterThan(100);
    expect(rejected[0]?.at).toBeGreaterThanOrEqual(run.submittedAt + 3 * day);
    expect(rejected.at(-1)?.at).toBeLessThan(run.submittedAt + 4 * day);

    const [warning, outcome] = run.messages;
    expect(warning?.subject).toBe(`[EODH] warning: token rejected (demo-ws, ${run.job.jobId.slice(0, 8)})`);
    expect(warning?.text.split('\n')[0]).toBe('token rejected; rotate the secret named eodh/api-token');
    expect(warning?.attributes.outcome).toBe('warning');
    expect(warning?.sentAt).toBe(rejected[0]?.at);
    expect(outcome?.attributes.outcome).toBe('succeeded');
    expect(run.result.lastCheck?.warningsSent).toEqual(['token_rejected']);
  });

  it('warns once about a job that stays accepted', async () => {
    const run = await runLongScenario('stuck-accepted', { options: { pollMaxSeconds: 900 } });

    expect(run.result.outcome?.outcome).toBe('succeeded');
    expect(countByKind(run.messages)).toEqual({ warning: 1, succeeded: 1 });
    const [warning] = run.messages;
    expect(warning?.subject).toBe(`[EODH] warning: job looks stuck (demo-ws, ${run.job.jobId.slice(0, 8)})`);
    expect(warning?.text).toContain('The job has been accepted since');
    // The first check finds the job `accepted`, and the warning follows 72 h without a change.
    expect(warning?.sentAt).toBeGreaterThanOrEqual(run.submittedAt + 72 * hour);
    expect(warning?.sentAt).toBeLessThan(run.submittedAt + 72 * hour + 900_000);
    expect(run.result.stats.executions).toBeGreaterThan(1);
  });
});
