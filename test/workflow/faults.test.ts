import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notifier } from '../../lambdas/core/ports';
import { reportedFailureErrors } from '../../lib/monitor-workflow';
import type { ScenarioInput } from '../../lib/sandbox';
import { StateName } from '../../lib/state-names';
import { cleanUpLongScenarios, countByKind, type LongRun, runLongScenario } from './long-support';
import { definition } from './support';

const hour = 3_600_000;
const reported: readonly string[] = Object.values(reportedFailureErrors);

beforeAll(() => {
  definition();
}, 60_000);

afterAll(async () => {
  await cleanUpLongScenarios();
});

/** Wait between each status request that got `status` and the next request. */
function gapsAfter(run: LongRun, status: number): number[] {
  return run.statusRequests.flatMap((request, index) => {
    const next = run.statusRequests[index + 1];
    return request.status === status && next !== undefined ? [(next.at - request.at) / 1000] : [];
  });
}

function logged(run: LongRun, message: string) {
  return run.logs.filter((line) => line.message === message);
}

/** Wraps a notifier so it fails `failures` times with an SNS throttling error, then delivers. */
function throttledFirst(failures: number) {
  return (recording: Notifier): Notifier => {
    let left = failures;
    return {
      async publish(message) {
        if (left > 0) {
          left -= 1;
          throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' });
        }
        return recording.publish(message);
      },
    };
  };
}

const neverEnding: ScenarioInput = {
  name: 'never-ending',
  description: 'a job that keeps running for 20 days',
  processId: 'ndvi-calc',
  timeline: [
    { at: 1, status: 'running', progress: 23, message: 'execution submitted' },
    { at: 20 * 86_400, status: 'successful', message: 'ZOO-Kernel successfully run your service!' },
  ],
};

describe('transient faults', () => {
  it('rides out a burst of 5xx answers', async () => {
    const run = await runLongScenario('burst-5xx');
    const failed = run.statusRequests.filter((request) => request.status >= 500);
    const retries = logged(run, 'status check failed; retrying at the next check');

    expect(run.result.outcome?.outcome).toBe('succeeded');
    expect(countByKind(run.messages)).toEqual({ succeeded: 1 });
    expect(failed.length).toBeGreaterThan(5);
    expect(retries).toHaveLength(failed.length);
    expect(retries.every((line) => line.keys.job_id === run.job.jobId)).toBe(true);
    expect(retries[0]?.attributes.httpStatus).toBe(503);
    expect(run.result.lastCheck?.consecutiveTransientErrors).toBe(0);
    // Plan archive reads the status document once more.
    expect(run.result.stats.checks).toBe(run.statusRequests.length - 1);
  });

  it('waits as long as Retry-After in seconds asks', async () => {
    const run = await runLongScenario('retry-after-seconds');

    expect(run.result.outcome?.outcome).toBe('succeeded');
    expect(gapsAfter(run, 429)).toEqual([120, 120, 120]);
  });

  it('waits until a Retry-After date', async () => {
    const run = await runLongScenario('retry-after-date');

    expect(run.result.outcome?.outcome).toBe('succeeded');
    expect(gapsAfter(run, 503)).toEqual([90, 90, 90]);
  });

  it('times out a body that stalls after the headers', async () => {
    const run = await runLongScenario('stall-after-headers', { fetchTimeoutMs: 200 });
    const errors = logged(run, 'status check failed; retrying at the next check').map(
      (line) => line.attributes.error,
    );

    expect(run.result.outcome?.outcome).toBe('succeeded');
    expect(countByKind(run.messages)).toEqual({ succeeded: 1 });
    expect(errors).toHaveLength(3);
    expect(errors.slice(0, 2)).toEqual([
      expect.stringMatching(/^reading the response from 127\.0\.0\.1:\d+ timed out/),
      expect.stringMatching(/^reading the response from 127\.0\.0\.1:\d+ timed out/),
    ]);
    expect(errors[2]).toMatch(/^timed out after 0\.2 s waiting for 127\.0\.0\.1:\d+$/);
  });

  it('counts malformed and non-JSON documents as transient', async () => {
    const run = await runLongScenario('malformed-json');
    const errors = logged(run, 'status check failed; retrying at the next check').map(
      (line) => line.attributes.error,
    );

    expect(run.result.outcome?.outcome).toBe('succeeded');
    expect(errors).toEqual([
      expect.stringMatching(/^malformed JSON from /),
      expect.stringMatching(/^malformed JSON from /),
      expect.stringMatching(/^a text\/html response, not JSON, from /),
      expect.stringMatching(/^status document from .* is not a JSON object$/),
    ]);
  });

  it('gives up after the count and the time budget, naming the last error', async () => {
    const run = await runLongScenario(
      {
        ...neverEnding,
        name: 'unavailable',
        raw: [{ target: 'status', from: 60, response: { status: 503, body: 'unavailable' } }],
      },
      { options: { transientErrorBudget: 3, transientErrorBudgetSeconds: 3_600 } },
    );
    const firstFailure = run.statusRequests.find((request) => request.status === 503);
    const [message] = run.messages;

    expect(run.result.outcome?.outcome).toBe('monitor_error');
    expect(run.result.error?.name).toBe('MonitorGaveUp');
    expect(reported).toContain(run.result.error?.name);
    expect(countByKind(run.messages)).toEqual({ monitor_error: 1 });
    expect(run.result.lastCheck?.giveUpReason).toBe('transient_errors');
    expect(run.result.lastCheck?.consecutiveTransientErrors).toBeGreaterThan(3);
    expect((message?.sentAt ?? 0) - (firstFailure?.at ?? 0)).toBeGreaterThanOrEqual(hour);
    expect(message?.text).toContain('HTTP 503');
    expect(logged(run, 'monitor giving up')[0]?.keys.job_id).toBe(run.job.jobId);
  });
});

