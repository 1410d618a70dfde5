import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { uploadPartSize, uploadQueueSize } from '../../lambdas/adapters/s3-store';
import { mapWithConcurrency } from '../../lambdas/core/concurrency';
import { startMeasuring } from './measure';

/**
 * A second reference: a plain streamed copy of the same files into the same S3 server. Node's
 * fetch is piped into lib-storage's `Upload` at the archive store's part size and queue size,
 * `BENCH_CONCURRENCY` files at a time, with no plan, checks, hashing or manifest. Comparing the
 * archive step with it separates the archive step's own cost from the S3 server's.
 * Reads BENCH_FILE_LIST, BENCH_TOKEN, BENCH_S3_ENDPOINT and BENCH_S3_BUCKET. Prints one
 * `ProcessReport` JSON line.
 */

interface ListedFile {
  url: string;
  bytes: number;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`missing ${name}: the archive benchmark sets it for this process`);
  }
  return value;
}

const files = JSON.parse(await readFile(required('BENCH_FILE_LIST'), 'utf8')) as ListedFile[];
const token = required('BENCH_TOKEN');
const bucket = required('BENCH_S3_BUCKET');
const concurrency = Number(required('BENCH_CONCURRENCY'));
const client = new S3Client({
  endpoint: required('BENCH_S3_ENDPOINT'),
  forcePathStyle: true,
  region: 'us-east-1',
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});

const measurement = startMeasuring();
await mapWithConcurrency(files, concurrency, async (file, index) => {
  const response = await fetch(file.url, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok || response.body === null) {
    throw new Error(`GET ${file.url} failed with HTTP ${response.status}`);
  }
  const upload = new Upload({
    client,
    params: {
      Bucket: bucket,
      Key: `plain/${index}.bin`,
      Body: Readable.fromWeb(response.body as NodeWebReadableStream<Uint8Array>),
    },
    partSize: uploadPartSize,
    queueSize: uploadQueueSize,
  });
  await upload.done();
});
measurement.finish({
  bytes: files.reduce((sum, file) => sum + file.bytes, 0),
  files: files.length,
  filesFailed: 0,
});
client.destroy();
