import { createRequire } from 'node:module';

/**
 * Runs s3rver on 127.0.0.1 in a process of its own, storing objects under the directory in
 * BENCH_S3_DIRECTORY with one bucket, BENCH_S3_BUCKET. Prints `{ endpoint, bucket }` as one JSON
 * line when ready and runs until SIGTERM, when it prints `{ cpuSeconds }` (CPU time since ready).
 */

interface S3rverServer {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}

// s3rver ships CommonJS without type declarations.
const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string; configs: never[] }[];
}) => S3rverServer;

const directory = process.env.BENCH_S3_DIRECTORY;
const bucket = process.env.BENCH_S3_BUCKET;
if (!directory || !bucket) {
  throw new Error('missing BENCH_S3_DIRECTORY or BENCH_S3_BUCKET: set both to start the S3 server');
}

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket, configs: [] }],
});
const { port } = await server.run();

const cpuStart = process.cpuUsage();
process.once('SIGTERM', () => {
  const cpu = process.cpuUsage(cpuStart);
  process.stdout.write(`${JSON.stringify({ cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`, () => {
    void server.close().finally(() => process.exit(0));
  });
});

process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${port}`, bucket })}\n`);
