import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { createGuardedFetch, parseRetryAfter, readBodyText } from './adapters/http';
import {
  buildOnFirstCall,
  logger,
  type MetricsRecorder,
  type MonitorLogger,
  metrics,
  tracer,
  wrapHandler,
} from './adapters/powertools';
import { tokenSourceFromConfig } from './adapters/token';
import { type Env, type MonitorConfig, readMonitorConfig } from './core/config';
import { InvalidInputError, TransientHttpError } from './core/errors';
import { type Clock, type GuardedFetch, type RandomSource, systemClock } from './core/ports';
import { nextCheckSeconds, retryAfterCapSeconds } from './core/schedule';
import {
  type CheckInput,
  type CheckResult,
  giveUpReasons,
  type JobContext,
  jobStatuses,
  monitorOptionsSchema,
  nextSteps,
} from './core/state';
import { isTerminalStatus, parseStatusDocument, type StatusSnapshot, truncateText } from './core/status';
import { describeValue, hostLabelOf } from './core/validation';

/**
 * `Check job status`: one GET of the job's status document, reduced to a small projection and a
 * decision for `Job finished?`. Transient failures and token rejections are counted instead of
 * thrown, so the state machine keeps waiting until a budget runs out. Only rule violations (a URL
 * not allowed) and invalid input throw.
 */

export interface CheckStatusDeps {
  fetch: GuardedFetch;
  clock: Clock;
  random: RandomSource;
  logger: MonitorLogger;
  /** @default metrics are dropped */
  metrics?: MetricsRecorder;
}

/** Status documents are a few KB; 1 MiB leaves room for hundreds of log links. */
const maxStatusDocumentBytes = 1_048_576;
const maxErrorLength = 300;
/** Maximum wait between re-checks of a finished job whose log links are missing. */
const logLinkPollSeconds = 10;

/** Result of one status request: a status snapshot, a transient failure, or a 401/403/404/410 rejection. */
export type FetchOutcome =
  | { kind: 'ok'; snapshot: StatusSnapshot }
  | { kind: 'transient'; error: string; httpStatus: number | null; retryAfterSeconds: number | null }
  | { kind: 'rejected'; error: string; httpStatus: number };

const jobContextSchema = z.object({
  jobId: z.string().min(1),
  workspace: z.string().min(1),
  statusUrl: z.string().min(1),
  options: monitorOptionsSchema,
  monitorStartedAt: z.string().refine((text) => !Number.isNaN(Date.parse(text))),
  generation: z.number().int().min(0),
});

const nullableText = z.string().nullable();
const counter = z.number().int().min(0);

const checkResultSchema = z.object({
  status: z.enum(jobStatuses),
  rawStatus: nullableText,
  progress: z.number().nullable(),
  message: nullableText,
  processId: nullableText,
  created: nullableText,
  started: nullableText,
  finished: nullableText,
  updated: nullableText,
  resultsUrl: nullableText,
  logUrls: counter,
  checks: counter,
  consecutiveTransientErrors: counter,
  consecutiveAuthErrors: counter,
  lastError: nullableText,
  lastCheckedAt: z.string(),
  terminalSeenAt: nullableText,
  next: z.enum(nextSteps),
  giveUpReason: z.enum(giveUpReasons).nullable(),
  nextCheckSeconds: z.number().int().min(1),
});

/** Validates the Task input, which the state machine builds from `$.job` and `$.check`. */
export function parseCheckInput(input: unknown): { job: JobContext; previous: CheckResult | null } {
  const fields = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  const job = jobContextSchema.safeParse(fields.job);
  if (!job.success) {
    const issue = job.error.issues[0];
    const field = ['job', ...(issue?.path ?? []).map(String)].join('.');
    throw new InvalidInputError(
      field,
      `invalid ${field} in the Check job status input: ${issue?.message ?? 'invalid value'}; the state must come from Validate input`,
      { cause: job.error },
    );
  }
  if (fields.previous === undefined || fields.previous === null) {
    return { job: job.data, previous: null };
  }
  const previous = checkResultSchema.safeParse(fields.previous);
  if (!previous.success) {
    const issue = previous.error.issues[0];
    const field = ['previous', ...(issue?.path ?? []).map(String)].join('.');
    throw new InvalidInputError(
      field,
      `invalid ${field} ${describeValue(fields.previous)} in the Check job status input: ${issue?.message ?? 'invalid value'}`,
      { cause: previous.error },
    );
  }
  return { job: job.data, previous: previous.data };
}

