import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { reportedFailureErrors } from './monitor-workflow';
import type { Notifications } from './notifications';

export interface MonitorAlarmsProps {
  readonly stateMachine: sfn.IStateMachine;
  /** Destination of the alerts: the outcome topic, whose key policy lets CloudWatch alarms use it. */
  readonly notifications: Notifications;
}

/**
 * The guard that cannot be skipped: alerts on the outcome topic when the monitor itself fails,
 * without any of the monitor's own code in the path.
 *
 * - An EventBridge rule on the state machine's execution status changes publishes a message
 *   with the job ID (the execution name) and a console link when an execution fails, times
 *   out or is aborted. Failures with the error of a Fail state that follows a published
 *   monitor_error (`MonitorFailed`, `MonitorGaveUp`) are left out, so a job never gets both.
 * - A CloudWatch alarm on failed executions of the state machine, in any 5-minute period.
 */
export class MonitorAlarms extends Construct {
  readonly rule: events.Rule;
  readonly failedExecutionsAlarm: cloudwatch.Alarm;
  /** Role EventBridge assumes to publish failed-execution alerts. */
  readonly alertPublisherRole: iam.Role;

  constructor(scope: Construct, id: string, props: MonitorAlarmsProps) {
    super(scope, id);

    this.rule = new events.Rule(this, 'FailedExecutionRule', {
      description: 'Alerts on monitor executions that ended without publishing an outcome',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [props.stateMachine.stateMachineArn],
          $or: [
            { status: ['TIMED_OUT', 'ABORTED'] },
            {
              status: ['FAILED'],
              error: [{ 'anything-but': Object.values(reportedFailureErrors) }],
            },
          ],
        },
      },
    });
    const name = events.EventField.fromPath('$.detail.name');
    const status = events.EventField.fromPath('$.detail.status');
    const error = events.EventField.fromPath('$.detail.error');
    const executionArn = events.EventField.fromPath('$.detail.executionArn');
    const consoleUrl = `https://${Aws.REGION}.console.aws.amazon.com/states/home?region=${Aws.REGION}#/v2/executions/details/${executionArn}`;
    // A role of its own instead of a topic policy for events.amazonaws.com, which would let any
    // account's rules publish here.
    const publisher = new iam.Role(this, 'AlertPublisherRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'Lets the failed-execution rule publish to the outcome topic',
    });
    props.notifications.grantPublishToRole(publisher);
    this.alertPublisherRole = publisher;
    const topic = props.notifications.topic;
    this.rule.addTarget(
      new targets.SnsTopic(topic, {
        // The target would grant kms:GenerateDataKey* on the key; the role already has exactly
        // what publishing needs.
        role: publisher.withoutPolicyUpdates(),
        message: events.RuleTargetInput.fromText(
          `EODH job monitor: the monitor of job ${name} ended ${status} without publishing an outcome (error: ${error}). ` +
            `The job itself was not dismissed. Job ID (execution name): ${name}. ` +
            `Execution history: ${consoleUrl}`,
        ),
      }),
    );

    this.failedExecutionsAlarm = new cloudwatch.Alarm(this, 'FailedExecutionsAlarm', {
      alarmDescription:
        'Monitor executions failed in the last 5 minutes. Each job has its own message on the outcome topic; this alarm counts them.',
      metric: props.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failedExecutionsAlarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
    // A topic policy replaces the default one, so CloudWatch needs its own grant, for this alarm.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'LetCloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.failedExecutionsAlarm.alarmArn } },
      }),
    );
  }
}