describe('token rejected or job gone', () => {
  it('warns once, then gives up after the 401/403 budget', async () => {
    // 100 checks per execution make the run of rejections span several generations.
    const run = await runLongScenario('vanished', {
      options: { pollMaxSeconds: 900, checksPerExecution: 100 },
    });
    const firstRejection = run.statusRequests.find((request) => request.status === 403);
    const [warning, outcome] = run.messages;

    expect(run.result.outcome?.outcome).toBe('monitor_error');
    expect(run.result.executionStatus).toBe('FAILED');
    expect(run.result.error?.name).toBe('MonitorGaveUp');
    expect(countByKind(run.messages)).toEqual({ warning: 1, monitor_error: 1 });
    expect(warning?.text.split('\n')[0]).toBe('token rejected; restart the run with a new EODH_TOKEN');
    expect(warning?.sentAt).toBe(firstRejection?.at);
    // The default budget: more than 5 rejections over at least 48 hours.
    expect((outcome?.sentAt ?? 0) - (firstRejection?.at ?? 0)).toBeGreaterThanOrEqual(48 * hour);
    expect((outcome?.sentAt ?? 0) - (firstRejection?.at ?? 0)).toBeLessThan(48 * hour + 900_000);
    expect(outcome?.text).toContain('token rejected or job not found');
    expect(outcome?.text).toContain('set EODH_TOKEN to it');
    expect(run.result.stats.executions).toBeGreaterThan(1);
  });
});

describe('job age limit', () => {
  it('times out a job past maxJobAgeHours and leaves it running', async () => {
    const run = await runLongScenario(neverEnding, { options: { maxJobAgeHours: 2 } });

    expect(run.result.outcome?.outcome).toBe('timed_out');
    expect(run.result.statesEntered.at(-1)).toBe(StateName.jobTimedOut);
    expect(countByKind(run.messages)).toEqual({ timed_out: 1 });
    expect(run.messages[0]?.text).toContain('The job itself was not dismissed.');
    expect(run.statusRequests.some((request) => request.method === 'DELETE')).toBe(false);
  });

  it('dismisses the job when dismissOnTimeout is set', async () => {
    const run = await runLongScenario(neverEnding, {
      options: { maxJobAgeHours: 2, dismissOnTimeout: true },
    });

    expect(run.result.outcome?.outcome).toBe('timed_out');
    expect(run.result.lastCheck?.dismissal).toBe('dismissed');
    expect(run.statusRequests.at(-1)).toMatchObject({ method: 'DELETE', status: 200 });
    expect(run.messages[0]?.text).toContain('The job was dismissed');
  });
});

describe('late logs', () => {
  it('archives logs that appear after the job finished', async () => {
    // The job ends 4 s in and links its logs 5 s later, so the checks need to be seconds apart.
    const run = await runLongScenario('logs-late', { options: { pollInitialSeconds: 1, pollMaxSeconds: 2 } });

    expect(run.result.outcome?.outcome).toBe('succeeded');
    expect(run.result.statesEntered).toContain(StateName.waitForLogLinks);
    expect(run.result.lastCheck?.logUrls).toBe(2);
    expect(run.messages[0]?.text).not.toContain('No logs were published');
  });

  it('says so when no logs appear within the wait', async () => {
    const run = await runLongScenario('logs-never');
    const check = run.result.lastCheck;

    expect(run.result.outcome?.outcome).toBe('succeeded');
    expect(check?.logUrls).toBe(0);
    expect(Date.parse(check?.lastCheckedAt ?? '') - Date.parse(check?.terminalSeenAt ?? '')).toBe(60_000);
    expect(countByKind(run.messages)).toEqual({ succeeded: 1 });
    expect(run.messages[0]?.text).toContain('No logs were published');
  });
});

describe('outcome publication', () => {
  it('retries an SNS throttling burst and sends one message', async () => {
    const run = await runLongScenario('logs-never', { notifier: throttledFirst(3) });

    expect(run.result.executionStatus).toBe('SUCCEEDED');
    expect(run.result.outcome?.outcome).toBe('succeeded');
    expect(run.messages).toHaveLength(1);
    expect(run.result.statesEntered.filter((name) => name === StateName.publishOutcome)).toHaveLength(1);
    expect(run.result.stats.notifications).toEqual({ succeeded: 1 });
    expect(logged(run, 'outcome not published; Step Functions retries')).toHaveLength(3);
  });

  // The execution then fails with an error the failed-execution guard reports.
  it('fails with the error when publishing never works', async () => {
    const run = await runLongScenario('logs-never', { notifier: throttledFirst(Number.POSITIVE_INFINITY) });

    expect(run.messages).toHaveLength(0);
    expect(run.result.executionStatus).toBe('FAILED');
    expect(run.result.error?.name).toBe('PublishFailedError');
    expect(reported).not.toContain(run.result.error?.name);
    expect(run.result.statesEntered.slice(-2)).toEqual([
      StateName.publishOutcome,
      StateName.publishMonitorFailure,
    ]);
  });
});
