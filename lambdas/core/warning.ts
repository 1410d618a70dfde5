import { cleanText, cutChars, toAttributeValue, toPrintableAscii } from './notification';
import type { OutcomeMessage } from './ports';
import type { CheckResult, JobContext, WarningKind } from './state';

/**
 * Warning messages, sent to the outcome topic while monitoring goes on. The check result records
 * each kind sent, across generations, so a job gets each kind once (twice only if a Lambda
 * retry repeats a check after SNS accepted the warning). The `outcome` attribute is `warning`,
 * so subscribers and filter policies can tell warnings from the job's one outcome message.
 */

export const warningOutcome = 'warning';

/** SNS rejects subjects of 100 characters or more. */
const maxSubjectChars = 99;

export interface WarningFacts {
  kind: WarningKind;
  job: Pick<JobContext, 'jobId' | 'workspace' | 'options'>;
  check: CheckResult;
  /** Secrets Manager secret holding the token, or null when the token comes from `EODH_TOKEN`. */
  tokenSecretName: string | null;
  /** `$$.Execution.Name` of the execution that sent the warning, when known. */
  execution: string | null;
}

const headlines: Record<WarningKind, string> = {
  token_rejected: 'token rejected',
  stuck: 'job looks stuck',
};

function subjectFor(facts: WarningFacts): string {
  const workspace = toPrintableAscii(facts.job.workspace) || 'unknown';
  const shortId = (toPrintableAscii(facts.job.jobId).replaceAll(' ', '') || 'unknown').slice(0, 8);
  const subject = `[EODH] warning: ${headlines[facts.kind]} (${workspace}, ${shortId})`;
  return subject.length <= maxSubjectChars ? subject : `${subject.slice(0, maxSubjectChars - 3)}...`;
}

function hoursText(seconds: number): string {
  const hours = seconds / 3_600;
  return hours >= 48 ? `${Math.round(hours / 24)} days` : `${Math.round(hours)} h`;
}

/** Returns the action a token warning requests, naming where the token is read from. */
export function rotateTokenAdvice(tokenSecretName: string | null): string {
  return tokenSecretName === null
    ? // Only local runs read EODH_TOKEN, and a running process cannot pick up a new value.
      'Create a new token in the EODH workspace (Credentials), stop this run and start it again with EODH_TOKEN set to the new token.'
    : `Create a new token in the EODH workspace (Credentials) and store it in the secret named ${tokenSecretName}; the next check reads it, so monitoring recovers without a restart.`;
}

function bodyLines(facts: WarningFacts, nowMs: number): string[] {
  const { check } = facts;
  if (facts.kind === 'token_rejected') {
    return [
      facts.tokenSecretName === null
        ? 'token rejected; restart the run with a new EODH_TOKEN'
        : `token rejected; rotate the secret named ${facts.tokenSecretName}`,
      '',
      `The EODH API rejected the status request (${check.lastError ?? 'HTTP 401/403'}).`,
      'EODH answers 403 both for an expired token (tokens last at most 30 days) and for a job that does not exist.',
      rotateTokenAdvice(facts.tokenSecretName),
      'If the job ID or workspace is wrong, stop this monitor instead.',
      'Monitoring goes on; this warning is sent once per job.',
    ];
  }
  const since = check.lastChangeAt ?? check.lastCheckedAt;
  const quietSeconds = Math.max(0, (nowMs - Date.parse(since)) / 1000);
  const progress = check.progress === null ? '' : `, progress ${check.progress} %`;
  return [
    `job looks stuck: no status or progress change for ${hoursText(quietSeconds)}`,
    '',
    `The job has been ${check.status}${progress} since ${since}.`,
    `Last status message: ${cutChars(cleanText(check.message ?? '(none)').replace(/\s+/g, ' '), 300)}`,
    'Check the job in the EODH workspace. Monitoring goes on; this warning is sent once per job.',
  ];
}

/** Composes the warning message of one kind for one job. */
export function composeWarning(facts: WarningFacts, nowMs: number): OutcomeMessage {
  const lines = [
    ...bodyLines(facts, nowMs),
    '',
    `Job:        ${facts.job.jobId}`,
    `Workspace:  ${facts.job.workspace}`,
    `Process:    ${facts.check.processId ?? 'unknown'}`,
    `Checks:     ${facts.check.checks}`,
  ];
  if (facts.execution !== null) lines.push(`Execution:  ${facts.execution}`);
  return {
    subject: subjectFor(facts),
    text: `${lines.join('\n')}\n`,
    json: {
      type: 'warning',
      warning: facts.kind,
      jobId: facts.job.jobId,
      workspace: facts.job.workspace,
      processId: facts.check.processId,
      status: facts.check.status,
      progress: facts.check.progress,
      lastError: facts.check.lastError,
      lastChangeAt: facts.check.lastChangeAt ?? null,
      checks: facts.check.checks,
      execution: facts.execution,
      tokenSecretName: facts.kind === 'token_rejected' ? facts.tokenSecretName : null,
      sentAt: new Date(nowMs).toISOString(),
    },
    attributes: {
      outcome: warningOutcome,
      workspace: toAttributeValue(facts.job.workspace),
      processId: toAttributeValue(facts.check.processId),
    },
  };
}
