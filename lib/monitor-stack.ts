import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { MonitorAlarms } from './alarms';
import { ArchiveBucket } from './archive-bucket';
import type { StackConfig } from './config';
import { grantTokenSecret, type MonitorFunctionName, MonitorFunctions } from './monitor-functions';
import { MonitorWorkflow } from './monitor-workflow';
import { Notifications } from './notifications';

export interface MonitorStackProps extends StackProps {
  readonly config: StackConfig;
  /**
   * Directory holding `package.json`, `package-lock.json` and `lambdas/`.
   * @default - the repository this file belongs to
   */
  readonly projectRoot?: string;
}

/** The EODH job monitor: archive bucket, outcome topic, handler functions and the state machine. */
export class MonitorStack extends Stack {
  readonly stateMachine: sfn.StateMachine;
  readonly bucket: s3.IBucket;
  readonly topic: sns.Topic;
  readonly functions: Record<MonitorFunctionName, NodejsFunction>;
  readonly archive: ArchiveBucket;
  readonly notifications: Notifications;
  readonly workflow: MonitorWorkflow;
  readonly alarms: MonitorAlarms;

  constructor(scope: Construct, id: string, props: MonitorStackProps) {
    const { config, projectRoot, ...stackProps } = props;
    super(scope, id, stackProps);

    this.archive = new ArchiveBucket(this, 'Archive', {
      prefix: config.archivePrefix,
      existingBucketName: config.archiveBucketName,
      retentionDays: config.archiveRetentionDays,
    });
    this.notifications = new Notifications(this, 'Notifications', {
      emails: config.notificationEmails,
      notifyOn: config.notifyOn,
    });
    const tokenSecret = secretsmanager.Secret.fromSecretNameV2(this, 'TokenSecret', config.tokenSecretName);

    const functions = new MonitorFunctions(this, 'Functions', { config, projectRoot });
    const { checkStatus, planArchive, archiveArtifacts, publishOutcome } = functions.byName;
    for (const fn of [checkStatus, planArchive, archiveArtifacts]) {
      grantTokenSecret(fn, tokenSecret, config.tokenSecretName);
    }
    for (const fn of [planArchive, archiveArtifacts, publishOutcome]) {
      this.archive.grantArchive(fn);
    }
    this.notifications.grantPublish(publishOutcome);
    // The check publishes the token and stuck-job warnings itself, once per job.
    this.notifications.grantPublish(checkStatus);
    // The publisher names the secret in its advice; it cannot read it.
    publishOutcome.addEnvironment('TOKEN_SECRET_NAME', config.tokenSecretName);

    this.workflow = new MonitorWorkflow(this, 'Workflow', { functions: functions.byName });
    this.workflow.grantStartOwnExecution();
    this.alarms = new MonitorAlarms(this, 'Alarms', {
      stateMachine: this.workflow.stateMachine,
      notifications: this.notifications,
    });

    this.stateMachine = this.workflow.stateMachine;
    this.bucket = this.archive.bucket;
    this.topic = this.notifications.topic;
    this.functions = functions.byName;

    new CfnOutput(this, 'StateMachineArn', {
      value: this.stateMachine.stateMachineArn,
      description: 'Start one execution per job ID to monitor it',
    });
    new CfnOutput(this, 'ArchiveBucketName', {
      value: this.bucket.bucketName,
      description: `Archived jobs are under ${config.archivePrefix}/<workspace>/<jobId>/`,
    });
    new CfnOutput(this, 'OutcomeTopicArn', {
      value: this.topic.topicArn,
      description: 'One message per monitored job outcome',
    });
  }
}