function errorText(text: string): string {
  return truncateText(text, maxErrorLength);
}

/** GETs the status document and classifies the response as good, transient or rejected. */
async function fetchStatus(job: JobContext, deps: CheckStatusDeps): Promise<FetchOutcome> {
  const host = hostLabelOf(new URL(job.statusUrl));
  let response: Response;
  try {
    response = await deps.fetch(job.statusUrl, { accept: 'application/json' });
  } catch (error) {
    if (error instanceof TransientHttpError) {
      return { kind: 'transient', error: error.message, httpStatus: error.status, retryAfterSeconds: null };
    }
    throw error;
  }

  const status = response.status;
  if (status === 401 || status === 403 || status === 404 || status === 410) {
    await response.body?.cancel().catch(() => {});
    // EODH returns 403 both for an expired token and for a job that does not exist.
    return {
      kind: 'rejected',
      error: `token rejected or job not found (HTTP ${status})`,
      httpStatus: status,
    };
  }
  if (status < 200 || status > 299) {
    await response.body?.cancel().catch(() => {});
    const retryAfterSeconds =
      status === 429 || status >= 500
        ? parseRetryAfter(response.headers.get('retry-after'), deps.clock.now())
        : null;
    const description = status === 429 || status >= 500 ? `HTTP ${status}` : `unexpected HTTP ${status}`;
    return { kind: 'transient', error: `${description} from ${host}`, httpStatus: status, retryAfterSeconds };
  }

  let text: string;
  try {
    text = await readBodyText(response, maxStatusDocumentBytes, host);
  } catch (error) {
    if (error instanceof TransientHttpError) {
      return { kind: 'transient', error: error.message, httpStatus: status, retryAfterSeconds: null };
    }
    throw error;
  }

  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    const contentType = response.headers.get('content-type');
    let description = 'a response without Content-Type, not JSON,';
    if (contentType?.includes('json')) {
      description = 'malformed JSON';
    } else if (contentType !== null) {
      description = `a ${contentType.split(';')[0]} response, not JSON,`;
    }
    return {
      kind: 'transient',
      error: `${description} from ${host}`,
      httpStatus: status,
      retryAfterSeconds: null,
    };
  }
  const snapshot = parseStatusDocument(document, job.statusUrl);
  if (snapshot === null) {
    return {
      kind: 'transient',
      error: `status document from ${host} is not a JSON object`,
      httpStatus: status,
      retryAfterSeconds: null,
    };
  }
  if (snapshot.jobId !== null && snapshot.jobId !== job.jobId) {
    return {
      kind: 'transient',
      error: `status document is for another job (${describeValue(snapshot.jobId)})`,
      httpStatus: status,
      retryAfterSeconds: null,
    };
  }
  return { kind: 'ok', snapshot };
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

/**
 * Builds the check result from one fetch outcome: pure, so every branch of the decision is
 * tested with a fixed clock and random source.
 */
