import { jobPrefix } from './manifest';
import type { ErrorInfo } from './notification';
import type { CheckResult, JobContext, MonitorFailureInput, Outcome } from './state';

/** Final outcome of a monitored job, with the words the notification needs to explain it. */
export interface OutcomeDecision {
  outcome: Outcome;
  /** Explanation of the outcome in one line, or null when the job status is enough. */
  reason: string | null;
  /** Next steps for the reader, or null when none are needed. */
  advice: string | null;
  /** Cause of a monitor error or timeout for machine subscribers, or null. */
  error: ErrorInfo | null;
}

const notDismissed = 'The job itself was not dismissed.';
const openHistory = 'Open the execution history (the History link above) to see';

/**
 * Returns the command that monitors a job again, on its own line so a reader can copy it. The
 * ended execution keeps the job's name, so `start` needs `--force`, which starts the next
 * generation and archives the job again.
 */
function startAgain(job: { jobId: string; workspace: string }, extraFlags = '', local = false): string {
  // Only local runs read the token from EODH_TOKEN (no secret name); they re-run with `run`.
  const command = local ? 'run' : 'start';
  return `\n  eodh-monitor ${command} ${job.jobId} --workspace ${job.workspace} --force${extraFlags}\n`;
}

/** Advice after monitoring ended without a final job status, or after a monitor failure. */
function historyAdvice(
  job: { jobId: string; workspace: string } | null,
  what: string,
  local = false,
): string {
  if (job === null) {
    return (
      'The execution input was invalid, as the error above says. ' +
      'Start the monitor with a valid job ID and workspace: eodh-monitor start <jobId> --workspace <ws>'
    );
  }
  return `${openHistory} ${what}. Once the cause is fixed, monitor the job again:${startAgain(job, '', local)}${notDismissed}`;
}

/**
 * Decides the outcome from the last check. A terminal job status decides first. Next comes the
 * reason the monitor gave up: `job_age` is a timeout and any other reason a monitor error. A
 * missing or non-terminal check means that monitoring ended without a final job status.
 */
export function decideOutcome(
  job: Pick<JobContext, 'jobId' | 'workspace' | 'options'>,
  check: CheckResult | null,
  tokenSecretName?: string | null,
): OutcomeDecision {
  if (check?.status === 'successful')
    return { outcome: 'succeeded', reason: null, advice: null, error: null };
  if (check?.status === 'failed') return { outcome: 'failed', reason: null, advice: null, error: null };
  if (check?.status === 'dismissed') return { outcome: 'dismissed', reason: null, advice: null, error: null };

  const local = tokenSecretName === null;
  if (check?.next === 'give_up' && check.giveUpReason === 'job_age') {
    const reason = `the job was still ${check.status} after the maximum job age of ${job.options.maxJobAgeHours} h`;
    // Twice the limit that ran out, within the 8,760 h (one year) that the option accepts.
    const largerLimit = Math.min(8_760, Math.ceil(job.options.maxJobAgeHours * 2));
    let dismissal =
      `${notDismissed} If it is still running, monitor it again with a larger job age limit:` +
      startAgain(job, ` --max-job-age-hours ${largerLimit}`, local).trimEnd();
    if (check.dismissal === 'dismissed') {
      dismissal = 'The job was dismissed, as the dismissOnTimeout option requests.';
    } else if (check.dismissal === 'failed') {
      dismissal =
        'Dismissing the job (dismissOnTimeout) failed, so it may still be running: dismiss it in the EODH workspace.';
    }
    return {
      outcome: 'timed_out',
      reason,
      advice: dismissal,
      error: { name: 'job_age', message: reason },
    };
  }
  if (check?.next === 'give_up' && check.giveUpReason === 'auth_rejected') {
    const reason = `token rejected or job not found (${check.consecutiveAuthErrors} consecutive 401/403 responses)`;
    const secret =
      tokenSecretName === undefined
        ? 'store it in the token secret'
        : tokenSecretName === null
          ? 'set EODH_TOKEN to it'
          : `store it in the secret named ${tokenSecretName}`;
    return {
      outcome: 'monitor_error',
      reason,
      advice:
        'Check that the job ID and workspace are right. If they are, the API token has expired or was revoked, ' +
        `so create a new token in the EODH workspace, ${secret} and monitor the job again:` +
        startAgain(job, '', local) +
        notDismissed,
      error: { name: 'auth_rejected', message: check.lastError ?? reason },
    };
  }
  if (check?.next === 'give_up') {
    const last = check.lastError === null ? '' : ` (last error: ${check.lastError})`;
    const reason = `the status check failed ${check.consecutiveTransientErrors} times in a row${last}`;
    return {
      outcome: 'monitor_error',
      reason,
      advice: `Check that the EODH API is reachable (the last error is above), then monitor the job again:${startAgain(job, '', local)}${notDismissed}`,
      error: { name: check.giveUpReason ?? 'transient_errors', message: check.lastError ?? reason },
    };
  }

  const reason = 'monitoring ended without a final job status';
  return {
    outcome: 'monitor_error',
    reason,
    advice: historyAdvice(job, 'why monitoring ended early', local),
    error: { name: 'no_final_status', message: reason },
  };
}

