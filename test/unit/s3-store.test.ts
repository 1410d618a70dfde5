import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { archiveStoreFromEnv, createS3Store } from '../../lambdas/adapters/s3-store';
import { ConfigurationError } from '../../lambdas/core/errors';
import { type LocalS3, startLocalS3 } from './support/s3rver';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function patternBytes(size: number, seed = 1): Buffer {
  const bytes = Buffer.alloc(size);
  for (let index = 0; index < size; index += 1) {
    bytes[index] = (index * 31 + seed) % 251;
  }
  return bytes;
}

/** Yields `bytes` in 1 MiB chunks, then errors, as a download cut after that many bytes would. */
async function* cutAfter(bytes: Buffer): AsyncGenerator<Buffer> {
  const chunkSize = 1024 * 1024;
  for (let start = 0; start < bytes.length; start += chunkSize) {
    yield bytes.subarray(start, start + chunkSize);
  }
  throw new Error('connection reset by peer');
}

// Only this instance is mocked, so the s3rver tests below use real clients.
const mockedClient = new S3Client({
  region: 'eu-west-2',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const s3 = mockClient(mockedClient);

afterEach(() => {
  s3.reset();
});

describe('createS3Store locations', () => {
  it('normalizes the prefix', () => {
    for (const prefix of ['eodh-archive', '/eodh-archive/', 'eodh-archive//']) {
      const store = createS3Store({ client: mockedClient, bucket: 'my-archive', prefix });

      expect(store.location).toBe('s3://my-archive/eodh-archive/');
      expect(store.uriOf('demo-ws/job-1/')).toBe('s3://my-archive/eodh-archive/demo-ws/job-1/');
    }
  });

  it('works without a prefix', () => {
    const store = createS3Store({ client: mockedClient, bucket: 'my-archive', prefix: '' });

    expect(store.location).toBe('s3://my-archive/');
    expect(store.uriOf('demo-ws/job-1/plan.json')).toBe('s3://my-archive/demo-ws/job-1/plan.json');
  });

  it('builds console links', () => {
    const withRegion = createS3Store({
      client: mockedClient,
      bucket: 'my-archive',
      prefix: 'a',
      region: 'eu-west-2',
    });
    const withoutRegion = createS3Store({ client: mockedClient, bucket: 'my-archive', prefix: 'a' });

    expect(withRegion.consoleUrlOf('demo-ws/job 1/')).toBe(
      'https://s3.console.aws.amazon.com/s3/buckets/my-archive?prefix=a%2Fdemo-ws%2Fjob%201%2F&region=eu-west-2',
    );
    expect(withoutRegion.consoleUrlOf('x/')).toBe(
      'https://s3.console.aws.amazon.com/s3/buckets/my-archive?prefix=a%2Fx%2F',
    );
  });
});

describe('createS3Store commands', () => {
  const store = createS3Store({ client: mockedClient, bucket: 'my-archive', prefix: 'eodh' });

  it('puts objects with type and digest', async () => {
    s3.on(PutObjectCommand).resolves({});
    const body = '{"status":"successful"}';

    await store.putObject('demo-ws/job-1/status.json', body, { contentType: 'application/json' });

    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'my-archive',
      Key: 'eodh/demo-ws/job-1/status.json',
      ContentType: 'application/json',
      Metadata: { sha256: sha256(new TextEncoder().encode(body)) },
    });
  });

  it('keeps a given digest', async () => {
    s3.on(PutObjectCommand).resolves({});

    await store.putObject('k', new Uint8Array([1]), {
      contentType: 'application/octet-stream',
      sha256: 'f'.repeat(64),
    });

    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Metadata: { sha256: 'f'.repeat(64) } });
  });

  it('reads objects', async () => {
    s3.on(GetObjectCommand, { Bucket: 'my-archive', Key: 'eodh/demo-ws/job-1/plan.json' }).resolves({
      Body: { transformToByteArray: async () => new Uint8Array([123, 125]) } as never,
    });

    expect([...((await store.getObject('demo-ws/job-1/plan.json')) ?? [])]).toEqual([123, 125]);
  });

  it('returns null for a missing object', async () => {
    s3.on(GetObjectCommand).rejects(
      new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }),
    );
    s3.on(HeadObjectCommand).rejects(
      new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } }),
    );

    expect(await store.getObject('missing.json')).toBeNull();
    expect(await store.head('missing.json')).toBeNull();
  });

  it('rethrows other errors', async () => {
    const denied = new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      message: 'Access Denied',
      $metadata: { httpStatusCode: 403 },
    });
    s3.on(GetObjectCommand).rejects(denied);
    s3.on(HeadObjectCommand).rejects(denied);

    await expect(store.getObject('x')).rejects.toThrow('Access Denied');
    await expect(store.head('x')).rejects.toThrow('Access Denied');
  });

  it('reads size, digest and type from head', async () => {
    s3.on(HeadObjectCommand, { Bucket: 'my-archive', Key: 'eodh/a.tif' }).resolves({
      ContentLength: 48_213_377,
      ContentType: 'image/tiff',
      Metadata: { sha256: 'a'.repeat(64) },
    });

    expect(await store.head('a.tif')).toEqual({
      key: 'a.tif',
      size: 48_213_377,
      sha256: 'a'.repeat(64),
      contentType: 'image/tiff',
    });
  });

  it('lists every page', async () => {
    s3.on(ListObjectsV2Command)
      .resolvesOnce({
        Contents: [{ Key: 'eodh/demo-ws/job-1/manifest-parts/batch-00000.json' }],
        IsTruncated: true,
        NextContinuationToken: 'page-2',
      })
      .resolvesOnce({
        Contents: [{ Key: 'eodh/demo-ws/job-1/manifest-parts/documents.json' }],
        IsTruncated: false,
      });

    const keys = await store.list('demo-ws/job-1/manifest-parts/');

    expect(keys).toEqual([
      'demo-ws/job-1/manifest-parts/batch-00000.json',
      'demo-ws/job-1/manifest-parts/documents.json',
    ]);
    expect(s3).toHaveReceivedCommandTimes(ListObjectsV2Command, 2);
    expect(s3).toHaveReceivedNthCommandWith(ListObjectsV2Command, 1, {
      Bucket: 'my-archive',
      Prefix: 'eodh/demo-ws/job-1/manifest-parts/',
      ContinuationToken: undefined,
    });
    expect(s3).toHaveReceivedNthCommandWith(ListObjectsV2Command, 2, { ContinuationToken: 'page-2' });
  });

  it('uploads a small stream in one request', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"e1"' });

    const stored = await store.putStream(
      'logs/ndvi.log',
      Readable.from([Buffer.from('line 1\n'), Buffer.from('line 2\n')]),
      {
        contentType: 'text/plain',
        sha256: 'b'.repeat(64),
      },
    );

    expect(stored).toEqual({ size: 14 });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'my-archive',
      Key: 'eodh/logs/ndvi.log',
      ContentType: 'text/plain',
      Metadata: { sha256: 'b'.repeat(64) },
    });
    expect(s3).not.toHaveReceivedCommand(CreateMultipartUploadCommand);
  });

  it('aborts the multipart upload when the stream errors', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3.on(UploadPartCommand).resolves({ ETag: '"part"' });
    s3.on(AbortMultipartUploadCommand).resolves({});

    const body = Readable.from(cutAfter(patternBytes(9 * 1024 * 1024)));

    await expect(store.putStream('results/a.tif', body, { contentType: 'image/tiff' })).rejects.toThrow(
      'connection reset by peer',
    );
    expect(s3).toHaveReceivedCommandWith(CreateMultipartUploadCommand, {
      Bucket: 'my-archive',
      Key: 'eodh/results/a.tif',
      ContentType: 'image/tiff',
    });
    expect(s3).toHaveReceivedCommandWith(AbortMultipartUploadCommand, {
      Bucket: 'my-archive',
      Key: 'eodh/results/a.tif',
      UploadId: 'upload-1',
    });
    expect(s3).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });
});

