import { describe, expect, it, vi } from 'vitest';
import type { MonitorLogger } from '../../lambdas/adapters/powertools';
import { createCheckStatusHandler, detectionDelaySeconds } from '../../lambdas/check-status';
import type { CheckResult, JobContext } from '../../lambdas/core/state';
import running from '../fixtures/eodh/status-running.json';
import successful from '../fixtures/eodh/status-successful.json';
import { fixtureJob } from './support/fixtures';

const jobId = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';
/** 47 seconds after the successful fixture's `finished` time, 09:31:57.640Z. */
const now = Date.parse('2026-11-30T09:32:44.640Z');

const job: JobContext = fixtureJob({
  jobId,
  workspace: 'demo-ws',
  statusUrl: `https://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/${jobId}`,
  monitorStartedAt: '2026-11-30T09:12:05.000Z',
  generation: 0,
});

function check(overrides: Partial<CheckResult>): CheckResult {
  return {
    status: 'running',
    rawStatus: 'running',
    progress: 90,
    message: 'delivering outputs, logs and usage report',
    processId: 'ndvi-calc',
    created: '2026-11-30T09:12:04.311Z',
    started: '2026-11-30T09:12:04.311Z',
    finished: null,
    updated: '2026-11-30T09:30:40.118Z',
    resultsUrl: null,
    logUrls: 0,
    checks: 12,
    consecutiveTransientErrors: 0,
    consecutiveAuthErrors: 0,
    lastError: null,
    lastCheckedAt: '2026-11-30T09:31:10.000Z',
    terminalSeenAt: null,
    next: 'wait',
    giveUpReason: null,
    nextCheckSeconds: 30,
    ...overrides,
  };
}

const silent: MonitorLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  appendKeys: () => {},
  removeKeys: () => {},
};

function handlerAnswering(document: unknown) {
  const metrics = { addMetric: vi.fn() };
  const handler = createCheckStatusHandler({
    fetch: async () =>
      new Response(JSON.stringify(document), { headers: { 'content-type': 'application/json' } }),
    clock: { now: () => now },
    random: () => 0,
    logger: silent,
    metrics,
  });
  return { handler, metrics };
}

describe('check-status metrics', () => {
  it('records the detection delay once', async () => {
    const { handler, metrics } = handlerAnswering(successful);

    const result = await handler({ job, previous: check({}) });

    expect(result.status).toBe('successful');
    expect(metrics.addMetric).toHaveBeenCalledWith('checks', 'Count', 1);
    expect(metrics.addMetric).toHaveBeenCalledWith('detectionDelay', 'Seconds', 47);
  });

  it('records no delay while the job runs', async () => {
    const { handler, metrics } = handlerAnswering(running);

    await handler({ job, previous: check({}) });

    expect(metrics.addMetric).not.toHaveBeenCalledWith(
      'detectionDelay',
      expect.anything(),
      expect.anything(),
    );
  });

  it('records no delay on later checks of a finished job', async () => {
    const { handler, metrics } = handlerAnswering(successful);

    await handler({
      job,
      previous: check({ status: 'successful', finished: '2026-11-30T09:31:57.640Z', next: 'wait_for_logs' }),
    });

    expect(metrics.addMetric).not.toHaveBeenCalledWith(
      'detectionDelay',
      expect.anything(),
      expect.anything(),
    );
  });
});

describe('detectionDelaySeconds', () => {
  const finishedCheck = check({
    status: 'failed',
    finished: '2026-11-30T09:13:10.020Z',
    lastCheckedAt: '2026-11-30T09:14:00.000Z',
  });

  it('counts from finished to the check', () => {
    expect(detectionDelaySeconds(null, finishedCheck)).toBe(50);
  });

  it('returns null without a finished time', () => {
    expect(detectionDelaySeconds(null, { ...finishedCheck, finished: null })).toBeNull();
    expect(detectionDelaySeconds(null, { ...finishedCheck, finished: 'soon' })).toBeNull();
  });

  it('counts clock skew as no delay', () => {
    expect(detectionDelaySeconds(null, { ...finishedCheck, lastCheckedAt: '2026-11-30T09:13:00.000Z' })).toBe(
      0,
    );
  });
});
