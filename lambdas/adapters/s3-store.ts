import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Env } from '../core/config';
import { ConfigurationError } from '../core/errors';
import type { ArchiveStore, PutOptions, StoredObjectInfo } from '../core/ports';

/**
 * The archive store in S3. Keys are relative to `prefix`. Streams go through lib-storage's
 * multipart `Upload`, so memory stays near part size x queue size (32 MiB) whatever the file
 * size. The SHA-256 is kept as user metadata `sha256` when it is known before the upload.
 */

/** 8 MiB parts allow files up to about 78 GiB within S3's limit of 10,000 parts per upload. */
export const uploadPartSize = 8 * 1024 * 1024;

/** Parts uploaded at the same time for one file. */
export const uploadQueueSize = 4;

export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix such as `eodh-archive`; leading and trailing slashes are ignored. */
  prefix: string;
  /** Region added to console links as `&region=`; left out when not given. */
  region?: string;
}

export function createS3Store(options: S3StoreOptions): ArchiveStore {
  const { client, bucket } = options;
  const trimmed = options.prefix.replace(/^\/+|\/+$/g, '');
  const prefix = trimmed === '' ? '' : `${trimmed}/`;
  const keyOf = (key: string): string => `${prefix}${key}`;

  const metadataOf = (sha256: string | undefined): Record<string, string> | undefined =>
    sha256 === undefined ? undefined : { sha256 };

  return {
    location: `s3://${bucket}/${prefix}`,

    uriOf: (key) => `s3://${bucket}/${keyOf(key)}`,

    consoleUrlOf: (key) => {
      const region = options.region === undefined ? '' : `&region=${encodeURIComponent(options.region)}`;
      return `https://s3.console.aws.amazon.com/s3/buckets/${encodeURIComponent(bucket)}?prefix=${encodeURIComponent(keyOf(key))}${region}`;
    },

    async putObject(key: string, body: string | Uint8Array, putOptions: PutOptions): Promise<void> {
      const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
      const sha256 = putOptions.sha256 ?? createHash('sha256').update(bytes).digest('hex');
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: keyOf(key),
          Body: bytes,
          ContentType: putOptions.contentType,
          Metadata: { sha256 },
        }),
      );
    },

    async putStream(
      key: string,
      body: NodeJS.ReadableStream | ReadableStream<Uint8Array>,
      putOptions: PutOptions,
    ): Promise<{ size: number }> {
      const source =
        body instanceof ReadableStream
          ? Readable.fromWeb(body as unknown as NodeWebReadableStream<Uint8Array>)
          : (body as NodeJS.ReadableStream);

      // The body's own error is what the caller needs (size mismatch, cut download). When
      // lib-storage's abort request then fails too, `done()` rejects with that abort error
      // instead, so the body error is kept here and rethrown first.
      let size = 0;
      let bodyError: unknown = null;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
          size += chunk.length;
          callback(null, chunk);
        },
      });
      source.on('error', (error) => {
        bodyError ??= error;
        counter.destroy(error);
      });
      source.pipe(counter);

      const upload = new Upload({
        client,
        params: {
          Bucket: bucket,
          Key: keyOf(key),
          Body: counter,
          ContentType: putOptions.contentType,
          Metadata: metadataOf(putOptions.sha256),
        },
        partSize: uploadPartSize,
        queueSize: uploadQueueSize,
        leavePartsOnError: false,
      });

      try {
        await upload.done();
      } catch (error) {
        // With leavePartsOnError false, lib-storage sends AbortMultipartUpload itself; abort()
        // also stops part uploads still queued. NOTE: when the abort request fails, parts stay
        // in the bucket until a lifecycle rule for incomplete multipart uploads removes them.
        await upload.abort().catch(() => {});
        counter.destroy();
        if (source instanceof Readable) {
          source.destroy();
        }
        throw bodyError ?? error;
      }
      return { size };
    },

    async getObject(key: string): Promise<Uint8Array | null> {
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(key) }));
        return response.Body === undefined ? new Uint8Array() : await response.Body.transformToByteArray();
      } catch (error) {
        if (isNotFound(error)) {
          return null;
        }
        throw error;
      }
    },

    async head(key: string): Promise<StoredObjectInfo | null> {
      try {
        const response = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: keyOf(key) }));
        return {
          key,
          size: response.ContentLength ?? 0,
          sha256: response.Metadata?.sha256 ?? null,
          contentType: response.ContentType ?? null,
        };
      } catch (error) {
        if (isNotFound(error)) {
          return null;
        }
        throw error;
      }
    },

    async list(listPrefix: string): Promise<string[]> {
      const keys: string[] = [];
      let continuationToken: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: keyOf(listPrefix),
            ContinuationToken: continuationToken,
          }),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key?.startsWith(prefix)) {
            keys.push(object.Key.slice(prefix.length));
          }
        }
        continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (continuationToken !== undefined);
      return keys;
    },
  };
}

/**
 * NoSuchKey from GetObject, NotFound from HeadObject (a HEAD response has no body, so the SDK
 * names a 404 `NotFound`). NoSuchBucket is not matched: a missing bucket is a deployment error.
 */
function isNotFound(error: unknown): boolean {
  return error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound');
}

const bucketNamePattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Creates the S3 store from `ARCHIVE_BUCKET` (required) and `ARCHIVE_PREFIX` (optional), which
 * the archive bucket construct sets on the functions, and `AWS_REGION` (set by Lambda) for
 * console links.
 */
export function archiveStoreFromEnv(client: S3Client, env: Env): ArchiveStore {
  const bucket = env.ARCHIVE_BUCKET?.trim() ?? '';
  if (!bucketNamePattern.test(bucket)) {
    throw new ConfigurationError(
      `invalid ARCHIVE_BUCKET ${JSON.stringify(bucket)}: expected the name of the archive S3 bucket (3-63 lowercase letters, digits, "." or "-")`,
    );
  }
  const prefix = env.ARCHIVE_PREFIX?.trim() ?? '';
  const region = env.AWS_REGION?.trim();
  return createS3Store({ client, bucket, prefix, ...(region ? { region } : {}) });
}
