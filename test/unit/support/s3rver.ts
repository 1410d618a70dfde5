import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/**
 * An S3-compatible server (s3rver) on 127.0.0.1 with a port chosen by the system and a
 * temporary directory, for tests that need real S3 requests.
 *
 * NOTE: s3rver 3.7.1 implements neither ListMultipartUploads nor AbortMultipartUpload (it
 * responds with 405 MethodNotAllowed), so tests can check that an abort was requested but
 * not that the server dropped the parts.
 */

interface S3rverOptions {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
}

interface S3rverServer {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}

// s3rver ships CommonJS without type declarations.
const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as new (options: S3rverOptions) => S3rverServer;

export interface LocalS3 {
  client: S3Client;
  bucket: string;
  /** Names of the commands the client sent, in order, such as `AbortMultipartUploadCommand`. */
  commands: string[];
  close(): Promise<void>;
}

/** Starts s3rver, creates `bucket` and returns a client configured for it. */
export async function startLocalS3(bucket = 'archive-test'): Promise<LocalS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port } = await server.run();

  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const commands: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'recordCommandNames' },
  );
  await client.send(new CreateBucketCommand({ Bucket: bucket }));

  return {
    client,
    bucket,
    commands,
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
