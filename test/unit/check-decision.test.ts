import { describe, expect, it } from 'vitest';
import {
  budgetSpent,
  decideCheck,
  type FetchOutcome,
  recordWarnings,
  warningsDue,
} from '../../lambdas/core/check-decision';
import type { CheckResult, JobContext } from '../../lambdas/core/state';
import { parseStatusDocument } from '../../lambdas/core/status';
import running from '../fixtures/eodh/status-running.json';
import { fixtureJob, fixtureJobId, fixtureStatusUrl, runningCheck } from './support/fixtures';

const jobId = fixtureJobId;
const statusUrl = fixtureStatusUrl;
const now = Date.parse('2026-11-30T09:20:04.311Z');
const hour = 3_600_000;

const job: JobContext = fixtureJob({
  generation: 2,
  options: {
    transientErrorBudget: 3,
    authErrorBudget: 2,
    transientErrorBudgetSeconds: 3_600,
    authErrorBudgetSeconds: 7_200,
    checksPerExecution: 5,
    stuckAfterHours: 24,
  },
});

const snapshot = parseStatusDocument(running, statusUrl);
if (snapshot === null) throw new Error('the running fixture is not a status document');
const ok: FetchOutcome = { kind: 'ok', snapshot };
const unavailable: FetchOutcome = {
  kind: 'transient',
  error: 'HTTP 503 from eodatahub.org.uk',
  httpStatus: 503,
  retryAfterSeconds: null,
};
const forbidden: FetchOutcome = {
  kind: 'rejected',
  error: 'token rejected or job not found (HTTP 403)',
  httpStatus: 403,
};

function previous(overrides: Partial<CheckResult> = {}): CheckResult {
  return runningCheck({
    checks: 2,
    checksThisExecution: 2,
    transientErrorsSince: null,
    authErrorsSince: null,
    lastChangeAt: '2026-11-30T09:14:00.000Z',
    warningsSent: [],
    ...overrides,
  });
}

const iso = (ms: number) => new Date(ms).toISOString();
const decide = (last: CheckResult | null, outcome: FetchOutcome, at = now) =>
  decideCheck(job, last, outcome, at, () => 0);

describe('budgetSpent', () => {
  it('needs both the count and the time', () => {
    expect(budgetSpent(4, iso(now - hour), 3, 3_600, now)).toBe(true);
    expect(budgetSpent(3, iso(now - hour), 3, 3_600, now)).toBe(false);
    expect(budgetSpent(40, iso(now - hour + 1), 3, 3_600, now)).toBe(false);
  });

  it('counts an unreadable start as a fresh run', () => {
    expect(budgetSpent(4, 'soon', 3, 1, now)).toBe(false);
    expect(budgetSpent(4, null, 3, 0, now)).toBe(true);
  });
});

describe('decideCheck failure runs', () => {
  it('starts a transient run at the first failure', () => {
    const result = decide(previous(), unavailable);

    expect(result.consecutiveTransientErrors).toBe(1);
    expect(result.transientErrorsSince).toBe(iso(now));
    expect(result.next).toBe('wait');
  });

  it('keeps the start of a running transient run', () => {
    const since = iso(now - 600_000);
    const result = decide(
      previous({ consecutiveTransientErrors: 2, transientErrorsSince: since }),
      unavailable,
    );

    expect(result.transientErrorsSince).toBe(since);
  });

  it('keeps waiting past the count until the time budget is spent', () => {
    const since = iso(now - hour + 1_000);
    const result = decide(
      previous({ consecutiveTransientErrors: 10, transientErrorsSince: since }),
      unavailable,
    );

    expect(result.next).toBe('wait');
  });

  it('gives up once count and time are spent', () => {
    const result = decide(
      previous({ consecutiveTransientErrors: 3, transientErrorsSince: iso(now - hour) }),
      unavailable,
    );

    expect(result.next).toBe('give_up');
    expect(result.giveUpReason).toBe('transient_errors');
    expect(result.lastError).toBe('HTTP 503 from eodatahub.org.uk');
  });

  it('gives up on 401/403 after its own budget', () => {
    const result = decide(
      previous({ consecutiveAuthErrors: 2, authErrorsSince: iso(now - 2 * hour) }),
      forbidden,
    );

    expect(result.giveUpReason).toBe('auth_rejected');
  });

  it('keeps a 401/403 run through a transient failure', () => {
    const since = iso(now - 600_000);
    const result = decide(previous({ consecutiveAuthErrors: 1, authErrorsSince: since }), unavailable);

    expect(result.consecutiveAuthErrors).toBe(1);
    expect(result.authErrorsSince).toBe(since);
    expect(result.transientErrorsSince).toBe(iso(now));
  });

  it('ends both runs with a good answer', () => {
    const result = decide(
      previous({
        consecutiveTransientErrors: 2,
        transientErrorsSince: iso(now - 600_000),
        consecutiveAuthErrors: 1,
        authErrorsSince: iso(now - 600_000),
      }),
      ok,
    );

    expect(result.transientErrorsSince).toBeNull();
    expect(result.authErrorsSince).toBeNull();
    expect(result.consecutiveTransientErrors).toBe(0);
  });

  it('applies the default budgets to options without them', () => {
    const olderJob: JobContext = {
      ...job,
      options: { ...job.options, transientErrorBudgetSeconds: undefined },
    };
    const run = { consecutiveTransientErrors: 3, transientErrorsSince: iso(now - 5 * hour) };

    expect(decideCheck(olderJob, previous(run), unavailable, now, () => 0).next).toBe('wait');
    expect(decideCheck(olderJob, previous(run), unavailable, now + hour, () => 0).next).toBe('give_up');
  });
});

