import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod';
import { createConfiguredFetch } from './adapters/configured-fetch';
import { parseRetryAfter, readBodyText } from './adapters/http';
import {
  buildOnFirstCall,
  logger,
  type MetricsRecorder,
  type MonitorLogger,
  metrics,
  tracer,
  wrapHandler,
} from './adapters/powertools';
import { createSnsNotifier } from './adapters/sns-notifier';
import { decideCheck, type FetchOutcome, recordWarnings, warningsDue } from './core/check-decision';
import { parseCheckResult } from './core/check-result';
import { type Env, type MonitorConfig, readEnvValue, readMonitorConfig } from './core/config';
import { InvalidInputError, TransientHttpError } from './core/errors';
import { type Clock, type GuardedFetch, type Notifier, type RandomSource, systemClock } from './core/ports';
import {
  type CheckInput,
  type CheckResult,
  type JobContext,
  monitorOptionsSchema,
  type WarningKind,
} from './core/state';
import { isTerminalStatus, parseStatusDocument } from './core/status';
import { describeValue, hostLabelOf } from './core/validation';
import { composeWarning } from './core/warning';

export { decideCheck, type FetchOutcome } from './core/check-decision';

/**
 * `Check job status`: one GET of the job's status document, reduced to a small projection and a
 * decision for `Job finished?`. Transient failures and token rejections are counted instead of
 * thrown, so the state machine keeps waiting until a budget runs out. Only rule violations (a URL
 * not allowed) and invalid input throw. The first token rejection and the first long quiet spell
 * of a job are published as warnings, once per job.
 */

export interface CheckStatusDeps {
  fetch: GuardedFetch;
  clock: Clock;
  random: RandomSource;
  logger: MonitorLogger;
  /** @default metrics are dropped */
  metrics?: MetricsRecorder;
  /** Publishes warnings. @default null, warnings are only logged */
  notifier?: Notifier | null;
  /** Secret the token is read from, named in the token warning. @default null, `EODH_TOKEN` */
  tokenSecretName?: string | null;
}

/** Status documents are a few KB; 1 MiB leaves room for hundreds of log links. */
const maxStatusDocumentBytes = 1_048_576;

const jobContextSchema = z.object({
  jobId: z.string().min(1),
  workspace: z.string().min(1),
  statusUrl: z.string().min(1),
  options: monitorOptionsSchema,
  monitorStartedAt: z.string().refine((text) => !Number.isNaN(Date.parse(text))),
  generation: z.number().int().min(0),
});

