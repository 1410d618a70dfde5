import { resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { createDirectoryStore } from '../../lambdas/adapters/directory-store';
import { createS3Store } from '../../lambdas/adapters/s3-store';
import type { ArchiveStore } from '../../lambdas/core/ports';
import { UsageError } from '../cli/errors';

export interface ArchiveTargetOptions {
  /** S3-compatible endpoint such as `http://127.0.0.1:4569`; path-style addressing is used with it. */
  s3Endpoint?: string;
  region?: string;
}

/**
 * Opens the archive store for `--archive`: `s3://bucket/prefix` for S3 (or an S3-compatible
 * server with `s3Endpoint`), anything else is a local directory.
 */
export function openArchiveTarget(target: string, options: ArchiveTargetOptions = {}): ArchiveStore {
  if (!target.startsWith('s3://')) {
    if (options.s3Endpoint !== undefined) {
      throw new UsageError(`--s3-endpoint needs an s3:// archive, but --archive is "${target}"`);
    }
    return createDirectoryStore(resolve(target));
  }

  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(target);
  if (match === null) {
    throw new UsageError(
      `invalid --archive "${target}": expected s3://<bucket>/<prefix> with a bucket name of 3 to 63 lowercase letters, digits, dots and hyphens`,
    );
  }
  const [, bucket = '', prefix = ''] = match;
  if (options.s3Endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(options.s3Endpoint)) {
    throw new UsageError(
      `invalid --s3-endpoint "${options.s3Endpoint}": expected an origin such as http://127.0.0.1:4569`,
    );
  }
  const client = new S3Client({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(options.s3Endpoint === undefined ? {} : { endpoint: options.s3Endpoint, forcePathStyle: true }),
  });
  return createS3Store({ client, bucket, prefix, region: options.region });
}
