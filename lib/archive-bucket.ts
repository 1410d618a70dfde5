import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ArchiveBucketProps {
  /** Key prefix of every archived object, without leading or trailing slash. */
  readonly prefix: string;
  /**
   * Name of an existing bucket to archive into. Its owner manages encryption, logging and
   * lifecycle, and this construct only grants access to the prefix.
   * @default - a new hardened bucket with server access logging into a second bucket
   */
  readonly existingBucketName?: string;
  /**
   * Days after which archived objects expire. Ignored for an existing bucket.
   * @default - archived objects are kept
   */
  readonly retentionDays?: number;
}

const intelligentTieringAfterDays = 30;
const glacierInstantRetrievalAfterDays = 90;
// Old versions only exist after a re-archive overwrote a file, so a month is enough to undo one.
const noncurrentVersionDays = 30;
const incompleteUploadDays = 7;
const accessLogDays = 365;

/** The S3 bucket that keeps every job's results, logs, manifest and outcome. */
export class ArchiveBucket extends Construct {
  readonly bucket: s3.IBucket;
  readonly prefix: string;
  /** Bucket receiving the archive bucket's server access logs, or undefined for an existing bucket. */
  readonly accessLogBucket?: s3.Bucket;
  /** Functions given access by `grantArchive`, in call order. */
  readonly grantees: lambda.Function[] = [];

  constructor(scope: Construct, id: string, props: ArchiveBucketProps) {
    super(scope, id);
    this.prefix = props.prefix;

    if (props.existingBucketName !== undefined) {
      this.bucket = s3.Bucket.fromBucketName(this, 'Bucket', props.existingBucketName);
      return;
    }

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // S3 server access logging only delivers to buckets encrypted with SSE-S3.
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'ExpireAccessLogs',
          expiration: Duration.days(accessLogDays),
          abortIncompleteMultipartUploadAfter: Duration.days(incompleteUploadDays),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'archive-bucket/',
      lifecycleRules: archiveLifecycleRules(props.retentionDays),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Lets `fn` read and write archived objects under the prefix, and sets `ARCHIVE_BUCKET` and
   * `ARCHIVE_PREFIX` so the function finds them.
   */
  grantArchive(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        resources: [this.bucket.arnForObjects(`${this.prefix}/*`)],
      }),
    );
    // HeadObject returns 403 instead of 404 for a missing key unless the caller may list the
    // bucket, and the archive's "already archived?" check relies on telling the two apart.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
      }),
    );
    fn.addEnvironment('ARCHIVE_BUCKET', this.bucket.bucketName);
    fn.addEnvironment('ARCHIVE_PREFIX', this.prefix);
    this.grantees.push(fn);
  }
}

/**
 * Builds the archive lifecycle: cheaper storage classes as objects age, expiry after
 * `retentionDays` when set, and clean-up of old versions and abandoned multipart uploads.
 * S3 rejects a rule whose expiration is not later than its transitions, so transitions at or
 * after the expiry day are left out.
 */
export function archiveLifecycleRules(retentionDays: number | undefined): s3.LifecycleRule[] {
  const transitions: s3.Transition[] = [
    {
      storageClass: s3.StorageClass.INTELLIGENT_TIERING,
      transitionAfter: Duration.days(intelligentTieringAfterDays),
    },
    {
      storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
      transitionAfter: Duration.days(glacierInstantRetrievalAfterDays),
    },
  ].filter(
    (transition) => retentionDays === undefined || transition.transitionAfter.toDays() < retentionDays,
  );

  const ageRule: s3.LifecycleRule = {
    id: 'AgeArchivedObjects',
    ...(transitions.length > 0 ? { transitions } : {}),
    ...(retentionDays !== undefined ? { expiration: Duration.days(retentionDays) } : {}),
  };
  const cleanUpRule: s3.LifecycleRule = {
    id: 'CleanUpVersionsAndUploads',
    noncurrentVersionExpiration: Duration.days(noncurrentVersionDays),
    abortIncompleteMultipartUploadAfter: Duration.days(incompleteUploadDays),
    expiredObjectDeleteMarker: true,
  };
  return [ageRule, cleanUpRule];
}
