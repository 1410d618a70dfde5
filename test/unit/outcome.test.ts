import { describe, expect, it } from 'vitest';
import { decideOutcome, readMonitorFailure, unwrapStepFunctionsError } from '../../lambdas/core/outcome';
import type { CheckResult, JobContext, MonitorFailureInput } from '../../lambdas/core/state';
import { fixtureJob } from './support/fixtures';

const job: JobContext = fixtureJob({
  jobId: '3f9c2e1a-7b44-11f1-9a3e-0242ac120002',
  workspace: 'demo-ws',
  statusUrl:
    'https://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/3f9c2e1a-7b44-11f1-9a3e-0242ac120002',
  monitorStartedAt: '2026-11-30T09:12:10.000Z',
  generation: 0,
});

function check(overrides: Partial<CheckResult> = {}): CheckResult {
  return {
    status: 'successful',
    rawStatus: 'successful',
    progress: null,
    message: 'ZOO-Kernel successfully run your service!',
    processId: 'ndvi-calc',
    created: '2026-11-30T09:12:04.311Z',
    started: '2026-11-30T09:12:04.311Z',
    finished: '2026-11-30T09:31:57.640Z',
    updated: '2026-11-30T09:31:57.402Z',
    resultsUrl: null,
    logUrls: 2,
    checks: 14,
    consecutiveTransientErrors: 0,
    consecutiveAuthErrors: 0,
    lastError: null,
    lastCheckedAt: '2026-11-30T09:32:10.000Z',
    terminalSeenAt: '2026-11-30T09:32:10.000Z',
    next: 'archive',
    giveUpReason: null,
    nextCheckSeconds: 1,
    ...overrides,
  };
}

describe('decideOutcome', () => {
  it.each([
    ['successful', 'succeeded'],
    ['failed', 'failed'],
    ['dismissed', 'dismissed'],
  ] as const)('maps job status %s to %s', (status, outcome) => {
    expect(decideOutcome(job, check({ status }))).toEqual({
      outcome,
      reason: null,
      advice: null,
      error: null,
    });
  });

  it('lets a terminal status win over giving up', () => {
    expect(
      decideOutcome(job, check({ status: 'failed', next: 'give_up', giveUpReason: 'job_age' })).outcome,
    ).toBe('failed');
  });

  it('times out on job age', () => {
    const decision = decideOutcome(
      job,
      check({ status: 'running', next: 'give_up', giveUpReason: 'job_age' }),
    );
    expect(decision.outcome).toBe('timed_out');
    expect(decision.reason).toBe('the job was still running after the maximum job age of 336 h');
    expect(decision.advice).toContain('The job itself was not dismissed.');
    expect(decision.advice).toContain(
      `\n  eodh-monitor start ${job.jobId} --workspace demo-ws --force --max-job-age-hours 672`,
    );
    expect(decision.error).toEqual({ name: 'job_age', message: decision.reason });
  });

  it('reports a rejected token', () => {
    const decision = decideOutcome(
      job,
      check({
        status: 'running',
        next: 'give_up',
        giveUpReason: 'auth_rejected',
        consecutiveAuthErrors: 5,
        lastError: 'HTTP 403 Forbidden',
      }),
    );
    expect(decision.outcome).toBe('monitor_error');
    expect(decision.reason).toBe('token rejected or job not found (5 consecutive 401/403 responses)');
    expect(decision.advice).toContain('create a new token');
    expect(decision.advice).toContain(`\n  eodh-monitor start ${job.jobId} --workspace demo-ws --force\n`);
    expect(decision.error).toEqual({ name: 'auth_rejected', message: 'HTTP 403 Forbidden' });
  });

  it('advises the run command in local runs', () => {
    const decision = decideOutcome(
      job,
      check({
        status: 'running',
        next: 'give_up',
        giveUpReason: 'transient_errors',
        consecutiveTransientErrors: 41,
        lastError: 'HTTP 503 from eodatahub.org.uk',
      }),
      null,
    );

    expect(decision.advice).toContain(`\n  eodh-monitor run ${job.jobId} --workspace demo-ws --force\n`);
    expect(decision.advice).not.toContain('eodh-monitor start');
  });

  it('reports transient errors with the last one', () => {
    const decision = decideOutcome(
      job,
      check({
        status: 'unknown',
        next: 'give_up',
        giveUpReason: 'transient_errors',
        consecutiveTransientErrors: 40,
        lastError: 'HTTP 503 Service Unavailable',
      }),
    );
    expect(decision.outcome).toBe('monitor_error');
    expect(decision.reason).toBe(
      'the status check failed 40 times in a row (last error: HTTP 503 Service Unavailable)',
    );
    expect(decision.advice).toBe(
      'Check that the EODH API is reachable (the last error is above), then monitor the job again:\n' +
        `  eodh-monitor start ${job.jobId} --workspace demo-ws --force\n` +
        'The job itself was not dismissed.',
    );
    expect(decision.error).toEqual({ name: 'transient_errors', message: 'HTTP 503 Service Unavailable' });
  });

  it('reports a missing check', () => {
    const decision = decideOutcome(job, null);
    expect(decision.outcome).toBe('monitor_error');
    expect(decision.reason).toBe('monitoring ended without a final job status');
    expect(decision.advice).toBe(
      'Open the execution history (the History link above) to see why monitoring ended early. ' +
        'Once the cause is fixed, monitor the job again:\n' +
        `  eodh-monitor start ${job.jobId} --workspace demo-ws --force\n` +
        'The job itself was not dismissed.',
    );
  });

  it.each(['accepted', 'running', 'paused', 'unknown'] as const)(
    'reports non-terminal status %s',
    (status) => {
      const decision = decideOutcome(job, check({ status, next: 'wait' }));
      expect(decision.outcome).toBe('monitor_error');
      expect(decision.reason).toBe('monitoring ended without a final job status');
    },
  );
});

