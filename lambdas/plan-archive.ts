import { S3Client } from '@aws-sdk/client-s3';
import { createConfiguredFetch } from './adapters/configured-fetch';
import { buildOnFirstCall, logger, type MonitorLogger, tracer, wrapHandler } from './adapters/powertools';
import { archiveStoreFromEnv } from './adapters/s3-store';
import { defaultRetryPolicy, type RetryPolicy } from './core/concurrency';
import { type Env, type MonitorConfig, readMonitorConfig } from './core/config';
import { executionName } from './core/execution-name';
import { defaultBatchSize, planArchive, validateArchiveJob } from './core/plan';
import { type ArchiveStore, type Clock, type GuardedFetch, systemClock } from './core/ports';
import type { CheckResult, JobContext, PlanSummary } from './core/state';

export interface PlanArchiveDependencies {
  fetch: GuardedFetch;
  store: ArchiveStore;
  clock: Clock;
  logger: Pick<MonitorLogger, 'info' | 'warn' | 'appendKeys' | 'removeKeys'>;
  /**
   * Files per `Archive artifacts` batch; one batch is one Lambda invocation.
   * @default 25
   */
  batchSize?: number;
  /** @default three attempts, 1 s and 4 s apart */
  retry?: RetryPolicy;
}

export interface PlanArchiveInput {
  job: JobContext;
  /** Last status check; used for the job status and results link when the status re-fetch fails. */
  check: CheckResult | null;
}

/**
 * Builds the handler of `Plan archive`: stores the job's status, results and item documents,
 * writes `plan.json` with one `plan/batch-<n>.json` per batch and returns the batch indices
 * for the Map state. Problems with the job's
 * documents are reported in the summary; only store errors and invalid input throw.
 */
export function createPlanArchiveHandler(
  dependencies: PlanArchiveDependencies,
): (input: PlanArchiveInput) => Promise<PlanSummary> {
  const batchSize = dependencies.batchSize ?? defaultBatchSize;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`invalid batch size ${batchSize}: expected a whole number of files of at least 1`);
  }

  return async (input) => {
    const job = validateArchiveJob(input?.job);
    const check = input.check ?? null;
    // The task input carries no execution name. Every execution that eodh-monitor or
    // `Continue in new execution` starts is named executionName(jobId, generation), so that name
    // is logged. NOTE: an execution started by hand under another name is logged under this one.
    dependencies.logger.appendKeys({
      job_id: job.jobId,
      workspace: job.workspace,
      execution: executionName(job.jobId, job.generation),
    });
    try {
      return await planArchive(
        {
          fetch: dependencies.fetch,
          store: dependencies.store,
          clock: dependencies.clock,
          logger: dependencies.logger,
          batchSize,
          retry: dependencies.retry ?? defaultRetryPolicy,
        },
        job,
        check,
      );
    } finally {
      dependencies.logger.removeKeys(['job_id', 'workspace', 'execution']);
    }
  };
}

/**
 * Builds the dependencies from configuration: the guarded fetch with the configured token
 * source, the S3 store from `ARCHIVE_BUCKET` and `ARCHIVE_PREFIX`, the system clock and the
 * shared Powertools logger. AWS clients are traced with X-Ray.
 */
export function defaultPlanArchiveDependencies(
  config: MonitorConfig = readMonitorConfig(),
  env: Env = process.env,
): PlanArchiveDependencies {
  const fetch = createConfiguredFetch(config, env);
  const store = archiveStoreFromEnv(tracer.captureAWSv3Client(new S3Client({})), env);
  return { fetch, store, clock: systemClock, logger };
}

export const handler = wrapHandler(
  buildOnFirstCall(() => createPlanArchiveHandler(defaultPlanArchiveDependencies())),
);
