import type { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { reportedFailureErrors } from '../../lib/monitor-workflow';
import { synthMonitorStack } from './synth';

const { stack, template } = synthMonitorStack();
const resources = template.toJSON().Resources as Record<
  string,
  { Type: string; Properties: Record<string, unknown> }
>;

function logicalIdOf(construct: IConstruct): string {
  return stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnResource)) as string;
}

const rule = resources[logicalIdOf(stack.alarms.rule)]?.Properties ?? {};
const stateMachineRef = { Ref: logicalIdOf(stack.stateMachine) };
const topicRef = { Ref: logicalIdOf(stack.topic) };

interface RuleTarget {
  Arn: unknown;
  RoleArn?: unknown;
  InputTransformer: {
    InputPathsMap: Record<string, string>;
    InputTemplate: { 'Fn::Join': [string, unknown[]] };
  };
}

describe('failed-execution guard', () => {
  it('matches failed, timed-out and aborted executions of this state machine', () => {
    expect(rule.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        stateMachineArn: [stateMachineRef],
        $or: [
          { status: ['TIMED_OUT', 'ABORTED'] },
          { status: ['FAILED'], error: [{ 'anything-but': ['MonitorFailed', 'MonitorGaveUp'] }] },
        ],
      },
    });
  });

  it('leaves out exactly the Fail states that follow a published outcome', () => {
    expect(Object.values(reportedFailureErrors).sort()).toEqual(['MonitorFailed', 'MonitorGaveUp']);
  });

  it('publishes the job ID and a console link to the topic', () => {
    const [target] = rule.Targets as RuleTarget[];
    expect(target?.Arn).toEqual(topicRef);
    expect(target?.InputTransformer.InputPathsMap).toEqual({
      'detail-name': '$.detail.name',
      'detail-status': '$.detail.status',
      'detail-error': '$.detail.error',
      'detail-executionArn': '$.detail.executionArn',
    });
    const text = target?.InputTransformer.InputTemplate['Fn::Join'][1]
      .map((part) => (typeof part === 'string' ? part : '<region>'))
      .join('');
    expect(text).toContain('Job ID (execution name): <detail-name>');
    expect(text).toContain(
      'https://<region>.console.aws.amazon.com/states/home?region=<region>#/v2/executions/details/<detail-executionArn>',
    );
  });

  it('publishes through a role of its own, not a topic policy for EventBridge', () => {
    const [target] = rule.Targets as RuleTarget[];
    const roleId = logicalIdOf(stack.alarms.alertPublisherRole);
    expect(target?.RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(resources[roleId]?.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    const topicPolicies = Object.values(resources).filter(
      (resource) => resource.Type === 'AWS::SNS::TopicPolicy',
    );
    expect(JSON.stringify(topicPolicies)).not.toContain('events.amazonaws.com');
  });

  it('grants the alert role publishing and the topic key only', () => {
    const roleId = logicalIdOf(stack.alarms.alertPublisherRole);
    const statements = Object.values(resources)
      .filter(
        (resource) =>
          resource.Type === 'AWS::IAM::Policy' &&
          JSON.stringify(resource.Properties.Roles) === JSON.stringify([{ Ref: roleId }]),
      )
      .flatMap((resource) => (resource.Properties.PolicyDocument as { Statement: unknown[] }).Statement);
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'sns:Publish', Resource: topicRef },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(stack.notifications.key), 'Arn'] },
      },
    ]);
  });
});

describe('failed-executions alarm', () => {
  const alarmId = logicalIdOf(stack.alarms.failedExecutionsAlarm);

  it('alarms on any failed execution in 5 minutes', () => {
    expect(resources[alarmId]?.Properties).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: stateMachineRef }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef],
    });
  });

  it('may publish to the topic, and only this alarm', () => {
    const policy = Object.values(resources).find((resource) => resource.Type === 'AWS::SNS::TopicPolicy');
    const document = policy?.Properties.PolicyDocument as { Statement: { Sid?: string }[] } | undefined;
    const statements = document?.Statement ?? [];
    expect(statements.find((statement) => statement.Sid === 'LetCloudWatchAlarmsPublish')).toEqual({
      Sid: 'LetCloudWatchAlarmsPublish',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topicRef,
      Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [alarmId, 'Arn'] } } },
    });
  });
});
