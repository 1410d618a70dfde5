import { describe, expect, it } from 'vitest';
import { decideOutcome } from '../../lambdas/core/outcome';
import type { CheckResult, JobContext } from '../../lambdas/core/state';
import { composeWarning, rotateTokenAdvice } from '../../lambdas/core/warning';

const job: Pick<JobContext, 'jobId' | 'workspace' | 'options'> = {
  jobId: 'a-very-long-job-identifier-0001',
  workspace: 'a-workspace-name-that-is-as-long-as-a-dns-label-may-be-0123456789',
  options: {
    pollInitialSeconds: 15,
    pollMaxSeconds: 300,
    maxJobAgeHours: 336,
    transientErrorBudget: 40,
    authErrorBudget: 5,
    logWaitSeconds: 60,
  },
};

const check: CheckResult = {
  status: 'accepted',
  rawStatus: 'accepted',
  progress: null,
  message: 'queued\u001b[31m behind 40 jobs',
  processId: null,
  created: null,
  started: null,
  finished: null,
  updated: null,
  resultsUrl: null,
  logUrls: 0,
  checks: 900,
  consecutiveTransientErrors: 0,
  consecutiveAuthErrors: 0,
  lastError: null,
  lastCheckedAt: '2026-12-03T09:00:00.000Z',
  terminalSeenAt: null,
  next: 'wait',
  giveUpReason: null,
  nextCheckSeconds: 300,
  lastChangeAt: '2026-11-30T09:00:00.000Z',
};

describe('composeWarning', () => {
  it('keeps the subject under 100 ASCII characters', () => {
    const message = composeWarning(
      { kind: 'stuck', job, check, tokenSecretName: null, execution: null },
      Date.parse('2026-12-03T09:00:00Z'),
    );

    expect(message.subject.length).toBeLessThan(100);
    expect(message.subject).toMatch(/^\[EODH\] warning: job looks stuck \(/);
    expect(message.subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it('describes a stuck job in days and cleans the message', () => {
    const message = composeWarning(
      { kind: 'stuck', job, check, tokenSecretName: null, execution: null },
      Date.parse('2026-12-03T09:00:00Z'),
    );

    expect(message.text).toContain('no status or progress change for 3 days');
    expect(message.text).toContain('Last status message: queued behind 40 jobs');
    expect(message.attributes.processId).toBe('unknown');
    expect(message.json).toMatchObject({ type: 'warning', warning: 'stuck', status: 'accepted' });
  });

  it('asks for EODH_TOKEN when no secret is configured', () => {
    const message = composeWarning(
      { kind: 'token_rejected', job, check, tokenSecretName: null, execution: null },
      Date.parse('2026-12-03T09:00:00Z'),
    );

    expect(message.text).toContain(rotateTokenAdvice(null));
    expect(message.text.split('\n')[0]).toBe('token rejected; restart the run with a new EODH_TOKEN');
  });
});

describe('decideOutcome after the job age', () => {
  const old: CheckResult = { ...check, next: 'give_up', giveUpReason: 'job_age' };

  it('says the job was left running by default', () => {
    expect(decideOutcome(job, old).advice).toContain('The job itself was not dismissed.');
  });

  it('says the job was dismissed', () => {
    expect(decideOutcome(job, { ...old, dismissal: 'dismissed' }).advice).toBe(
      'The job was dismissed, as the dismissOnTimeout option requests.',
    );
  });

  it('asks for a manual dismissal when the DELETE failed', () => {
    expect(decideOutcome(job, { ...old, dismissal: 'failed' }).advice).toContain(
      'dismiss it in the EODH workspace',
    );
  });

  it('names the token secret when the token was rejected', () => {
    const rejected: CheckResult = { ...check, next: 'give_up', giveUpReason: 'auth_rejected' };

    expect(decideOutcome(job, rejected, 'eodh/api-token').advice).toContain(
      'store it in the secret named eodh/api-token',
    );
  });
});
