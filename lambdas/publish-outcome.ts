import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod';
import { buildOnFirstCall, logger, type MonitorLogger, tracer, wrapHandler } from './adapters/powertools';
import { archiveStoreFromEnv } from './adapters/s3-store';
import { createSnsNotifier } from './adapters/sns-notifier';
import {
  buildManifest,
  mergeManifestRecords,
  parseManifestPart,
  summarizeArchive,
} from './core/archive-summary';
import { type Env, readEnvValue } from './core/config';
import { executionConsoleUrl } from './core/console-links';
import { PublishFailedError } from './core/errors';
import { logNamesInLinkOrder, orderLogRecords, readFailingLogTail } from './core/log-tail';
import { archiveKeys, jobPrefix, type ManifestPart, type ManifestRecord } from './core/manifest';
import { composeNotification, type NotificationFacts } from './core/notification';
import { decideOutcome, readMonitorFailure } from './core/outcome';
import { type ArchiveStore, type Clock, type Notifier, type OutcomeMessage, systemClock } from './core/ports';
import {
  type MonitorFailureInput,
  type OutcomeSummary,
  type PublishInput,
  terminalStatuses,
} from './core/state';
import { restoreUnarchivedAssetHrefs } from './core/unarchived-assets';

/** The logger methods this handler uses. */
export type PublishLogger = Pick<MonitorLogger, 'info' | 'warn' | 'error' | 'appendKeys' | 'removeKeys'>;

export interface PublishOutcomeDependencies {
  store: ArchiveStore;
  /** Null when no topic is configured: the outcome is only written to `outcome.json`. */
  notifier: Notifier | null;
  clock: Clock;
  logger: PublishLogger;
  /** AWS region, for the Step Functions console link in monitor error messages. */
  region?: string;
  /**
   * Secret the check function reads the token from, named in the advice of a rejected token.
   * @default undefined, the advice names "the token secret"
   */
  tokenSecretName?: string | null;
}

export type PublishOutcomeHandler = (input: PublishInput | MonitorFailureInput) => Promise<OutcomeSummary>;

/**
 * Builds the handler of `Publish outcome` and `Publish monitor failure`. For a finished run it
 * merges the manifest parts into `manifest.json`, composes the message, writes `outcome.json`
 * and publishes. For a caught error (`failure: true`) it reports a monitor error. That path is
 * the last step, so bad content in the state never makes it throw. Only a failed publish is
 * rethrown, so that Step Functions retries it.
 */
export function createPublishOutcomeHandler(deps: PublishOutcomeDependencies): PublishOutcomeHandler {
  return async (input) => {
    try {
      return isFailureInput(input)
        ? await publishMonitorFailure(deps, input)
        : await publishOutcome(deps, input);
    } finally {
      deps.logger.removeKeys(['job_id', 'workspace', 'execution']);
    }
  };
}

function isFailureInput(input: PublishInput | MonitorFailureInput): input is MonitorFailureInput {
  return (input as Partial<MonitorFailureInput>).failure === true;
}

async function publishOutcome(
  deps: PublishOutcomeDependencies,
  input: PublishInput,
): Promise<OutcomeSummary> {
  const { store, logger } = deps;
  const { job, check, plan, archive } = input;
  const execution = typeof input.execution === 'string' && input.execution !== '' ? input.execution : null;
  logger.appendKeys({
    job_id: job.jobId,
    workspace: job.workspace,
    ...(execution === null ? {} : { execution }),
  });
  const prefix = jobPrefix(job.workspace, job.jobId);
  const decision = decideOutcome(job, check, deps.tokenSecretName);
  const publishedAt = new Date(deps.clock.now()).toISOString();

  const parts = await readManifestParts(store, prefix, logger);
  const records = await restoreUnarchivedAssetHrefs(store, prefix, mergeManifestRecords(parts), logger);
  const manifest = buildManifest(
    {
      jobId: job.jobId,
      workspace: job.workspace,
      processId: check?.processId ?? null,
      outcome: decision.outcome,
      generatedAt: publishedAt,
    },
    records,
  );
  await store.putObject(`${prefix}${archiveKeys.manifest}`, `${JSON.stringify(manifest, null, 2)}\n`, {
    contentType: 'application/json',
  });

  const archiveFacts = summarizeArchive({
    records,
    partsFound: parts.length > 0,
    plan,
    batches: archive,
    uri: plan?.archiveUri ?? store.uriOf(prefix),
    consoleUrl: store.consoleUrlOf(prefix),
  });
  const logTail =
    decision.outcome === 'failed' ? await readLogTailInPlanOrder(store, prefix, records, logger) : null;

  const facts: NotificationFacts = {
    outcome: decision.outcome,
    reason: decision.reason,
    advice: decision.advice,
    jobId: job.jobId,
    workspace: job.workspace,
    untrustedJobId: null,
    untrustedWorkspace: null,
    processId: check?.processId ?? null,
    status: check?.status ?? null,
    message: check?.message ?? null,
    created: check?.created ?? null,
    started: check?.started ?? null,
    finished: check?.finished ?? null,
    logLinks: check !== null && terminalStatuses.includes(check.status) ? check.logUrls : null,
    archive: archiveFacts,
    logTail,
    error: decision.error,
    execution,
    executionArn: typeof input.executionArn === 'string' ? input.executionArn : null,
    stepFunctionsConsoleUrl:
      historyUrl(input.executionArn) ??
      (decision.outcome === 'monitor_error' ? stepFunctionsConsoleUrl(deps.region) : null),
    publishedAt,
  };
  const message = composeNotification(facts);
  await writeOutcome(store, prefix, message);
  const messageId = await publishMessage(deps, message);

  return {
    outcome: decision.outcome,
    subject: message.subject,
    archiveUri: archiveFacts.uri,
    filesArchived: archiveFacts.filesArchived,
    bytesArchived: archiveFacts.bytesArchived,
    filesFailed: archiveFacts.filesFailed,
    messageId,
  };
}

