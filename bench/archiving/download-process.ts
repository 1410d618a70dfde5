import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import { mapWithConcurrency } from '../../lambdas/core/concurrency';
import { startMeasuring } from './measure';

/**
 * The baseline: a plain streamed download of the same files to disk, with Node's own fetch
 * (undici) piped into a file write stream, `BENCH_CONCURRENCY` files at a time, and no checks.
 * Reads the files from the JSON list in BENCH_FILE_LIST, sends BENCH_TOKEN as the bearer token
 * and writes into BENCH_OUT_DIR. Prints one `ProcessReport` JSON line.
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
const outDir = required('BENCH_OUT_DIR');
const concurrency = Number(required('BENCH_CONCURRENCY'));

const measurement = startMeasuring();
const sizes = await mapWithConcurrency(files, concurrency, async (file, index) => {
  const response = await fetch(file.url, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok || response.body === null) {
    throw new Error(`GET ${file.url} failed with HTTP ${response.status}`);
  }
  const output = createWriteStream(join(outDir, `${index}.bin`));
  await pipeline(Readable.fromWeb(response.body as NodeWebReadableStream<Uint8Array>), output);
  return output.bytesWritten;
});
measurement.finish({
  bytes: sizes.reduce((sum, size) => sum + size, 0),
  files: sizes.length,
  filesFailed: 0,
});
