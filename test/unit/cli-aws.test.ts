import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AwsRequestError,
  callAws,
  explainAwsError,
  findDeployedMonitor,
  type StackOptions,
} from '../../lib/cli/aws';
import { UsageError } from '../../lib/cli/errors';
import { runCli } from './support/cli';

const cloudFormationMock = mockClient(CloudFormationClient);
const sfnMock = mockClient(SFNClient);

afterEach(() => {
  cloudFormationMock.reset();
  sfnMock.reset();
});

const stateMachineArn =
  'arn:aws:states:eu-west-2:123456789012:stateMachine:WorkflowStateMachine4C3E1B2A-Xy7PqR2sT9uV';
const otherArn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:EodhMonitorStaging';

function stackWithOutputs(outputs: { OutputKey: string; OutputValue: string }[]) {
  return {
    Stacks: [
      {
        StackName: 'EodhJobMonitor',
        StackStatus: 'CREATE_COMPLETE' as const,
        CreationTime: new Date('2026-11-01T10:00:00Z'),
        Outputs: outputs,
      },
    ],
  };
}

async function find(options: StackOptions, env: Record<string, string> = {}, profileRegion?: string) {
  return findDeployedMonitor(options, env, { profileRegion: async () => profileRegion });
}

async function usageMessage(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as Error).message;
}

describe('findDeployedMonitor', () => {
  it('takes the ARN and its region from the flag', async () => {
    const monitor = await find({ stateMachineArn: otherArn }, { AWS_REGION: 'eu-west-2' });

    expect(monitor.stateMachineArn).toBe(otherArn);
    expect(monitor.region).toBe('eu-west-1');
    expect(await monitor.sfn.config.region()).toBe('eu-west-1');
    expect(cloudFormationMock).not.toHaveReceivedCommand(DescribeStacksCommand);
  });

  it('takes the ARN from EODH_MONITOR_STATE_MACHINE_ARN', async () => {
    const monitor = await find({}, { EODH_MONITOR_STATE_MACHINE_ARN: ` ${stateMachineArn} ` });

    expect(monitor.stateMachineArn).toBe(stateMachineArn);
    expect(monitor.region).toBe('eu-west-2');
    expect(cloudFormationMock).not.toHaveReceivedCommand(DescribeStacksCommand);
  });

  it('prefers the flag over the environment', async () => {
    const monitor = await find(
      { stateMachineArn: otherArn },
      { EODH_MONITOR_STATE_MACHINE_ARN: stateMachineArn },
    );

    expect(monitor.stateMachineArn).toBe(otherArn);
  });

  it('rejects an invalid ARN naming its source', async () => {
    const message = await usageMessage(
      find({}, { EODH_MONITOR_STATE_MACHINE_ARN: 'arn:aws:sns:eu-west-2:1:x' }),
    );

    expect(message).toContain('invalid EODH_MONITOR_STATE_MACHINE_ARN "arn:aws:sns:eu-west-2:1:x"');
    expect(message).toContain('arn:aws:states:<region>:<account>:stateMachine:<name>');
  });

  it('rejects a --region that differs from the ARN', async () => {
    const message = await usageMessage(find({ stateMachineArn, region: 'us-east-1' }));

    expect(message).toContain('--region us-east-1 does not match');
    expect(message).toContain('(eu-west-2)');
  });

  it('rejects a malformed --region', async () => {
    const message = await usageMessage(find({ region: 'London' }));

    expect(message).toContain('invalid --region "London"');
  });

  it('reads the StateMachineArn output of the default stack', async () => {
    cloudFormationMock.on(DescribeStacksCommand).resolves(
      stackWithOutputs([
        { OutputKey: 'ArchiveBucketName', OutputValue: 'eodhjobmonitor-archive-1x2y3z' },
        { OutputKey: 'StateMachineArn', OutputValue: stateMachineArn },
      ]),
    );

    const monitor = await find({}, { AWS_REGION: 'eu-west-2' });

    expect(monitor.stateMachineArn).toBe(stateMachineArn);
    expect(monitor.region).toBe('eu-west-2');
    expect(cloudFormationMock).toHaveReceivedCommandTimes(DescribeStacksCommand, 1);
    expect(cloudFormationMock).toHaveReceivedCommandWith(DescribeStacksCommand, {
      StackName: 'EodhJobMonitor',
    });
  });

  it('looks up the stack named by the flag in the flag region', async () => {
    cloudFormationMock
      .on(DescribeStacksCommand)
      .resolves(stackWithOutputs([{ OutputKey: 'StateMachineArn', OutputValue: otherArn }]));

    const monitor = await find(
      { stackName: 'EodhMonitorStaging', region: 'eu-west-1' },
      { EODH_MONITOR_STACK: 'Ignored', AWS_REGION: 'eu-west-2' },
    );

    expect(monitor.region).toBe('eu-west-1');
    expect(cloudFormationMock).toHaveReceivedCommandWith(DescribeStacksCommand, {
      StackName: 'EodhMonitorStaging',
    });
  });

  it('looks up the stack named by EODH_MONITOR_STACK in the profile region', async () => {
    cloudFormationMock
      .on(DescribeStacksCommand)
      .resolves(stackWithOutputs([{ OutputKey: 'StateMachineArn', OutputValue: otherArn }]));

    const monitor = await find({}, { EODH_MONITOR_STACK: 'EodhMonitorStaging' }, 'eu-west-1');

    expect(monitor.stateMachineArn).toBe(otherArn);
    expect(cloudFormationMock).toHaveReceivedCommandWith(DescribeStacksCommand, {
      StackName: 'EodhMonitorStaging',
    });
  });

  it('names what to set when no region is known', async () => {
    const message = await usageMessage(find({}));

    expect(message).toContain('no AWS region to look up stack EodhJobMonitor');
    expect(message).toContain('--region or AWS_REGION');
    expect(message).toContain('EODH_MONITOR_STATE_MACHINE_ARN');
    expect(cloudFormationMock).not.toHaveReceivedCommand(DescribeStacksCommand);
  });

  it('rejects an invalid stack name', async () => {
    const message = await usageMessage(find({ stackName: 'eodh monitor' }, { AWS_REGION: 'eu-west-2' }));

    expect(message).toContain('invalid stack name "eodh monitor"');
  });

  it('names what to set when the stack does not exist', async () => {
    cloudFormationMock
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Stack with id EodhJobMonitor does not exist'), { name: 'ValidationError' }),
      );

    const message = await usageMessage(find({}, { AWS_REGION: 'eu-west-2' }));

    expect(message).toContain('stack EodhJobMonitor not found in eu-west-2');
    expect(message).toContain('npx cdk deploy');
    expect(message).toContain('--stack-name or EODH_MONITOR_STACK');
    expect(message).toContain('--state-machine-arn or EODH_MONITOR_STATE_MACHINE_ARN');
  });

  it('rejects a stack without the StateMachineArn output', async () => {
    cloudFormationMock
      .on(DescribeStacksCommand)
      .resolves(stackWithOutputs([{ OutputKey: 'BucketName', OutputValue: 'site-bucket' }]));

    const message = await usageMessage(find({}, { AWS_REGION: 'eu-west-2' }));

    expect(message).toContain('stack EodhJobMonitor in eu-west-2 has no StateMachineArn output');
  });

  it('names the credential settings when none are found', async () => {
    cloudFormationMock.on(DescribeStacksCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );

    const message = await usageMessage(find({}, { AWS_REGION: 'eu-west-2' }));

    expect(message).toContain('no valid AWS credentials for cloudformation:DescribeStacks');
    expect(message).toContain('AWS_PROFILE');
    expect(message).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  });

  it('names the permission when access is denied', async () => {
    cloudFormationMock
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' }));

    const message = await usageMessage(find({}, { AWS_REGION: 'eu-west-2' }));

    expect(message).toContain('access denied for cloudformation:DescribeStacks in eu-west-2');
  });
});

