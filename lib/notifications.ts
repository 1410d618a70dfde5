import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { type Outcome, outcomes } from '../lambdas/core/state';
import { warningOutcome } from '../lambdas/core/warning';

export interface NotificationsProps {
  /**
   * Addresses subscribed to the outcome topic. Each one receives a confirmation e-mail first.
   * @default - no e-mail subscriptions
   */
  readonly emails?: readonly string[];
  /**
   * Outcomes e-mailed to the subscribers, matched on the `outcome` message attribute. Warnings
   * and messages without the attribute (failed-execution alerts, alarms) are always e-mailed.
   * @default - every outcome
   */
  readonly notifyOn?: readonly Outcome[];
}

/**
 * The SNS topic that receives one outcome message per monitored job, warnings and alerts, and
 * its e-mail subscriptions. The topic has a customer managed key because EventBridge rules and
 * CloudWatch alarms cannot publish to a topic under the AWS managed key, whose policy cannot
 * grant those services.
 */
export class Notifications extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: NotificationsProps = {}) {
    super(scope, id);

    this.key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the EODH job monitor outcome topic',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
    });
    // SNS encrypts with the publisher's rights. CloudWatch alarm actions publish as the service,
    // with no role to grant, so the key policy names it. EventBridge publishes through a role.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'LetCloudWatchAlarmsPublishToTheTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'EODH job monitor',
      masterKey: this.key,
      enforceSSL: true,
    });

    const notifyOn = props.notifyOn ?? outcomes;
    const everyOutcome = outcomes.every((outcome) => notifyOn.includes(outcome));
    const filterPolicy = everyOutcome
      ? undefined
      : {
          outcome: new sns.SubscriptionFilter([...notifyOn, warningOutcome, { exists: false }]),
        };

    for (const email of props.emails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email, { filterPolicy }));
    }
  }

  /**
   * Lets `fn` publish to the topic, and only to it, with the key to encrypt the message, and
   * sets `TOPIC_ARN`.
   */
  grantPublish(fn: lambda.Function): void {
    if (fn.role === undefined) throw new Error(`function ${fn.node.path} has no role to grant publishing to`);
    this.grantPublishToRole(fn.role);
    fn.addEnvironment('TOPIC_ARN', this.topic.topicArn);
  }

  /** Lets `role` publish to the topic, and only to it, with the key to encrypt the message. */
  grantPublishToRole(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // SNS needs a data key to encrypt the message; no other KMS action is granted.
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [this.key.keyArn],
      }),
    );
  }
}