export function decideCheck(
  job: JobContext,
  previous: CheckResult | null,
  outcome: FetchOutcome,
  nowMs: number,
  random: RandomSource,
): CheckResult {
  const options = job.options;
  const nowIso = new Date(nowMs).toISOString();
  const checks = (previous?.checks ?? 0) + 1;

  let fields: ReturnType<typeof previousStatusFields>;
  let consecutiveTransientErrors = 0;
  let consecutiveAuthErrors = 0;
  let lastError: string | null = null;
  let retryAfterSeconds: number | null = null;
  let progressChanged = false;

  if (outcome.kind === 'ok') {
    const snapshot = outcome.snapshot;
    fields = {
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
    progressChanged =
      previous !== null && snapshot.progress !== null && snapshot.progress !== previous.progress;
  } else {
    fields = previousStatusFields(previous);
    lastError = errorText(outcome.error);
    // A transient error does not end a run of 401/403 responses, and the reverse, so an
    // alternating 403/503 pattern still exhausts one of the budgets.
    consecutiveTransientErrors =
      (previous?.consecutiveTransientErrors ?? 0) + (outcome.kind === 'transient' ? 1 : 0);
    consecutiveAuthErrors = (previous?.consecutiveAuthErrors ?? 0) + (outcome.kind === 'rejected' ? 1 : 0);
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
  };
  const giveUp = (giveUpReason: CheckResult['giveUpReason']): CheckResult => ({
    ...base,
    next: 'give_up',
    giveUpReason,
    nextCheckSeconds: 1,
  });

  // A job already seen finished is archived even if the status endpoint now fails (a dismissed
  // job's status can disappear), so the budgets only apply while the job is still running.
  if (terminal) {
    const waitedSeconds = (nowMs - Date.parse(terminalSeenAt ?? nowIso)) / 1000;
    const remaining = options.logWaitSeconds - waitedSeconds;
    if (fields.logUrls === 0 && fields.status !== 'dismissed' && remaining > 0) {
      const wait = Math.max(1, Math.min(logLinkPollSeconds, Math.ceil(remaining)));
      return { ...base, next: 'wait_for_logs', giveUpReason: null, nextCheckSeconds: wait };
    }
    return { ...base, next: 'archive', giveUpReason: null, nextCheckSeconds: 1 };
  }

  if (consecutiveTransientErrors > options.transientErrorBudget) return giveUp('transient_errors');
  if (consecutiveAuthErrors > options.authErrorBudget) return giveUp('auth_rejected');

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
  return { ...base, next: 'wait', giveUpReason: null, nextCheckSeconds: wait };
}

export function createCheckStatusHandler(deps: CheckStatusDeps): (input: CheckInput) => Promise<CheckResult> {
  const recorder = deps.metrics ?? { addMetric: () => {} };

  return async (input) => {
    const { job, previous } = parseCheckInput(input);
    deps.logger.appendKeys({ job_id: job.jobId, workspace: job.workspace });
    try {
      const outcome = await fetchStatus(job, deps);
      const result = decideCheck(job, previous, outcome, deps.clock.now(), deps.random);

      recorder.addMetric('checks', MetricUnit.Count, 1);
      if (outcome.kind === 'transient') {
        recorder.addMetric('transientErrors', MetricUnit.Count, 1);
        deps.logger.warn('status check failed', {
          error: result.lastError,
          httpStatus: outcome.httpStatus,
          retryAfterSeconds: outcome.retryAfterSeconds,
          consecutiveTransientErrors: result.consecutiveTransientErrors,
        });
      } else if (outcome.kind === 'rejected') {
        recorder.addMetric('authErrors', MetricUnit.Count, 1);
        deps.logger.warn('status check rejected', {
          error: result.lastError,
          httpStatus: outcome.httpStatus,
          consecutiveAuthErrors: result.consecutiveAuthErrors,
        });
      }

      const summary = {
        status: result.status,
        progress: result.progress,
        next: result.next,
        nextCheckSeconds: result.nextCheckSeconds,
        checks: result.checks,
      };
      if (result.next === 'give_up') {
        deps.logger.error('monitor giving up', {
          ...summary,
          reason: result.giveUpReason,
          lastError: result.lastError,
        });
      } else {
        deps.logger.info('job status checked', summary);
      }
      return result;
    } finally {
      deps.logger.removeKeys(['job_id', 'workspace']);
    }
  };
}

/**
 * Builds the dependencies from configuration: the guarded fetch with the configured token
 * source, the system clock and the shared Powertools logger and metrics. The local runtime
 * calls it with configuration read from its own environment.
 */
export function defaultCheckStatusDependencies(
  config: MonitorConfig = readMonitorConfig(),
  env: Env = process.env,
): CheckStatusDeps {
  const client =
    config.tokenSecretName === null ? undefined : tracer.captureAWSv3Client(new SecretsManagerClient({}));
  return {
    fetch: createGuardedFetch({
      allowedHosts: config.allowedHosts.map((pattern) => pattern.text),
      allowLoopback: config.allowLoopback,
      getToken: tokenSourceFromConfig(config, env, { client }),
      timeoutMs: config.httpTimeoutMs,
    }),
    clock: systemClock,
    random: Math.random,
    logger,
    metrics,
  };
}

export const handler = wrapHandler(
  buildOnFirstCall(() => createCheckStatusHandler(defaultCheckStatusDependencies())),
);
