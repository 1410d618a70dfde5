import { defaultBudgetSeconds, defaultChecksPerExecution, defaultStuckAfterHours } from './config';
import { executionName } from './execution-name';
import type { RandomSource } from './ports';
import { nextCheckSeconds, retryAfterCapSeconds } from './schedule';
import type { CheckResult, Continuation, JobContext, MonitorOptions, WarningKind } from './state';
import { isTerminalStatus, type StatusSnapshot, truncateText } from './status';

/**
 * The decision of `Check job status`: from one fetch outcome and the previous check, the next
 * step for `Job finished?`. Pure functions, so every branch is tested with a fixed clock and
 * random source.
 */

const maxErrorLength = 300;
/** Maximum wait between re-checks of a finished job whose log links are missing. */
const logLinkPollSeconds = 10;

/** Result of one status request: a status snapshot, a transient failure, or a 401/403/404/410 rejection. */
export type FetchOutcome =
  | { kind: 'ok'; snapshot: StatusSnapshot }
  | { kind: 'transient'; error: string; httpStatus: number | null; retryAfterSeconds: number | null }
  | { kind: 'rejected'; error: string; httpStatus: number };

/** The options that may be absent in a state written before they existed, with their defaults. */
export interface EffectiveLimits {
  transientErrorBudgetSeconds: number;
  authErrorBudgetSeconds: number;
  checksPerExecution: number;
  stuckAfterSeconds: number;
}

export function effectiveLimits(options: MonitorOptions): EffectiveLimits {
  return {
    transientErrorBudgetSeconds: options.transientErrorBudgetSeconds ?? defaultBudgetSeconds.transient,
    authErrorBudgetSeconds: options.authErrorBudgetSeconds ?? defaultBudgetSeconds.auth,
    checksPerExecution: options.checksPerExecution ?? defaultChecksPerExecution,
    stuckAfterSeconds: (options.stuckAfterHours ?? defaultStuckAfterHours) * 3_600,
  };
}

/** Time the job's age counts from: its `created` time, else when monitoring started. */
function jobStartMs(job: JobContext, created: string | null): number {
  const createdMs = created === null ? Number.NaN : Date.parse(created);
  return Number.isNaN(createdMs) ? Date.parse(job.monitorStartedAt) : createdMs;
}

/** Copies the status fields of the previous check, for a check that received no document. */
function previousStatusFields(previous: CheckResult | null) {
  return {
    status: previous?.status ?? 'unknown',
    rawStatus: previous?.rawStatus ?? null,
    progress: previous?.progress ?? null,
    message: previous?.message ?? null,
    processId: previous?.processId ?? null,
    created: previous?.created ?? null,
    started: previous?.started ?? null,
    finished: previous?.finished ?? null,
    updated: previous?.updated ?? null,
    resultsUrl: previous?.resultsUrl ?? null,
    logUrls: previous?.logUrls ?? 0,
  } satisfies Partial<CheckResult>;
}

function snapshotFields(snapshot: StatusSnapshot): ReturnType<typeof previousStatusFields> {
  return {
    status: snapshot.status,
    rawStatus: snapshot.rawStatus,
    progress: snapshot.progress,
    message: snapshot.message,
    processId: snapshot.processId,
    created: snapshot.created,
    started: snapshot.started,
    finished: snapshot.finished,
    updated: snapshot.updated,
    resultsUrl: snapshot.resultsUrl,
    logUrls: snapshot.logUrls.length,
  };
}

/**
 * Returns when the current run of failures started: null without failures, now for the first
 * failure of a run, else the start carried from the previous check (now when it is missing).
 */
function runStart(
  failures: number,
  previousFailures: number,
  previousStart: string | null | undefined,
  nowIso: string,
): string | null {
  if (failures === 0) return null;
  if (previousFailures === 0) return nowIso;
  return previousStart ?? nowIso;
}

/** Seconds since an ISO time, or 0 when the time is missing or unreadable. */
function secondsSince(iso: string | null | undefined, nowMs: number): number {
  const at = iso == null ? Number.NaN : Date.parse(iso);
  return Number.isNaN(at) ? 0 : (nowMs - at) / 1000;
}