describe('decideCheck continuation', () => {
  it('counts checks of this execution', () => {
    expect(decide(previous(), ok).checksThisExecution).toBe(3);
    expect(decide(null, ok).checksThisExecution).toBe(1);
  });

  it('hands over after checksPerExecution checks', () => {
    const result = decide(previous({ checks: 1_204, checksThisExecution: 4 }), ok);

    expect(result.next).toBe('continue');
    expect(result.checks).toBe(1_205);
    expect(result.continuation?.name).toBe(`${jobId}--g3`);
    expect(result.continuation?.input).toEqual({
      jobId,
      workspace: 'demo-ws',
      statusUrl,
      options: job.options,
      carry: {
        monitorStartedAt: job.monitorStartedAt,
        generation: 3,
        check: { ...result, continuation: null },
      },
    });
  });

  it('hands over while waiting for log links', () => {
    const finished = parseStatusDocument(
      { ...running, status: 'successful', progress: undefined, links: [] },
      statusUrl,
    );
    if (finished === null) throw new Error('not a status document');

    const result = decide(previous({ checksThisExecution: 4 }), { kind: 'ok', snapshot: finished });

    expect(result.next).toBe('continue');
    expect(result.terminalSeenAt).toBe(iso(now));
  });

  it('restarts the count after a handover', () => {
    const result = decide(previous({ next: 'continue', checks: 1_205, checksThisExecution: 5 }), ok);

    expect(result.checksThisExecution).toBe(1);
    expect(result.checks).toBe(1_206);
    expect(result.next).toBe('wait');
  });

  it('archives rather than hands over a finished job', () => {
    const finished = parseStatusDocument(
      {
        ...running,
        status: 'successful',
        progress: undefined,
        links: [{ rel: 'related', type: 'text/plain', href: `${statusUrl}/step.log` }],
      },
      statusUrl,
    );
    if (finished === null) throw new Error('not a status document');

    const result = decide(previous({ checksThisExecution: 4 }), { kind: 'ok', snapshot: finished });

    expect(result.next).toBe('archive');
    expect(result.continuation).toBeNull();
  });
});

describe('decideCheck stuck detection', () => {
  it('records the time of the last change', () => {
    expect(decide(previous({ progress: 20 }), ok).lastChangeAt).toBe(iso(now));
    expect(decide(previous(), ok).lastChangeAt).toBe('2026-11-30T09:14:00.000Z');
    expect(decide(previous({ status: 'accepted', progress: 23 }), ok).lastChangeAt).toBe(iso(now));
  });

  it('keeps the last change through a failed check', () => {
    expect(decide(previous(), unavailable).lastChangeAt).toBe('2026-11-30T09:14:00.000Z');
  });
});

describe('warningsDue', () => {
  it('warns once about the first rejected token', () => {
    const first = decide(previous(), forbidden);

    expect(warningsDue(job, first, forbidden, now)).toEqual(['token_rejected']);
    const sent = recordWarnings(job, first, ['token_rejected']);
    const second = decide(sent, forbidden);
    expect(warningsDue(job, second, forbidden, now)).toEqual([]);
  });

  it('warns when nothing changed for stuckAfterHours', () => {
    const quiet = previous({ lastChangeAt: iso(now - 24 * hour) });

    expect(warningsDue(job, decide(quiet, ok), ok, now)).toEqual(['stuck']);
    expect(warningsDue(job, decide(previous({ lastChangeAt: iso(now - 23 * hour) }), ok), ok, now)).toEqual(
      [],
    );
  });

  it('sends no stuck warning twice', () => {
    const quiet = previous({ lastChangeAt: iso(now - 30 * hour), warningsSent: ['stuck'] });

    expect(warningsDue(job, decide(quiet, ok), ok, now)).toEqual([]);
  });

  it('sends no warning with a give-up', () => {
    const spent = previous({ consecutiveAuthErrors: 2, authErrorsSince: iso(now - 3 * hour) });
    const result = decide(spent, forbidden);

    expect(result.next).toBe('give_up');
    expect(warningsDue(job, result, forbidden, now)).toEqual([]);
  });

  it('records sent warnings in the carried check of a handover', () => {
    const handover = decide(previous({ checksThisExecution: 4 }), forbidden);
    const recorded = recordWarnings(job, handover, ['token_rejected']);

    expect(recorded.warningsSent).toEqual(['token_rejected']);
    expect(recorded.continuation?.input.carry.check.warningsSent).toEqual(['token_rejected']);
  });
});