async function publishMonitorFailure(
  deps: PublishOutcomeDependencies,
  input: MonitorFailureInput,
): Promise<OutcomeSummary> {
  const { store, logger } = deps;
  const failure = readMonitorFailure(input);
  const prefix = failure.job === null ? null : jobPrefix(failure.job.workspace, failure.job.jobId);
  logger.appendKeys({
    job_id: failure.job?.jobId,
    workspace: failure.job?.workspace,
    execution: failure.execution,
  });
  logger.warn('monitor failed', {
    execution: failure.execution,
    error: failure.error,
    jobValid: prefix !== null,
  });

  let parts: ManifestPart[] = [];
  if (prefix !== null) {
    try {
      parts = await readManifestParts(store, prefix, logger);
    } catch (error) {
      logger.error('manifest parts not listed', { prefix, error });
    }
  }
  const archiveFacts = summarizeArchive({
    records: mergeManifestRecords(parts),
    partsFound: parts.length > 0,
    plan: null,
    batches: null,
    uri: failure.archiveUri ?? (prefix === null ? null : store.uriOf(prefix)),
    consoleUrl: prefix === null ? null : store.consoleUrlOf(prefix),
  });

  const message = composeNotification({
    outcome: 'monitor_error',
    reason: failure.reason,
    advice: failure.advice,
    jobId: failure.job?.jobId ?? null,
    workspace: failure.job?.workspace ?? null,
    untrustedJobId: failure.untrustedJobId,
    untrustedWorkspace: failure.untrustedWorkspace,
    processId: failure.processId,
    status: failure.status,
    message: failure.message,
    created: failure.created,
    started: failure.started,
    finished: failure.finished,
    logLinks: null,
    archive: archiveFacts,
    logTail: null,
    error: failure.error,
    execution: failure.execution,
    executionArn: typeof input.executionArn === 'string' ? input.executionArn : null,
    stepFunctionsConsoleUrl: historyUrl(input.executionArn) ?? stepFunctionsConsoleUrl(deps.region),
    publishedAt: new Date(deps.clock.now()).toISOString(),
  });

  if (prefix !== null) {
    try {
      await writeOutcome(store, prefix, message);
    } catch (error) {
      logger.error('outcome.json not written', { prefix, error });
    }
  }
  const messageId = await publishMessage(deps, message);

  return {
    outcome: 'monitor_error',
    subject: message.subject,
    archiveUri: archiveFacts.uri,
    filesArchived: archiveFacts.filesArchived,
    bytesArchived: archiveFacts.bytesArchived,
    filesFailed: archiveFacts.filesFailed,
    messageId,
  };
}

/**
 * Reads every `manifest-parts/*.json` under the job prefix in key order. A part that cannot be
 * read or parsed is logged and left out, so one bad part does not block the notification.
 */
async function readManifestParts(
  store: ArchiveStore,
  prefix: string,
  logger: PublishLogger,
): Promise<ManifestPart[]> {
  const keys = (await store.list(`${prefix}${archiveKeys.manifestPartsPrefix}`))
    .filter((key) => key.endsWith('.json'))
    .sort();
  const parts: ManifestPart[] = [];
  for (const key of keys) {
    try {
      const body = await store.getObject(key);
      if (body === null) throw new Error('object listed but not found');
      parts.push(parseManifestPart(new TextDecoder().decode(body)));
    } catch (error) {
      logger.warn('manifest part skipped', { key, error });
    }
  }
  return parts;
}