describe('unwrapStepFunctionsError', () => {
  it('unwraps a Lambda error cause', () => {
    const cause = JSON.stringify({
      errorType: 'ArtifactError',
      errorMessage: 'size mismatch on results/a.tif\nsecond line',
      trace: ['ArtifactError: size mismatch', '    at archive (file.js:1:1)'],
    });
    expect(unwrapStepFunctionsError({ Error: 'ArtifactError', Cause: cause })).toEqual({
      name: 'ArtifactError',
      message: 'size mismatch on results/a.tif\nsecond line',
    });
  });

  it('takes the name from the cause without Error', () => {
    const cause = JSON.stringify({ errorType: 'TypeError', errorMessage: 'x is undefined' });
    expect(unwrapStepFunctionsError({ Cause: cause })).toEqual({
      name: 'TypeError',
      message: 'x is undefined',
    });
  });

  it('keeps a plain-text cause', () => {
    expect(
      unwrapStepFunctionsError({ Error: 'States.Timeout', Cause: 'Task timed out after 60.00 seconds' }),
    ).toEqual({
      name: 'States.Timeout',
      message: 'Task timed out after 60.00 seconds',
    });
  });

  it('shows a JSON cause without errorMessage as JSON', () => {
    expect(unwrapStepFunctionsError({ Error: 'States.Runtime', Cause: '{"detail":1}' })).toEqual({
      name: 'States.Runtime',
      message: '{"detail":1}',
    });
  });

  it('keeps a cause that is JSON but not an object', () => {
    expect(unwrapStepFunctionsError({ Error: 'E', Cause: '"quoted"' })).toEqual({
      name: 'E',
      message: '"quoted"',
    });
    expect(unwrapStepFunctionsError({ Error: 'E', Cause: 404 })).toEqual({ name: 'E', message: '404' });
  });

  it('accepts a cause that is already an object', () => {
    expect(unwrapStepFunctionsError({ Error: 'E', Cause: { errorMessage: 'boom' } })).toEqual({
      name: 'E',
      message: 'boom',
    });
  });

  it.each([undefined, null, 'text', 42, []])('describes a missing error (%s)', (value) => {
    expect(unwrapStepFunctionsError(value)).toEqual({
      name: 'unknown',
      message: 'no error details were recorded',
    });
  });

  it('fills an empty error object', () => {
    expect(unwrapStepFunctionsError({ Error: '', Cause: '' })).toEqual({
      name: 'unknown',
      message: 'no error message was recorded',
    });
  });
});

