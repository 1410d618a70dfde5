import type { CheckResult, JobContext, MonitorOptions } from '../../../lambdas/core/state';

/** Job ID of the fixture documents in test/fixtures/eodh/. */
export const fixtureJobId = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';

export const fixtureStatusUrl = `https://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/${fixtureJobId}`;

/** Monitoring options as the tests were written against them (the 300 s ceiling, 14-day age limit). */
export const fixtureOptions: MonitorOptions = {
  pollInitialSeconds: 15,
  pollMaxSeconds: 300,
  maxJobAgeHours: 336,
  transientErrorBudget: 40,
  authErrorBudget: 5,
  logWaitSeconds: 60,
};

/** Builds the fixture job's context; `options` overrides merge into `fixtureOptions`. */
export function fixtureJob(
  overrides: Omit<Partial<JobContext>, 'options'> & { options?: Partial<MonitorOptions> } = {},
): JobContext {
  const { options, ...rest } = overrides;
  return {
    jobId: fixtureJobId,
    workspace: 'demo-ws',
    statusUrl: fixtureStatusUrl,
    monitorStartedAt: '2026-11-30T09:12:05.000Z',
    generation: 0,
    ...rest,
    options: { ...fixtureOptions, ...options },
  };
}

/** Builds a previous check of the running fixture job, as the state machine passes it back in. */
export function runningCheck(overrides: Partial<CheckResult> = {}): CheckResult {
  return {
    status: 'running',
    rawStatus: 'running',
    progress: 23,
    message: 'execution submitted',
    processId: 'ndvi-calc',
    created: '2026-11-30T09:12:04.311Z',
    started: '2026-11-30T09:12:04.311Z',
    finished: null,
    updated: '2026-11-30T09:14:40.118Z',
    resultsUrl: null,
    logUrls: 0,
    checks: 4,
    consecutiveTransientErrors: 0,
    consecutiveAuthErrors: 0,
    lastError: null,
    lastCheckedAt: '2026-11-30T09:19:00.000Z',
    terminalSeenAt: null,
    next: 'wait',
    giveUpReason: null,
    nextCheckSeconds: 30,
    ...overrides,
  };
}