/**
 * Reads the log tail, taking the logs in the order of the archived status document's log links,
 * which is the plan order. Without that document the records keep their part order.
 */
async function readLogTailInPlanOrder(
  store: ArchiveStore,
  prefix: string,
  records: readonly ManifestRecord[],
  logger: PublishLogger,
) {
  let names: string[] = [];
  try {
    const status = await store.getObject(`${prefix}${archiveKeys.status}`);
    if (status !== null) names = logNamesInLinkOrder(JSON.parse(new TextDecoder().decode(status)));
  } catch (error) {
    logger.warn('archived status document not readable', { key: archiveKeys.status, error });
  }
  const logs = orderLogRecords(
    records.filter((record) => record.kind === 'log'),
    names,
  );
  return readFailingLogTail(store, prefix, logs, logger);
}

async function writeOutcome(store: ArchiveStore, prefix: string, message: OutcomeMessage): Promise<void> {
  await store.putObject(`${prefix}${archiveKeys.outcome}`, `${JSON.stringify(message.json, null, 2)}\n`, {
    contentType: 'application/json',
  });
}

async function publishMessage(
  deps: PublishOutcomeDependencies,
  message: OutcomeMessage,
): Promise<string | null> {
  if (deps.notifier === null) {
    deps.logger.info('outcome not published: no topic configured', { outcome: message.attributes.outcome });
    return null;
  }
  let messageId: string | null;
  try {
    ({ messageId } = await deps.notifier.publish(message));
  } catch (error) {
    deps.logger.warn('outcome not published; Step Functions retries', {
      outcome: message.attributes.outcome,
      error,
    });
    throw new PublishFailedError(
      `publishing the ${message.attributes.outcome} message failed: ${(error as Error).message ?? String(error)}`,
      { cause: error },
    );
  }
  deps.logger.info('outcome published', { outcome: message.attributes.outcome, messageId });
  return messageId;
}

/** Returns the console page of the execution's history, or null without a usable execution ARN. */
function historyUrl(executionArn: string | undefined): string | null {
  return typeof executionArn === 'string' ? executionConsoleUrl(executionArn) : null;
}

/** Returns the Step Functions console link for a region, or null when the region is missing or malformed. */
export function stepFunctionsConsoleUrl(region: string | undefined): string | null {
  if (region === undefined || !/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(region)) return null;
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/statemachines`;
}

/** Environment of the publish function besides the archive store's, set by the CDK stack. */
export interface PublishOutcomeConfig {
  /** Outcome topic, or null to write `outcome.json` without publishing. */
  topicArn: string | null;
  region: string | undefined;
  /** Name of the token secret, for advice text only; this function never reads the secret. */
  tokenSecretName: string | undefined;
}

/**
 * Parses `TOPIC_ARN` and `AWS_REGION`. An invalid value throws `ConfigurationError` naming the
 * variable. The archive store reads `ARCHIVE_BUCKET` and `ARCHIVE_PREFIX` itself.
 */
export function readPublishOutcomeConfig(env: Env = process.env): PublishOutcomeConfig {
  const topicArn = readEnvValue(
    env,
    'TOPIC_ARN',
    z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/),
    'an SNS topic ARN such as arn:aws:sns:eu-west-2:123456789012:eodh-job-outcomes',
    null as string | null,
  );
  const region = readEnvValue(
    env,
    'AWS_REGION',
    z.string().regex(/^[a-z0-9-]{1,30}$/),
    'an AWS region code',
    undefined,
  );
  const tokenSecretName = readEnvValue(
    env,
    'TOKEN_SECRET_NAME',
    z.string().regex(/^[A-Za-z0-9/_+=.@:-]{1,2048}$/),
    'a Secrets Manager secret name or ARN',
    undefined,
  );
  return { topicArn, region, tokenSecretName };
}

export const handler = wrapHandler(
  buildOnFirstCall(() => {
    const config = readPublishOutcomeConfig();
    const store = archiveStoreFromEnv(tracer.captureAWSv3Client(new S3Client({})), process.env);
    const notifier =
      config.topicArn === null
        ? null
        : createSnsNotifier({
            client: tracer.captureAWSv3Client(new SNSClient({})),
            topicArn: config.topicArn,
          });
    return createPublishOutcomeHandler({
      store,
      notifier,
      clock: systemClock,
      logger,
      region: config.region,
      tokenSecretName: config.tokenSecretName,
    });
  }),
);