function failureInput(overrides: Partial<MonitorFailureInput> = {}): MonitorFailureInput {
  return {
    failure: true,
    state: {
      job,
      check: check({ status: 'running', next: 'wait' }),
      plan: { archiveUri: `s3://archive-bucket/eodh-jobs/demo-ws/${job.jobId}/` },
      error: { Error: 'States.TaskFailed', Cause: JSON.stringify({ errorMessage: 'S3 access denied' }) },
    },
    executionInput: { jobId: job.jobId, workspace: 'demo-ws' },
    executionName: job.jobId,
    ...overrides,
  };
}

describe('readMonitorFailure', () => {
  it('reads a valid state', () => {
    const facts = readMonitorFailure(failureInput());
    expect(facts).toEqual({
      job: { jobId: job.jobId, workspace: 'demo-ws' },
      untrustedJobId: null,
      untrustedWorkspace: null,
      processId: 'ndvi-calc',
      status: 'running',
      message: 'ZOO-Kernel successfully run your service!',
      created: '2026-11-30T09:12:04.311Z',
      started: '2026-11-30T09:12:04.311Z',
      finished: '2026-11-30T09:31:57.640Z',
      archiveUri: `s3://archive-bucket/eodh-jobs/demo-ws/${job.jobId}/`,
      error: { name: 'States.TaskFailed', message: 'S3 access denied' },
      execution: job.jobId,
      reason: 'the monitor failed with States.TaskFailed: S3 access denied',
      advice:
        'Open the execution history (the History link above) to see which step failed and why. ' +
        'Once the cause is fixed, monitor the job again:\n' +
        `  eodh-monitor start ${job.jobId} --workspace demo-ws --force\n` +
        'The job itself was not dismissed.',
    });
  });

  it('takes identifiers from the execution input when the job is invalid', () => {
    const facts = readMonitorFailure(
      failureInput({
        state: { error: { Error: 'InvalidInputError', Cause: 'invalid jobId' } },
        executionInput: { jobId: '../etc/passwd', workspace: 'Demo WS' },
      }),
    );
    expect(facts.job).toBeNull();
    expect(facts.untrustedJobId).toBe('../etc/passwd');
    expect(facts.untrustedWorkspace).toBe('Demo WS');
    expect(facts.reason).toBe('the monitor failed with InvalidInputError: invalid jobId');
    expect(facts.advice).toBe(
      'The execution input was invalid, as the error above says. ' +
        'Start the monitor with a valid job ID and workspace: eodh-monitor start <jobId> --workspace <ws>',
    );
  });

  it('rejects a state job that is not a safe path segment', () => {
    const facts = readMonitorFailure(failureInput({ state: { job: { ...job, workspace: 'a/b' } } }));
    expect(facts.job).toBeNull();
    expect(facts.untrustedWorkspace).toBe('demo-ws');
  });

  it('shows a numeric job ID from bad input', () => {
    const facts = readMonitorFailure(
      failureInput({ state: {}, executionInput: { jobId: 42, workspace: ['x'] } }),
    );
    expect(facts.untrustedJobId).toBe('42');
    expect(facts.untrustedWorkspace).toBeNull();
  });

  it('survives a state of the wrong type', () => {
    const input = {
      failure: true,
      state: 'broken',
      executionInput: null,
      executionName: 7,
    } as unknown as MonitorFailureInput;
    const facts = readMonitorFailure(input);
    expect(facts.job).toBeNull();
    expect(facts.untrustedJobId).toBeNull();
    expect(facts.processId).toBeNull();
    expect(facts.archiveUri).toBeNull();
    expect(facts.execution).toBe('unknown');
    expect(facts.error).toEqual({ name: 'unknown', message: 'no error details were recorded' });
  });

  it('ignores check fields of the wrong type', () => {
    const facts = readMonitorFailure(
      failureInput({ state: { job, check: { processId: 5, message: ['a'], status: {} } } }),
    );
    expect(facts.processId).toBeNull();
    expect(facts.message).toBeNull();
    expect(facts.status).toBeNull();
  });
});