/**
 * Checks whether a run of consecutive failures has used up its budget: more failures than
 * `count` and at least `seconds` since the first one. Both must be spent, so a burst of quick
 * failures early in a job does not end monitoring, and neither do a few failures a day apart.
 */
export function budgetSpent(
  failures: number,
  since: string | null | undefined,
  count: number,
  seconds: number,
  nowMs: number,
): boolean {
  return failures > count && secondsSince(since, nowMs) >= seconds;
}

/**
 * Builds the check result from one fetch outcome. Counters, failure runs and warnings carry
 * over from `previous`, which a new generation receives from the execution before it.
 */
export function decideCheck(
  job: JobContext,
  previous: CheckResult | null,
  outcome: FetchOutcome,
  nowMs: number,
  random: RandomSource,
): CheckResult {
  const options = job.options;
  const limits = effectiveLimits(options);
  const nowIso = new Date(nowMs).toISOString();
  const checks = (previous?.checks ?? 0) + 1;
  // A carried check has `next: continue`; the first check of a new execution counts from 1.
  const checksThisExecution =
    previous === null || previous.next === 'continue'
      ? 1
      : (previous.checksThisExecution ?? previous.checks) + 1;

  let fields: ReturnType<typeof previousStatusFields>;
  let consecutiveTransientErrors = 0;
  let consecutiveAuthErrors = 0;
  let transientErrorsSince: string | null = null;
  let authErrorsSince: string | null = null;
  let lastChangeAt = previous?.lastChangeAt ?? null;
  let lastError: string | null = null;
  let retryAfterSeconds: number | null = null;
  let progressChanged = false;

  if (outcome.kind === 'ok') {
    fields = snapshotFields(outcome.snapshot);
    progressChanged = previous !== null && fields.progress !== null && fields.progress !== previous.progress;
    const statusChanged = previous === null || fields.status !== previous.status;
    if (lastChangeAt === null || statusChanged || progressChanged) lastChangeAt = nowIso;
  } else {
    fields = previousStatusFields(previous);
    lastError = truncateText(outcome.error, maxErrorLength);
    // A transient error does not end a run of 401/403 responses, and the reverse, so an
    // alternating 403/503 pattern still exhausts one of the budgets.
    const previousTransient = previous?.consecutiveTransientErrors ?? 0;
    const previousAuth = previous?.consecutiveAuthErrors ?? 0;
    consecutiveTransientErrors = previousTransient + (outcome.kind === 'transient' ? 1 : 0);
    consecutiveAuthErrors = previousAuth + (outcome.kind === 'rejected' ? 1 : 0);
    transientErrorsSince = runStart(
      consecutiveTransientErrors,
      previousTransient,
      previous?.transientErrorsSince,
      nowIso,
    );
    authErrorsSince = runStart(consecutiveAuthErrors, previousAuth, previous?.authErrorsSince, nowIso);
    if (outcome.kind === 'transient' && outcome.retryAfterSeconds !== null) {
      retryAfterSeconds = Math.min(Math.max(1, outcome.retryAfterSeconds), retryAfterCapSeconds(options));
    }
  }

  const terminal = isTerminalStatus(fields.status);
  const terminalSeenAt = terminal ? (previous?.terminalSeenAt ?? nowIso) : null;
  const base = {
    ...fields,
    checks,
    consecutiveTransientErrors,
    consecutiveAuthErrors,
    lastError,
    lastCheckedAt: nowIso,
    terminalSeenAt,
    checksThisExecution,
    transientErrorsSince,
    authErrorsSince,
    lastChangeAt,
    warningsSent: [...(previous?.warningsSent ?? [])],
    dismissal: null,
    continuation: null,
  } satisfies Partial<CheckResult>;
  const giveUp = (giveUpReason: CheckResult['giveUpReason']): CheckResult => ({
    ...base,
    next: 'give_up',
    giveUpReason,
    nextCheckSeconds: 1,
  });
  const waitOrContinue = (next: 'wait' | 'wait_for_logs', wait: number): CheckResult => {
    const result: CheckResult = { ...base, next, giveUpReason: null, nextCheckSeconds: wait };
    return checksThisExecution >= limits.checksPerExecution ? continueInNewExecution(job, result) : result;
  };

  // A job already seen finished is archived even if the status endpoint now fails (a dismissed
  // job's status can disappear), so the budgets only apply while the job is still running.
  if (terminal) {
    const remaining = options.logWaitSeconds - secondsSince(terminalSeenAt, nowMs);
    if (fields.logUrls === 0 && fields.status !== 'dismissed' && remaining > 0) {
      return waitOrContinue('wait_for_logs', Math.max(1, Math.min(logLinkPollSeconds, Math.ceil(remaining))));
    }
    return { ...base, next: 'archive', giveUpReason: null, nextCheckSeconds: 1 };
  }

  if (
    budgetSpent(
      consecutiveTransientErrors,
      transientErrorsSince,
      options.transientErrorBudget,
      limits.transientErrorBudgetSeconds,
      nowMs,
    )
  ) {
    return giveUp('transient_errors');
  }
  if (
    budgetSpent(
      consecutiveAuthErrors,
      authErrorsSince,
      options.authErrorBudget,
      limits.authErrorBudgetSeconds,
      nowMs,
    )
  ) {
    return giveUp('auth_rejected');
  }

  const jobAgeSeconds = (nowMs - jobStartMs(job, fields.created)) / 1000;
  if (jobAgeSeconds > options.maxJobAgeHours * 3_600) return giveUp('job_age');

  const wait = nextCheckSeconds({
    options,
    attempt: checks,
    jobAgeSeconds,
    progressChanged,
    progress: fields.progress,
    retryAfterSeconds,
    random,
  });
  return waitOrContinue('wait', wait);
}

