import type { CfnResource } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { type AslDefinition, type AslState, definitionFromTemplate } from '../../lib/definition';
import { type MonitorFunctionName, monitorFunctionNames } from '../../lib/monitor-functions';
import { lambdaServiceErrors, publishFailedError } from '../../lib/monitor-workflow';
import { StateName } from '../../lib/state-names';
import { synthMonitorStack } from './synth';

const { stack, template } = synthMonitorStack();

type TemplateResources = Record<
  string,
  { Type: string; Properties: Record<string, unknown>; [key: string]: unknown }
>;
const resources = template.toJSON().Resources as TemplateResources;

function logicalIdOf(construct: IConstruct): string {
  return stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnResource)) as string;
}

function resourcesOfType(source: Template, type: string) {
  return Object.entries(source.toJSON().Resources as TemplateResources).filter(
    ([, resource]) => resource.Type === type,
  );
}

interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Collects the statements of every IAM policy attached to the role with `roleLogicalId`. */
function statementsOfRole(source: Template, roleLogicalId: string): PolicyStatement[] {
  return resourcesOfType(source, 'AWS::IAM::Policy')
    .filter(([, policy]) =>
      (policy.Properties.Roles as unknown[]).some(
        (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleLogicalId }),
      ),
    )
    .flatMap(
      ([, policy]) => (policy.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement,
    );
}

function actionsOf(statements: PolicyStatement[]): string[] {
  return statements.flatMap((statement) => [statement.Action].flat()).sort();
}

function roleLogicalIdOf(name: MonitorFunctionName): string {
  const role = stack.functions[name].role;
  if (role === undefined) {
    throw new Error(`function ${name} has no role`);
  }
  return logicalIdOf(role);
}

const { definition } = definitionFromTemplate(template.toJSON());

/** Collects every state of the definition by name, the Map's item states included. */
function allStates(source: AslDefinition): Record<string, AslState> {
  const states: Record<string, AslState> = {};
  for (const [name, state] of Object.entries(source.States)) {
    states[name] = state;
    if (state.ItemProcessor !== undefined) {
      Object.assign(states, allStates(state.ItemProcessor));
    }
  }
  return states;
}

const states = allStates(definition);

function state(name: string): AslState {
  const found = states[name];
  if (found === undefined) {
    throw new Error(`state "${name}" not found`);
  }
  return found;
}

describe('archive bucket', () => {
  const bucketId = logicalIdOf(stack.bucket);
  const bucket = resources[bucketId];
  const accessLogBucket = stack.archive.accessLogBucket;
  if (bucket === undefined || accessLogBucket === undefined) {
    throw new Error('the default stack creates the archive bucket and its access log bucket');
  }
  const accessLogBucketId = logicalIdOf(accessLogBucket);

  it('blocks all public access', () => {
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it('is encrypted with S3 managed keys', () => {
    expect(bucket.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });

  it('is versioned', () => {
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('is retained when the stack is deleted', () => {
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
  });

  it('logs access to a separate bucket', () => {
    expect(accessLogBucketId).not.toBe(bucketId);
    expect(bucket.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: accessLogBucketId },
      LogFilePrefix: 'archive-bucket/',
    });
  });

  it.each([
    ['archive bucket', bucketId],
    ['access log bucket', accessLogBucketId],
  ])('denies requests without TLS on the %s', (_label, id) => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('hardens the access log bucket too', () => {
    const logBucket = resources[accessLogBucketId];
    expect(logBucket?.Properties.PublicAccessBlockConfiguration).toEqual(
      bucket.Properties.PublicAccessBlockConfiguration,
    );
    expect(logBucket?.Properties.BucketEncryption).toEqual(bucket.Properties.BucketEncryption);
    expect(logBucket?.DeletionPolicy).toBe('Retain');
  });

  it('moves objects to cheaper classes and cleans up old versions', () => {
    expect(bucket.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'AgeArchivedObjects',
          Status: 'Enabled',
          Transitions: [
            { StorageClass: 'INTELLIGENT_TIERING', TransitionInDays: 30 },
            { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
          ],
        },
        {
          Id: 'CleanUpVersionsAndUploads',
          Status: 'Enabled',
          NoncurrentVersionExpiration: { NoncurrentDays: 30 },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          ExpiredObjectDeleteMarker: true,
        },
      ],
    });
  });

  it('expires objects after archiveRetentionDays', () => {
    const retained = synthMonitorStack({ context: { archiveRetentionDays: '60' } });
    const [rule] = resourcesOfType(retained.template, 'AWS::S3::Bucket')
      .map(
        ([, resource]) => resource.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] },
      )
      .filter((lifecycle) => lifecycle.Rules.some((candidate) => candidate.Id === 'AgeArchivedObjects'))
      .map((lifecycle) => lifecycle.Rules[0]);
    expect(rule).toEqual({
      Id: 'AgeArchivedObjects',
      Status: 'Enabled',
      ExpirationInDays: 60,
      Transitions: [{ StorageClass: 'INTELLIGENT_TIERING', TransitionInDays: 30 }],
    });
  });
});