/** Validates the Task input, which the state machine builds from `$.job` and `$.check`. */
export function parseCheckInput(input: unknown): {
  job: JobContext;
  previous: CheckResult | null;
  execution: string | null;
} {
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
  const execution = typeof fields.execution === 'string' ? fields.execution : null;
  if (fields.previous === undefined || fields.previous === null) {
    return { job: job.data, previous: null, execution };
  }
  const previous = parseCheckResult(fields.previous, 'previous');
  if (!previous.ok) {
    throw new InvalidInputError(
      previous.field,
      `invalid ${previous.field} ${describeValue(fields.previous)} in the Check job status input: ${previous.message}`,
    );
  }
  return { job: job.data, previous: previous.check, execution };
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

/**
 * Sends DELETE to the job's status URL, for a job past `maxJobAgeHours` when `dismissOnTimeout`
 * is set. A failed request is logged and returned as `failed` for the outcome message; this
 * function does not throw.
 */
async function dismissJob(job: JobContext, deps: CheckStatusDeps): Promise<'dismissed' | 'failed'> {
  try {
    const response = await deps.fetch(job.statusUrl, { method: 'DELETE', accept: 'application/json' });
    await response.body?.cancel().catch(() => {});
    if (response.ok) {
      deps.logger.warn('job dismissed after the maximum job age', { httpStatus: response.status });
      return 'dismissed';
    }
    deps.logger.error('job dismissal failed', { httpStatus: response.status });
  } catch (error) {
    deps.logger.error('job dismissal failed', { error });
  }
  return 'failed';
}

/** Publishes the warnings that are due; a failed publish is logged and retried on the next check. */
async function publishWarnings(
  job: JobContext,
  check: CheckResult,
  due: readonly WarningKind[],
  execution: string | null,
  deps: CheckStatusDeps,
): Promise<WarningKind[]> {
  const sent: WarningKind[] = [];
  for (const kind of due) {
    if (deps.notifier == null) {
      deps.logger.warn('warning not published: no topic configured', { warning: kind });
      sent.push(kind);
      continue;
    }
    const message = composeWarning(
      { kind, job, check, tokenSecretName: deps.tokenSecretName ?? null, execution },
      deps.clock.now(),
    );
    try {
      const { messageId } = await deps.notifier.publish(message);
      deps.logger.warn('warning published', { warning: kind, messageId });
      sent.push(kind);
    } catch (error) {
      deps.logger.error('warning not published; the next check tries again', { warning: kind, error });
    }
  }
  return sent;
}

export function createCheckStatusHandler(deps: CheckStatusDeps): (input: CheckInput) => Promise<CheckResult> {
  const recorder = deps.metrics ?? { addMetric: () => {} };

  return async (input) => {
    const { job, previous, execution } = parseCheckInput(input);
    deps.logger.appendKeys({
      job_id: job.jobId,
      workspace: job.workspace,
      ...(execution === null ? {} : { execution }),
    });
    try {
      const outcome = await fetchStatus(job, deps);
      const now = deps.clock.now();
      let result = decideCheck(job, previous, outcome, now, deps.random);

      recorder.addMetric('checks', MetricUnit.Count, 1);
      const detectionDelay = detectionDelaySeconds(previous, result);
      if (detectionDelay !== null) {
        recorder.addMetric('detectionDelay', MetricUnit.Seconds, detectionDelay);
      }
      if (outcome.kind === 'transient') {
        recorder.addMetric('transientErrors', MetricUnit.Count, 1);
        deps.logger.warn('status check failed; retrying at the next check', {
          error: result.lastError,
          httpStatus: outcome.httpStatus,
          retryAfterSeconds: outcome.retryAfterSeconds,
          consecutiveTransientErrors: result.consecutiveTransientErrors,
          transientErrorsSince: result.transientErrorsSince,
          nextCheckSeconds: result.nextCheckSeconds,
        });
      } else if (outcome.kind === 'rejected') {
        recorder.addMetric('authErrors', MetricUnit.Count, 1);
        deps.logger.warn('status check rejected; retrying at the next check', {
          error: result.lastError,
          httpStatus: outcome.httpStatus,
          consecutiveAuthErrors: result.consecutiveAuthErrors,
          authErrorsSince: result.authErrorsSince,
          nextCheckSeconds: result.nextCheckSeconds,
        });
      }

      const due = warningsDue(job, result, outcome, now);
      if (due.length > 0) {
        result = recordWarnings(job, result, await publishWarnings(job, result, due, execution, deps));
      }
      if (result.giveUpReason === 'job_age' && job.options.dismissOnTimeout === true) {
        result = { ...result, dismissal: await dismissJob(job, deps) };
      }

      const summary = {
        status: result.status,
        progress: result.progress,
        next: result.next,
        nextCheckSeconds: result.nextCheckSeconds,
        checks: result.checks,
        checksThisExecution: result.checksThisExecution,
      };
      if (result.next === 'give_up') {
        deps.logger.error('monitor giving up', {
          ...summary,
          reason: result.giveUpReason,
          lastError: result.lastError,
          consecutiveTransientErrors: result.consecutiveTransientErrors,
          consecutiveAuthErrors: result.consecutiveAuthErrors,
        });
      } else if (result.next === 'continue') {
        deps.logger.info('continuing in a new execution', {
          ...summary,
          nextExecution: result.continuation?.name,
        });
      } else {
        deps.logger.info('job status checked', summary);
      }
      return result;
    } finally {
      deps.logger.removeKeys(['job_id', 'workspace', 'execution']);
    }
  };
}

/**
 * Returns the seconds from the job's `finished` time to the check that first saw it terminal,
 * or null for any other check or when `finished` is missing. A negative delay, which only clock
 * skew between EODH and AWS produces, counts as 0.
 */
export function detectionDelaySeconds(previous: CheckResult | null, result: CheckResult): number | null {
  if (!isTerminalStatus(result.status) || (previous !== null && isTerminalStatus(previous.status)))
    return null;
  const finished = result.finished === null ? Number.NaN : Date.parse(result.finished);
  const checked = Date.parse(result.lastCheckedAt);
  if (Number.isNaN(finished) || Number.isNaN(checked)) return null;
  return Math.max(0, Math.round((checked - finished) / 1_000));
}

/**
 * Builds the dependencies from configuration: the guarded fetch with the configured token
 * source, the system clock, the shared Powertools logger and metrics, and an SNS notifier for
 * warnings when `TOPIC_ARN` is set. The local runtime calls it with its own configuration.
 */
export function defaultCheckStatusDependencies(
  config: MonitorConfig = readMonitorConfig(),
  env: Env = process.env,
): CheckStatusDeps {
  const topicArn = readEnvValue(
    env,
    'TOPIC_ARN',
    z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/),
    'an SNS topic ARN such as arn:aws:sns:eu-west-2:123456789012:eodh-job-outcomes',
    null as string | null,
  );
  return {
    fetch: createConfiguredFetch(config, env),
    clock: systemClock,
    random: Math.random,
    logger,
    metrics,
    notifier:
      topicArn === null
        ? null
        : createSnsNotifier({ client: tracer.captureAWSv3Client(new SNSClient({})), topicArn }),
    tokenSecretName: config.tokenSecretName,
  };
}

export const handler = wrapHandler(
  buildOnFirstCall(() => createCheckStatusHandler(defaultCheckStatusDependencies())),
);