describe('explainAwsError', () => {
  it('keeps a throttling error as a request error', () => {
    const error = explainAwsError(
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
      'states:ListExecutions',
      'eu-west-2',
    );

    expect(error).toBeInstanceOf(AwsRequestError);
    expect(error.message).toBe(
      'states:ListExecutions failed in eu-west-2: ThrottlingException: Rate exceeded',
    );
  });

  it('reports a deleted state machine as configuration', () => {
    const error = explainAwsError(
      Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist' }),
      'states:ListExecutions',
      'eu-west-2',
    );

    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain('the state machine does not exist in eu-west-2');
  });

  it('treats expired session tokens as credentials', () => {
    const error = explainAwsError(
      Object.assign(new Error('The security token included in the request is expired'), {
        name: 'ExpiredTokenException',
      }),
      'states:StartExecution',
      'eu-west-2',
    );

    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain('no valid AWS credentials for states:StartExecution');
  });
});

describe('callAws', () => {
  it('rethrows pass-through errors unchanged', async () => {
    const original = Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' });

    await expect(
      callAws('states:DescribeExecution', 'eu-west-2', () => Promise.reject(original), [
        'ExecutionDoesNotExist',
      ]),
    ).rejects.toBe(original);
  });
});

describe('stack lookup through the command line', () => {
  it('exits 2 naming the settings when no region is known', async () => {
    const result = await runCli(['list']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--region or AWS_REGION');
    expect(sfnMock).not.toHaveReceivedCommand(ListExecutionsCommand);
  });

  it('exits 2 when credentials are missing', async () => {
    sfnMock.on(ListExecutionsCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );

    const result = await runCli(['list', '--state-machine-arn', stateMachineArn]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: no valid AWS credentials for states:ListExecutions');
  });

  it('exits 1 when a request fails for another reason', async () => {
    sfnMock
      .on(ListExecutionsCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    const result = await runCli(['list', '--state-machine-arn', stateMachineArn]);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: states:ListExecutions failed in eu-west-2: ThrottlingException: Rate exceeded\n',
    );
  });

  it('uses the stack output when no ARN is given', async () => {
    cloudFormationMock
      .on(DescribeStacksCommand)
      .resolves(stackWithOutputs([{ OutputKey: 'StateMachineArn', OutputValue: stateMachineArn }]));
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });

    const result = await runCli(['list', '--stack-name', 'EodhJobMonitor'], { profileRegion: 'eu-west-2' });

    expect(result.code).toBe(0);
    expect(sfnMock).toHaveReceivedCommandWith(ListExecutionsCommand, { stateMachineArn });
  });
});