describe('imported archive bucket', () => {
  const imported = synthMonitorStack({
    context: { archiveBucketName: 'team-eodh-archive', archivePrefix: 'jobs' },
  });

  it('creates no bucket', () => {
    expect(resourcesOfType(imported.template, 'AWS::S3::Bucket')).toEqual([]);
  });

  it('grants object access under the prefix of the named bucket', () => {
    const role = imported.stack.functions.archiveArtifacts.role;
    if (role === undefined) {
      throw new Error('archive function has no role');
    }
    const roleId = imported.stack.resolve(
      imported.stack.getLogicalId(role.node.defaultChild as CfnResource),
    ) as string;
    const s3Statements = statementsOfRole(imported.template, roleId).filter((statement) =>
      actionsOf([statement]).some((action) => action.startsWith('s3:')),
    );
    expect(s3Statements).toContainEqual(
      expect.objectContaining({
        Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::team-eodh-archive/jobs/*']],
        },
      }),
    );
  });

  it('passes the bucket name and prefix to the functions', () => {
    imported.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ ARCHIVE_BUCKET: 'team-eodh-archive', ARCHIVE_PREFIX: 'jobs' }),
      },
    });
  });
});

describe('outcome topic', () => {
  const topicId = logicalIdOf(stack.topic);

  it('is encrypted with its own rotating key', () => {
    const keyId = logicalIdOf(stack.notifications.key);
    expect(resources[topicId]?.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(resources[keyId]?.Properties.EnableKeyRotation).toBe(true);
  });

  it('lets CloudWatch alarms of this account use the topic key', () => {
    const keyPolicy = resources[logicalIdOf(stack.notifications.key)]?.Properties.KeyPolicy as {
      Statement: (PolicyStatement & { Principal?: { Service?: unknown } })[];
    };
    const serviceStatements = keyPolicy.Statement.filter((statement) => statement.Principal?.Service);
    expect(serviceStatements).toEqual([
      {
        Sid: 'LetCloudWatchAlarmsPublishToTheTopic',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
  });

  it('denies publishing without TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('has no subscriptions without notificationEmails', () => {
    expect(resourcesOfType(template, 'AWS::SNS::Subscription')).toEqual([]);
  });

  it('subscribes each address with a filter on notifyOn', () => {
    const subscribed = synthMonitorStack({
      context: {
        notificationEmails: 'ops@example.org,science@example.org',
        notifyOn: 'failed,monitor_error',
      },
    });
    const subscriptions = resourcesOfType(subscribed.template, 'AWS::SNS::Subscription').map(
      ([, resource]) => resource.Properties,
    );
    expect(subscriptions).toHaveLength(2);
    for (const endpoint of ['ops@example.org', 'science@example.org']) {
      expect(subscriptions).toContainEqual(
        expect.objectContaining({
          Protocol: 'email',
          Endpoint: endpoint,
          FilterPolicy: { outcome: ['failed', 'monitor_error', 'warning', { exists: false }] },
        }),
      );
    }
  });

  it('subscribes without a filter when every outcome is e-mailed', () => {
    const subscribed = synthMonitorStack({ context: { notificationEmails: 'ops@example.org' } });
    const [subscription] = resourcesOfType(subscribed.template, 'AWS::SNS::Subscription').map(
      ([, resource]) => resource.Properties,
    );
    expect(subscription).toEqual(expect.objectContaining({ Protocol: 'email', Endpoint: 'ops@example.org' }));
    expect(subscription).not.toHaveProperty('FilterPolicy');
  });
});

function functionProperties(name: MonitorFunctionName): Record<string, unknown> {
  const resource = resources[logicalIdOf(stack.functions[name])];
  if (resource === undefined) {
    throw new Error(`function ${name} is not in the template`);
  }
  return resource.Properties;
}

function environmentOf(name: MonitorFunctionName): Record<string, unknown> {
  return (functionProperties(name).Environment as { Variables: Record<string, unknown> }).Variables;
}

describe('functions', () => {
  const functions = resourcesOfType(template, 'AWS::Lambda::Function');

  it('has one function per handler', () => {
    expect(functions.map(([id]) => id).sort()).toEqual(
      monitorFunctionNames.map((name) => logicalIdOf(stack.functions[name])).sort(),
    );
  });

  it.each(monitorFunctionNames)('runs %s on nodejs24.x arm64 with active tracing', (name) => {
    const properties = functionProperties(name);
    expect(properties.Runtime).toBe('nodejs24.x');
    expect(properties.Architectures).toEqual(['arm64']);
    expect(properties.TracingConfig).toEqual({ Mode: 'Active' });
    expect(properties.Handler).toBe('index.handler');
  });

  it.each(monitorFunctionNames)('logs %s to its own log group kept for 3 months', (name) => {
    const logging = functionProperties(name).LoggingConfig as { LogGroup: { Ref: string } };
    const logGroup = resources[logging.LogGroup.Ref];
    expect(logGroup?.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup?.Properties.RetentionInDays).toBe(90);
  });

  it.each(monitorFunctionNames)('sets the Powertools environment of %s', (name) => {
    const variables = environmentOf(name);
    expect(variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'eodh-job-monitor',
      POWERTOOLS_METRICS_NAMESPACE: 'EodhJobMonitor',
      LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  const expectedEnvironment: Record<MonitorFunctionName, string[]> = {
    validateInput: [
      'API_URL',
      'ALLOWED_HOSTS',
      'POLL_INITIAL_SECONDS',
      'POLL_MAX_SECONDS',
      'MAX_JOB_AGE_HOURS',
      'LOG_WAIT_SECONDS',
      'TRANSIENT_ERROR_BUDGET',
      'AUTH_ERROR_BUDGET',
      'TRANSIENT_ERROR_BUDGET_SECONDS',
      'AUTH_ERROR_BUDGET_SECONDS',
      'CHECKS_PER_EXECUTION',
      'STUCK_AFTER_HOURS',
      'DISMISS_ON_TIMEOUT',
    ],
    checkStatus: ['ALLOWED_HOSTS', 'TOKEN_SECRET_NAME', 'HTTP_TIMEOUT_MS', 'TOPIC_ARN'],
    planArchive: ['ALLOWED_HOSTS', 'TOKEN_SECRET_NAME', 'ARCHIVE_BUCKET', 'ARCHIVE_PREFIX'],
    archiveArtifacts: ['ALLOWED_HOSTS', 'TOKEN_SECRET_NAME', 'ARCHIVE_BUCKET', 'ARCHIVE_PREFIX'],
    publishOutcome: ['ARCHIVE_BUCKET', 'ARCHIVE_PREFIX', 'TOPIC_ARN', 'TOKEN_SECRET_NAME'],
  };
  const commonVariables = [
    'POWERTOOLS_SERVICE_NAME',
    'POWERTOOLS_METRICS_NAMESPACE',
    'LOG_LEVEL',
    'NODE_OPTIONS',
  ];

  it.each(monitorFunctionNames)('gives %s only its own environment variables', (name) => {
    const variables = environmentOf(name);
    expect(Object.keys(variables).sort()).toEqual([...commonVariables, ...expectedEnvironment[name]].sort());
  });

  it('passes the configured monitoring options to validate-input', () => {
    const configured = synthMonitorStack({
      context: { pollInitialSeconds: '5', allowedHosts: 'eodatahub.org.uk,*.example.org' },
    });
    configured.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          API_URL: 'https://eodatahub.org.uk',
          ALLOWED_HOSTS: 'eodatahub.org.uk,*.example.org',
          POLL_INITIAL_SECONDS: '5',
          POLL_MAX_SECONDS: '900',
        }),
      },
    });
  });

  it('passes the failure budgets and continuation settings to validate-input', () => {
    const configured = synthMonitorStack({
      context: { checksPerExecution: '250', transientErrorBudgetSeconds: '600', dismissOnTimeout: 'true' },
    });
    configured.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CHECKS_PER_EXECUTION: '250',
          TRANSIENT_ERROR_BUDGET_SECONDS: '600',
          AUTH_ERROR_BUDGET_SECONDS: '172800',
          STUCK_AFTER_HOURS: '72',
          DISMISS_ON_TIMEOUT: 'true',
        }),
      },
    });
  });

  it.each([
    ['checkStatus', 30, undefined],
    ['planArchive', 300, 512],
    ['archiveArtifacts', 900, 1024],
    ['publishOutcome', 60, undefined],
  ] as const)('sizes %s with a %d s timeout', (name, timeout, memory) => {
    const properties = functionProperties(name);
    expect(properties.Timeout).toBe(timeout);
    if (memory !== undefined) {
      expect(properties.MemorySize).toBe(memory);
    }
  });
});

describe('function permissions', () => {
  const logsAndTracing = [
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'xray:PutTelemetryRecords',
    'xray:PutTraceSegments',
  ];
  const tokenRead = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
  const archiveAccess = ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListBucket', 's3:PutObject'];
  const topicPublish = ['kms:Decrypt', 'kms:GenerateDataKey', 'sns:Publish'];
  const expectedActions: Record<MonitorFunctionName, string[]> = {
    validateInput: logsAndTracing,
    checkStatus: [...logsAndTracing, ...tokenRead, ...topicPublish],
    planArchive: [...logsAndTracing, ...tokenRead, ...archiveAccess],
    archiveArtifacts: [...logsAndTracing, ...tokenRead, ...archiveAccess],
    publishOutcome: [...logsAndTracing, ...archiveAccess, ...topicPublish],
  };

  it.each(monitorFunctionNames)('grants %s only the actions it needs', (name) => {
    expect(actionsOf(statementsOfRole(template, roleLogicalIdOf(name)))).toEqual(
      [...expectedActions[name]].sort(),
    );
  });

  it.each(monitorFunctionNames)('attaches no managed policy to the %s role', (name) => {
    expect(resources[roleLogicalIdOf(name)]?.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('lets check, plan and archive read only the token secret', () => {
    const secretArn = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':secretsmanager:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':secret:eodh/api-token-??????',
        ],
      ],
    };
    for (const name of ['checkStatus', 'planArchive', 'archiveArtifacts'] as const) {
      const secretStatements = statementsOfRole(template, roleLogicalIdOf(name)).filter((statement) =>
        actionsOf([statement]).some((action) => action.startsWith('secretsmanager:')),
      );
      expect(secretStatements.map((statement) => statement.Resource)).toEqual([secretArn]);
    }
  });

  it('lets the check and publish functions publish only to the outcome topic', () => {
    const publishStatements = resourcesOfType(template, 'AWS::IAM::Policy')
      .flatMap(([, policy]) =>
        (policy.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement.map((statement) => ({
          roles: policy.Properties.Roles,
          statement,
        })),
      )
      .filter(({ statement }) => actionsOf([statement]).some((action) => action.startsWith('sns:')));
    expect(publishStatements).toHaveLength(3);
    const roles = [
      roleLogicalIdOf('publishOutcome'),
      roleLogicalIdOf('checkStatus'),
      logicalIdOf(stack.alarms.alertPublisherRole),
    ];
    for (const role of roles) {
      expect(publishStatements).toContainEqual({
        roles: [{ Ref: role }],
        statement: { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: logicalIdOf(stack.topic) } },
      });
    }
  });

  it('lets the check and publish functions use only the topic key', () => {
    for (const name of ['publishOutcome', 'checkStatus'] as const) {
      const keyStatements = statementsOfRole(template, roleLogicalIdOf(name)).filter((statement) =>
        actionsOf([statement]).some((action) => action.startsWith('kms:')),
      );
      expect(keyStatements).toEqual([
        {
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: { 'Fn::GetAtt': [logicalIdOf(stack.notifications.key), 'Arn'] },
        },
      ]);
    }
  });

  it('limits object access to the archive prefix', () => {
    const objectStatement = statementsOfRole(template, roleLogicalIdOf('archiveArtifacts')).find(
      (statement) => actionsOf([statement]).includes('s3:PutObject'),
    );
    expect(objectStatement?.Resource).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalIdOf(stack.bucket), 'Arn'] }, '/eodh-jobs/*']],
    });
  });
});

describe('state machine', () => {
  const stateMachine = resources[logicalIdOf(stack.stateMachine)];

  it('is a Standard workflow', () => {
    expect(stateMachine?.Properties.StateMachineType).toBe('STANDARD');
    expect(definition.QueryLanguage).toBe('JSONPath');
  });

  it('logs ALL events without execution data', () => {
    expect(stateMachine?.Properties.LoggingConfiguration).toEqual({
      Destinations: [
        {
          CloudWatchLogsLogGroup: {
            LogGroupArn: { 'Fn::GetAtt': [logicalIdOf(stack.workflow.logGroup), 'Arn'] },
          },
        },
      ],
      IncludeExecutionData: false,
      Level: 'ALL',
    });
  });

  it('has X-Ray tracing enabled', () => {
    expect(stateMachine?.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('may start executions of itself and of nothing else', () => {
    const statements = statementsOfRole(template, logicalIdOf(stack.stateMachine.role)).filter((statement) =>
      actionsOf([statement]).some((action) => action.startsWith('states:')),
    );
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: { Ref: logicalIdOf(stack.stateMachine) },
      },
    ]);
  });

  it('grants StartExecution on itself through grantStartOwnExecution', () => {
    const continued = synthMonitorStack({
      prepare: (_app, target) => target.workflow.grantStartOwnExecution(),
    });
    const stateMachineId = continued.stack.resolve(
      continued.stack.getLogicalId(continued.stack.stateMachine.node.defaultChild as CfnResource),
    ) as string;
    const roleId = continued.stack.resolve(
      continued.stack.getLogicalId(continued.stack.stateMachine.role.node.defaultChild as CfnResource),
    ) as string;
    expect(statementsOfRole(continued.template, roleId)).toContainEqual({
      Effect: 'Allow',
      Action: 'states:StartExecution',
      Resource: { Ref: stateMachineId },
    });
  });
});

describe('state machine definition', () => {
  const taskNames = Object.entries(states)
    .filter(([, candidate]) => candidate.Type === 'Task')
    .map(([name]) => name);

  it('has exactly the documented state names', () => {
    expect(Object.keys(states).sort()).toEqual(Object.values(StateName).sort());
  });

  it('starts by validating the input', () => {
    expect(definition.StartAt).toBe(StateName.validateInput);
    expect(state(StateName.validateInput).Parameters).toEqual({
      'input.$': '$',
      'executionName.$': '$$.Execution.Name',
      'executionStartTime.$': '$$.Execution.StartTime',
    });
    // An absent ResultPath replaces the whole state with the output, and the local engine does
    // the same. It mishandles an explicit "$".
    expect(state(StateName.validateInput)).not.toHaveProperty('ResultPath');
  });

  it.each([
    StateName.validateInput,
    StateName.checkJobStatus,
    StateName.planArchive,
    StateName.archiveBatch,
    StateName.publishOutcome,
    StateName.publishMonitorFailure,
  ])('invokes a function directly from %s', (name) => {
    expect(taskNames).toContain(name);
    expect(state(name).Resource).toMatch(/^arn:aws:lambda:us-east-1:123456789012:function:Functions/);
  });

  it.each(
    Object.values(StateName).filter(
      (name) => states[name]?.Type === 'Task' && name !== StateName.continueInNewExecution,
    ),
  )('retries Lambda service errors in %s', (name) => {
    expect((state(name).Retry as unknown[])[0]).toEqual({
      ErrorEquals: [...lambdaServiceErrors],
      IntervalSeconds: 2,
      BackoffRate: 2,
      MaxAttempts: 6,
      JitterStrategy: 'FULL',
    });
  });

  it.each([StateName.publishOutcome, StateName.publishMonitorFailure])(
    'retries a failed SNS publish in %s',
    (name) => {
      expect(state(name).Retry).toEqual([
        expect.objectContaining({ ErrorEquals: [...lambdaServiceErrors] }),
        {
          ErrorEquals: [publishFailedError],
          IntervalSeconds: 5,
          BackoffRate: 2,
          MaxAttempts: 6,
          JitterStrategy: 'FULL',
        },
      ]);
    },
  );

  it.each([StateName.validateInput, StateName.checkJobStatus, StateName.planArchive, StateName.archiveBatch])(
    'retries only Lambda service errors in %s',
    (name) => {
      expect(state(name).Retry).toHaveLength(1);
    },
  );

  it.each([
    StateName.validateInput,
    StateName.checkJobStatus,
    StateName.planArchive,
    StateName.archiveArtifacts,
    StateName.publishOutcome,
  ])('catches every error of %s into the failure publisher', (name) => {
    expect(state(name).Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: StateName.publishMonitorFailure },
    ]);
  });

  it('lets a failed failure publication fail the execution with its own error', () => {
    // The failed-execution guard reports every failure except the two Fail states below, so an
    // unreported monitor error reaches the topic once and a reported one never twice.
    expect(state(StateName.publishMonitorFailure).Catch).toBeUndefined();
    expect(state(StateName.publishMonitorFailure).Next).toBe(StateName.monitorFailed);
    expect(state(StateName.publishMonitorFailure).Parameters).toEqual({
      failure: true,
      'state.$': '$',
      'executionInput.$': '$$.Execution.Input',
      'executionName.$': '$$.Execution.Name',
      'execution.$': '$$.Execution.Name',
      'executionArn.$': '$$.Execution.Id',
    });
  });

  it('passes the previous check to Check job status', () => {
    expect(state(StateName.checkJobStatus).Parameters).toEqual({
      'job.$': '$.job',
      'previous.$': '$.check',
      'execution.$': '$$.Execution.Name',
      'executionArn.$': '$$.Execution.Id',
    });
    expect(state(StateName.checkJobStatus).ResultPath).toBe('$.check');
    expect(state(StateName.checkJobStatus).Next).toBe(StateName.jobFinished);
  });

  it('routes Job finished? on the next step', () => {
    expect(state(StateName.jobFinished).Choices).toEqual([
      { Variable: '$.check.next', StringEquals: 'archive', Next: StateName.planArchive },
      { Variable: '$.check.next', StringEquals: 'wait_for_logs', Next: StateName.waitForLogLinks },
      { Variable: '$.check.next', StringEquals: 'give_up', Next: StateName.publishOutcome },
      { Variable: '$.check.next', StringEquals: 'continue', Next: StateName.continueInNewExecution },
    ]);
    expect(state(StateName.jobFinished).Default).toBe(StateName.waitForNextCheck);
  });

  it('starts the next generation of itself and hands over', () => {
    const handover = state(StateName.continueInNewExecution);
    expect(handover.Type).toBe('Task');
    expect(handover.Resource).toBe('arn:aws:states:::states:startExecution');
    expect(handover.Parameters).toEqual({
      'StateMachineArn.$': '$$.StateMachine.Id',
      'Name.$': '$.check.continuation.name',
      'Input.$': '$.check.continuation.input',
    });
    expect(handover.ResultPath).toBe('$.handover');
    expect(handover.Retry).toEqual([
      {
        ErrorEquals: ['States.TaskFailed'],
        IntervalSeconds: 2,
        BackoffRate: 2,
        MaxAttempts: 4,
        JitterStrategy: 'FULL',
      },
    ]);
    expect(handover.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: StateName.publishMonitorFailure },
    ]);
    expect(handover.Next).toBe(StateName.handedOver);
    expect(state(StateName.handedOver)).toEqual({ Type: 'Succeed' });
  });

  it.each([StateName.waitForNextCheck, StateName.waitForLogLinks])('waits nextCheckSeconds in %s', (name) => {
    expect(state(name)).toEqual({
      Type: 'Wait',
      SecondsPath: '$.check.nextCheckSeconds',
      Next: StateName.checkJobStatus,
    });
  });

  it('archives the plan batches four at a time', () => {
    const map = state(StateName.archiveArtifacts);
    expect(map.Type).toBe('Map');
    expect(map.MaxConcurrency).toBe(4);
    expect(map.ItemsPath).toBe('$.plan.batches');
    expect(map.ItemSelector).toEqual({ 'job.$': '$.job', 'batch.$': '$$.Map.Item.Value' });
    // The batch results are dropped; Publish outcome counts from the manifest parts instead.
    expect(map.ResultPath).toBeNull();
    expect(map.Next).toBe(StateName.publishOutcome);
    expect(map.ItemProcessor?.StartAt).toBe(StateName.archiveBatch);
    expect(Object.keys(map.ItemProcessor?.States ?? {})).toEqual([StateName.archiveBatch]);
  });

  it('keeps only the counts of each archive batch', () => {
    const batch = state(StateName.archiveArtifacts).ItemProcessor?.States?.[StateName.archiveBatch] as
      | { ResultSelector?: unknown }
      | undefined;
    expect(batch?.ResultSelector).toEqual({
      'batch.$': '$.batch',
      'filesArchived.$': '$.filesArchived',
      'filesSkipped.$': '$.filesSkipped',
      'bytesArchived.$': '$.bytesArchived',
      'filesFailed.$': '$.filesFailed',
    });
  });

  it('plans the archive from the job and the last check', () => {
    expect(state(StateName.planArchive).Parameters).toEqual({ 'job.$': '$.job', 'check.$': '$.check' });
    expect(state(StateName.planArchive).ResultPath).toBe('$.plan');
    expect(state(StateName.planArchive).Next).toBe(StateName.archiveArtifacts);
  });

  it('publishes the outcome from the whole job state', () => {
    expect(state(StateName.publishOutcome).Parameters).toEqual({
      'job.$': '$.job',
      'check.$': '$.check',
      'plan.$': '$.plan',
      'archive.$': '$.archive',
      'execution.$': '$$.Execution.Name',
      'executionArn.$': '$$.Execution.Id',
    });
    expect(state(StateName.publishOutcome).ResultPath).toBe('$.outcome');
    expect(state(StateName.publishOutcome).Next).toBe(StateName.whichOutcome);
  });

  it('ends job outcomes in Succeed states and monitor problems in Fail states', () => {
    expect(state(StateName.whichOutcome).Choices).toEqual([
      { Variable: '$.outcome.outcome', StringEquals: 'succeeded', Next: StateName.jobSucceeded },
      { Variable: '$.outcome.outcome', StringEquals: 'failed', Next: StateName.jobFailed },
      { Variable: '$.outcome.outcome', StringEquals: 'dismissed', Next: StateName.jobDismissed },
      { Variable: '$.outcome.outcome', StringEquals: 'timed_out', Next: StateName.jobTimedOut },
    ]);
    expect(state(StateName.whichOutcome).Default).toBe(StateName.monitorGaveUp);
    for (const name of [
      StateName.jobSucceeded,
      StateName.jobFailed,
      StateName.jobDismissed,
      StateName.jobTimedOut,
    ]) {
      expect(state(name).Type).toBe('Succeed');
    }
    expect(state(StateName.monitorGaveUp)).toEqual({
      Type: 'Fail',
      Error: 'MonitorGaveUp',
      Cause: 'monitoring gave up; the outcome notification says why',
    });
    expect(state(StateName.monitorFailed)).toEqual({
      Type: 'Fail',
      Error: 'MonitorFailed',
      Cause: 'the monitor failed; the monitor_error notification has the details',
    });
  });
});

describe('outputs', () => {
  it.each([
    ['StateMachineArn', { Ref: logicalIdOf(stack.stateMachine) }],
    ['ArchiveBucketName', { Ref: logicalIdOf(stack.bucket) }],
    ['OutcomeTopicArn', { Ref: logicalIdOf(stack.topic) }],
  ])('exports %s', (name, value) => {
    template.hasOutput(name, { Value: value });
  });
});