describe('archiveStoreFromEnv', () => {
  it('reads bucket, prefix and region', () => {
    const store = archiveStoreFromEnv(mockedClient, {
      ARCHIVE_BUCKET: 'team-archive',
      ARCHIVE_PREFIX: 'eodh',
      AWS_REGION: 'eu-west-2',
    });

    expect(store.location).toBe('s3://team-archive/eodh/');
    expect(store.consoleUrlOf('')).toContain('&region=eu-west-2');
  });

  it('rejects a missing or invalid bucket', () => {
    for (const bucket of [undefined, '', 'Bad_Bucket', 's3://x']) {
      expect(() => archiveStoreFromEnv(mockedClient, { ARCHIVE_BUCKET: bucket }), String(bucket)).toThrow(
        ConfigurationError,
      );
    }
    expect(() => archiveStoreFromEnv(mockedClient, {})).toThrow(/ARCHIVE_BUCKET/);
  });
});

describe('createS3Store against s3rver', () => {
  let local: LocalS3;

  beforeAll(async () => {
    local = await startLocalS3();
  });

  afterAll(async () => {
    await local.close();
  });

  it('round-trips a multi-MiB stream', async () => {
    const store = createS3Store({ client: local.client, bucket: local.bucket, prefix: 'archive' });
    // Three parts of 8 MiB, the last one short, so the multipart path runs.
    const bytes = patternBytes(2 * 8 * 1024 * 1024 + 123_457);
    const digest = sha256(bytes);

    const stored = await store.putStream(
      'demo-ws/job-1/results/item/big.tif',
      Readable.from([bytes.subarray(0, 5_000_000), bytes.subarray(5_000_000)]),
      { contentType: 'image/tiff', sha256: digest },
    );

    expect(stored).toEqual({ size: bytes.length });
    const read = await store.getObject('demo-ws/job-1/results/item/big.tif');
    expect(read?.length).toBe(bytes.length);
    expect(sha256(read ?? new Uint8Array())).toBe(digest);
    expect(Buffer.from(read ?? []).equals(bytes)).toBe(true);
    expect(await store.head('demo-ws/job-1/results/item/big.tif')).toEqual({
      key: 'demo-ws/job-1/results/item/big.tif',
      size: bytes.length,
      sha256: digest,
      contentType: 'image/tiff',
    });
    expect(local.commands).toContain('CompleteMultipartUploadCommand');
  });

  it('round-trips a web stream and odd keys', async () => {
    const store = createS3Store({ client: local.client, bucket: local.bucket, prefix: 'archive' });
    const key = 'demo-ws/job-1/results/東京 item/NDVI map + 10%.png';
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([137, 80, 78, 71]));
        controller.close();
      },
    });

    expect(await store.putStream(key, body, { contentType: 'image/png' })).toEqual({ size: 4 });
    expect([...((await store.getObject(key)) ?? [])]).toEqual([137, 80, 78, 71]);
    expect(await store.list('demo-ws/job-1/results/東京')).toEqual([key]);
  });

  it('round-trips a document', async () => {
    const store = createS3Store({ client: local.client, bucket: local.bucket, prefix: '' });

    await store.putObject('ws/job/status.json', '{"status":"failed"}', { contentType: 'application/json' });

    expect(new TextDecoder().decode((await store.getObject('ws/job/status.json')) ?? undefined)).toBe(
      '{"status":"failed"}',
    );
    expect(await store.getObject('ws/job/none.json')).toBeNull();
    expect(await store.head('ws/job/none.json')).toBeNull();
  });

  it('leaves no object when a stream errors', async () => {
    const store = createS3Store({ client: local.client, bucket: local.bucket, prefix: 'archive' });
    local.commands.length = 0;

    // 9 MiB: the first 8 MiB part is uploaded before the stream fails.
    const body = Readable.from(cutAfter(patternBytes(9 * 1024 * 1024)));

    await expect(
      store.putStream('demo-ws/job-1/results/cut.tif', body, { contentType: 'image/tiff' }),
    ).rejects.toThrow('connection reset by peer');
    expect(await store.head('demo-ws/job-1/results/cut.tif')).toBeNull();
    expect(await store.list('demo-ws/job-1/results/cut')).toEqual([]);
    expect(local.commands).toContain('UploadPartCommand');
    expect(local.commands).toContain('AbortMultipartUploadCommand');
    expect(local.commands).not.toContain('CompleteMultipartUploadCommand');
  });

  it('leaves no object when a small stream errors', async () => {
    const store = createS3Store({ client: local.client, bucket: local.bucket, prefix: 'archive' });

    const body = Readable.from(cutAfter(patternBytes(1000)));

    await expect(
      store.putStream('demo-ws/job-1/results/small.tif', body, { contentType: 'image/tiff' }),
    ).rejects.toThrow('connection reset by peer');
    expect(await store.head('demo-ws/job-1/results/small.tif')).toBeNull();
  });
});
