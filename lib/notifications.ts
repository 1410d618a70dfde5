import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { type Outcome, outcomes } from '../lambdas/core/state';

export interface NotificationsProps {
  /**
   * Addresses subscribed to the outcome topic. Each one receives a confirmation e-mail first.
   * @default - no e-mail subscriptions
   */
  readonly emails?: readonly string[];
  /**
   * Outcomes e-mailed to the subscribers, matched on the `outcome` message attribute.
   * @default - every outcome
   */
  readonly notifyOn?: readonly Outcome[];
}

/** The SNS topic that receives one outcome message per monitored job, and its e-mail subscriptions. */
export class Notifications extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps = {}) {
    super(scope, id);

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'EODH job monitor',
      // The AWS managed key's policy already lets SNS use it for this account, so publishers
      // need no KMS permission of their own.
      // NOTE: EventBridge rules and CloudWatch alarms cannot publish to a topic under this key,
      // because its key policy cannot grant those services. Such targets need a customer managed key.
      masterKey: kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
      enforceSSL: true,
    });

    const notifyOn = props.notifyOn ?? outcomes;
    const everyOutcome = outcomes.every((outcome) => notifyOn.includes(outcome));
    const filterPolicy = everyOutcome
      ? undefined
      : { outcome: sns.SubscriptionFilter.stringFilter({ allowlist: [...notifyOn] }) };

    for (const email of props.emails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email, { filterPolicy }));
    }
  }

  /** Lets `fn` publish to the topic, and only to it, and sets `TOPIC_ARN`. */
  grantPublish(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
      }),
    );
    fn.addEnvironment('TOPIC_ARN', this.topic.topicArn);
  }
}