/**
 * Turns a waiting check into a handover: `Job finished?` routes `continue` to `Continue in new
 * execution`, which starts the next generation with this input. The new execution checks at
 * once, so a handover costs one check and no wait.
 */
export function continueInNewExecution(job: JobContext, check: CheckResult): CheckResult {
  const carried: CheckResult = { ...check, next: 'continue', continuation: null };
  const generation = job.generation + 1;
  const continuation: Continuation = {
    name: executionName(job.jobId, generation),
    input: {
      jobId: job.jobId,
      workspace: job.workspace,
      statusUrl: job.statusUrl,
      options: job.options,
      carry: { monitorStartedAt: job.monitorStartedAt, generation, check: carried },
    },
  };
  return { ...carried, continuation };
}

/**
 * Lists the warnings this check should publish: the first 401/403 of the job, and the first
 * time the job has shown no status or progress change for `stuckAfterHours`. None when the
 * monitor gives up, because the outcome message then explains, and none twice for one job.
 */
export function warningsDue(
  job: JobContext,
  check: CheckResult,
  outcome: FetchOutcome,
  nowMs: number,
): WarningKind[] {
  if (check.next !== 'wait' && check.next !== 'continue') return [];
  const sent = new Set(check.warningsSent ?? []);
  const due: WarningKind[] = [];
  if (outcome.kind === 'rejected' && !sent.has('token_rejected')) due.push('token_rejected');
  if (
    outcome.kind === 'ok' &&
    !isTerminalStatus(check.status) &&
    !sent.has('stuck') &&
    check.lastChangeAt != null &&
    secondsSince(check.lastChangeAt, nowMs) >= effectiveLimits(job.options).stuckAfterSeconds
  ) {
    due.push('stuck');
  }
  return due;
}

/**
 * Records published warnings in the check, and in the carried check of a handover, so no
 * later check or generation sends them again.
 */
export function recordWarnings(
  job: JobContext,
  check: CheckResult,
  sent: readonly WarningKind[],
): CheckResult {
  if (sent.length === 0) return check;
  const warningsSent = [...new Set([...(check.warningsSent ?? []), ...sent])];
  const updated: CheckResult = { ...check, warningsSent };
  return check.next === 'continue' ? continueInNewExecution(job, updated) : updated;
}