/** Fields read from the input of `Publish monitor failure`, whatever shape the state had. */
export interface MonitorFailureFacts {
  /** Job ID and workspace from `state.job` when they form a valid archive prefix, or null. */
  job: { jobId: string; workspace: string } | null;
  /** Job ID from the execution input when `state.job` is not valid, for the message text only. */
  untrustedJobId: string | null;
  /** Workspace from the execution input when `state.job` is not valid, for the message text only. */
  untrustedWorkspace: string | null;
  processId: string | null;
  status: string | null;
  message: string | null;
  created: string | null;
  started: string | null;
  finished: string | null;
  /** Archive location from `state.plan` when planning ran. */
  archiveUri: string | null;
  error: ErrorInfo;
  execution: string;
  reason: string;
  advice: string;
}

/**
 * Reads the failure input without trusting its content: this runs as the catch-all last step,
 * so malformed fields become nulls instead of errors.
 */
export function readMonitorFailure(input: MonitorFailureInput): MonitorFailureFacts {
  const state = asRecord(input.state) ?? {};
  const job = readValidJob(state.job);
  const executionInput = job === null ? (asRecord(input.executionInput) ?? {}) : {};
  const check = asRecord(state.check) ?? {};
  const plan = asRecord(state.plan) ?? {};
  const error = unwrapStepFunctionsError(state.error);
  const firstLine = error.message.split('\n').find((line) => line.trim() !== '') ?? '';

  return {
    job,
    untrustedJobId: job === null ? scalarText(executionInput.jobId) : null,
    untrustedWorkspace: job === null ? scalarText(executionInput.workspace) : null,
    processId: stringOrNull(check.processId),
    status: stringOrNull(check.status),
    message: stringOrNull(check.message),
    created: stringOrNull(check.created),
    started: stringOrNull(check.started),
    finished: stringOrNull(check.finished),
    archiveUri: stringOrNull(plan.archiveUri),
    error,
    execution:
      typeof input.executionName === 'string' && input.executionName !== '' ? input.executionName : 'unknown',
    reason:
      firstLine === ''
        ? `the monitor failed with ${error.name}`
        : `the monitor failed with ${error.name}: ${firstLine}`,
    advice: historyAdvice(job, 'which step failed and why'),
  };
}

/**
 * Unwraps the `{ Error, Cause }` object that a Step Functions Catch puts in state. For a Lambda
 * error `Cause` is a JSON string with `errorType` and `errorMessage`; for other errors it is
 * plain text. The name is `Error` when present, which is what the Catch matched.
 */
export function unwrapStepFunctionsError(value: unknown): ErrorInfo {
  const error = asRecord(value);
  if (error === null) return { name: 'unknown', message: 'no error details were recorded' };

  let name = nonEmptyString(error.Error);
  let message: string | null = null;
  let cause: unknown = error.Cause;
  if (typeof cause === 'string') {
    try {
      cause = JSON.parse(cause);
    } catch {
      // Plain text, shown as it is below.
    }
  }
  const causeRecord = asRecord(cause);
  if (causeRecord !== null) {
    name ??= nonEmptyString(causeRecord.errorType);
    message =
      nonEmptyString(causeRecord.errorMessage) ??
      nonEmptyString(causeRecord.message) ??
      JSON.stringify(causeRecord);
  } else if (typeof error.Cause === 'string') {
    message = nonEmptyString(error.Cause);
  } else if (cause !== undefined && cause !== null) {
    message = nonEmptyString(String(cause));
  }
  return { name: name ?? 'unknown', message: message ?? 'no error message was recorded' };
}

function readValidJob(value: unknown): { jobId: string; workspace: string } | null {
  const job = asRecord(value);
  if (job === null || typeof job.jobId !== 'string' || typeof job.workspace !== 'string') return null;
  try {
    jobPrefix(job.workspace, job.jobId);
  } catch {
    return null;
  }
  return { jobId: job.jobId, workspace: job.workspace };
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** Returns strings, numbers and booleans as text, so a numeric job ID in bad input is still shown. */
function scalarText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}
