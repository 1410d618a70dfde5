import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { createConfiguredFetch } from './adapters/configured-fetch';
import {
  buildOnFirstCall,
  discardMetrics,
  logger,
  type MetricsRecorder,
  type MonitorLogger,
  metrics,
  tracer,
  wrapHandler,
} from './adapters/powertools';
import { archiveStoreFromEnv } from './adapters/s3-store';
import { defaultRetryPolicy, type RetryPolicy } from './core/concurrency';
import { type Env, type MonitorConfig, readMonitorConfig } from './core/config';
import { archiveBatch } from './core/copy';
import { InvalidInputError } from './core/errors';
import { executionName } from './core/execution-name';
import { validateArchiveJob } from './core/plan';
import type { ArchiveStore, GuardedFetch } from './core/ports';
import type { BatchInput, BatchSummary } from './core/state';
import { describeValue } from './core/validation';

export interface ArchiveArtifactsDependencies {
  fetch: GuardedFetch;
  store: ArchiveStore;
  logger: Pick<MonitorLogger, 'info' | 'warn' | 'appendKeys' | 'removeKeys'>;
  /** @default metrics are dropped */
  metrics?: MetricsRecorder;
  /** @default three attempts, 1 s and 4 s apart, for 429, 502-504, network errors and cut downloads */
  retry?: RetryPolicy;
}

/**
 * Builds the handler of `Archive batch` (one iteration of the `Archive artifacts` Map state):
 * copies the files listed in `plan/batch-<n>.json` into the archive and writes the batch's
 * manifest part. A file that cannot be archived is reported in the summary. Only store errors, a
 * missing plan and invalid input throw, so a failed file never makes Step Functions retry
 * the whole batch.
 */
export function createArchiveArtifactsHandler(
  dependencies: ArchiveArtifactsDependencies,
): (input: BatchInput) => Promise<BatchSummary> {
  const recorder = dependencies.metrics ?? discardMetrics;

  return async (input) => {
    const job = validateArchiveJob(input?.job);
    const batch = input.batch;
    if (!Number.isSafeInteger(batch) || batch < 0) {
      throw new InvalidInputError(
        'batch',
        `invalid batch ${describeValue(batch)}: expected a whole number from 0`,
      );
    }

    // Named as in `Plan archive`: the task input carries no execution name.
    dependencies.logger.appendKeys({
      job_id: job.jobId,
      workspace: job.workspace,
      execution: executionName(job.jobId, job.generation),
      batch,
    });
    try {
      const summary = await archiveBatch(
        {
          fetch: dependencies.fetch,
          store: dependencies.store,
          logger: dependencies.logger,
          retry: dependencies.retry ?? defaultRetryPolicy,
        },
        job,
        batch,
      );
      recorder.addMetric('FilesArchived', MetricUnit.Count, summary.filesArchived);
      recorder.addMetric('FilesSkipped', MetricUnit.Count, summary.filesSkipped);
      recorder.addMetric('FilesFailed', MetricUnit.Count, summary.filesFailed);
      recorder.addMetric('BytesArchived', MetricUnit.Bytes, summary.bytesArchived);
      return summary;
    } finally {
      dependencies.logger.removeKeys(['job_id', 'workspace', 'execution', 'batch']);
    }
  };
}

/**
 * Builds the dependencies from configuration: the guarded fetch with the configured token
 * source, the S3 store from `ARCHIVE_BUCKET` and `ARCHIVE_PREFIX`, and the shared Powertools
 * logger and metrics. AWS clients are traced with X-Ray.
 */
export function defaultArchiveArtifactsDependencies(
  config: MonitorConfig = readMonitorConfig(),
  env: Env = process.env,
): ArchiveArtifactsDependencies {
  const fetch = createConfiguredFetch(config, env);
  const store = archiveStoreFromEnv(tracer.captureAWSv3Client(new S3Client({})), env);
  return { fetch, store, logger, metrics };
}

export const handler = wrapHandler(
  buildOnFirstCall(() => createArchiveArtifactsHandler(defaultArchiveArtifactsDependencies())),
);
