import { S3Client } from '@aws-sdk/client-s3';
import { createGuardedFetch } from '../../lambdas/adapters/http';
import { silentLogger } from '../../lambdas/adapters/powertools';
import { createS3Store } from '../../lambdas/adapters/s3-store';
import { tokenSourceFromConfig } from '../../lambdas/adapters/token';
import { createArchiveArtifactsHandler } from '../../lambdas/archive-artifacts';
import { mapWithConcurrency } from '../../lambdas/core/concurrency';
import { readMonitorConfig } from '../../lambdas/core/config';
import { systemClock } from '../../lambdas/core/ports';
import { createPlanArchiveHandler } from '../../lambdas/plan-archive';
import { validateMonitorInput } from '../../lambdas/validate-input';
import { startMeasuring } from './measure';

/**
 * The archive step alone, in its own process: `Plan archive` and then every `Archive batch`,
 * built by the handlers' factories with the guarded fetch and the S3 store, the batches run
 * `BENCH_MAP_CONCURRENCY` at a time as the Map state runs them. Prints one `ProcessReport`
 * JSON line.
 *
 * Reads API_URL, ALLOWED_HOSTS, ALLOW_LOOPBACK and EODH_TOKEN like the handlers do, and
 * BENCH_JOB_ID, BENCH_WORKSPACE, BENCH_STATUS_URL, BENCH_S3_ENDPOINT, BENCH_S3_BUCKET and
 * BENCH_MAP_CONCURRENCY.
 */

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`missing ${name}: the archive benchmark sets it for this process`);
  }
  return value;
}

const config = readMonitorConfig(process.env);
const fetch = createGuardedFetch({
  allowedHosts: config.allowedHosts.map((pattern) => pattern.text),
  allowLoopback: config.allowLoopback,
  getToken: tokenSourceFromConfig(config, process.env),
  timeoutMs: config.httpTimeoutMs,
});
const client = new S3Client({
  endpoint: required('BENCH_S3_ENDPOINT'),
  forcePathStyle: true,
  region: 'us-east-1',
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});
const store = createS3Store({ client, bucket: required('BENCH_S3_BUCKET'), prefix: 'eodh-jobs' });
const { job } = validateMonitorInput(
  {
    input: {
      jobId: required('BENCH_JOB_ID'),
      workspace: required('BENCH_WORKSPACE'),
      statusUrl: required('BENCH_STATUS_URL'),
    },
    executionName: required('BENCH_JOB_ID'),
    executionStartTime: new Date().toISOString(),
  },
  config,
);
const mapConcurrency = Number(required('BENCH_MAP_CONCURRENCY'));

const planArchive = createPlanArchiveHandler({ fetch, store, clock: systemClock, logger: silentLogger });
const archiveBatch = createArchiveArtifactsHandler({ fetch, store, logger: silentLogger });

const measurement = startMeasuring();
const plan = await planArchive({ job, check: null });
const batches = await mapWithConcurrency(plan.batches, mapConcurrency, (batch) =>
  archiveBatch({ job, batch }),
);
measurement.finish({
  bytes: batches.reduce((sum, summary) => sum + summary.bytesArchived, 0),
  files: batches.reduce((sum, summary) => sum + summary.filesArchived, 0),
  filesFailed: batches.reduce((sum, summary) => sum + summary.filesFailed, 0) + plan.failureCount,
});

await fetch.close();
client.destroy();
