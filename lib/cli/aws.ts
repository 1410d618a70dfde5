import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Env } from '../../lambdas/core/config';
import { describeValue } from '../../lambdas/core/validation';
import { UsageError } from './errors';

/**
 * Finds the deployed monitor's state machine for the `start`, `submit`, `watch`, `list` and
 * `stop` commands. AWS SDK errors that a user can fix (no credentials, no region, access denied,
 * no such stack) become usage errors that name what to set.
 */

/** Stack name that `bin/app.ts` deploys. */
export const defaultStackName = 'EodhJobMonitor';

/** Stack output that contains the state machine ARN. */
export const stateMachineOutputKey = 'StateMachineArn';

/** Flags shared by every command that talks to the deployed stack. */
export interface StackOptions {
  stateMachineArn?: string;
  region?: string;
  stackName?: string;
}

/** The deployed state machine and a Step Functions client in its region. */
export interface DeployedMonitor {
  stateMachineArn: string;
  region: string;
  sfn: SFNClient;
}

/** Lookups the commands take from the environment, replaced in tests. */
export interface AwsDependencies {
  /** Region from the AWS SDK's shared config (`~/.aws/config` profile), or undefined. */
  profileRegion(): Promise<string | undefined>;
}

/** Reads the region as the AWS SDK does when no region is passed: environment, then profile. */
export const defaultAwsDependencies: AwsDependencies = {
  async profileRegion() {
    try {
      return await new SFNClient({}).config.region();
    } catch {
      return undefined;
    }
  },
};

const stateMachineArnPattern = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;
const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
// CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128 characters.
const stackNamePattern = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

const setStateMachine =
  'set --state-machine-arn or EODH_MONITOR_STATE_MACHINE_ARN to the StateMachineArn output of the deployed stack';

/**
 * Finds the state machine ARN and region, in this order: `--state-machine-arn`, then
 * `EODH_MONITOR_STATE_MACHINE_ARN`, then the `StateMachineArn` output of the CloudFormation
 * stack named by `--stack-name`, `EODH_MONITOR_STACK` or `EodhJobMonitor`. The region of an
 * ARN is the ARN's own; a stack is looked up in `--region`, `AWS_REGION` or the profile's region.
 */
export async function findDeployedMonitor(
  options: StackOptions,
  env: Env,
  deps: AwsDependencies = defaultAwsDependencies,
): Promise<DeployedMonitor> {
  if (options.region !== undefined && !regionPattern.test(options.region)) {
    throw new UsageError(
      `invalid --region ${describeValue(options.region)}: expected a region code such as eu-west-2`,
    );
  }

  const arnSource =
    options.stateMachineArn !== undefined
      ? { name: '--state-machine-arn', value: options.stateMachineArn }
      : nonEmpty(env.EODH_MONITOR_STATE_MACHINE_ARN) === undefined
        ? null
        : {
            name: 'EODH_MONITOR_STATE_MACHINE_ARN',
            value: (env.EODH_MONITOR_STATE_MACHINE_ARN ?? '').trim(),
          };
  if (arnSource !== null) {
    const region = stateMachineArnPattern.exec(arnSource.value)?.[1];
    if (region === undefined) {
      throw new UsageError(
        `invalid ${arnSource.name} ${describeValue(arnSource.value)}: expected arn:aws:states:<region>:<account>:stateMachine:<name>`,
      );
    }
    if (options.region !== undefined && options.region !== region) {
      throw new UsageError(
        `--region ${options.region} does not match the region of the state machine ARN (${region}): leave out --region or give the ARN from that region`,
      );
    }
    return { stateMachineArn: arnSource.value, region, sfn: new SFNClient({ region }) };
  }

  const stackName = options.stackName ?? nonEmpty(env.EODH_MONITOR_STACK) ?? defaultStackName;
  if (!stackNamePattern.test(stackName)) {
    throw new UsageError(
      `invalid stack name ${describeValue(stackName)}: expected a letter followed by letters, digits or "-" (set --stack-name or EODH_MONITOR_STACK)`,
    );
  }
  const region = options.region ?? nonEmpty(env.AWS_REGION) ?? (await deps.profileRegion());
  if (region === undefined) {
    throw new UsageError(
      `no AWS region to look up stack ${stackName} in: set --region or AWS_REGION (or a region in your AWS profile), or ${setStateMachine}`,
    );
  }
  const stateMachineArn = await readStackOutput(stackName, region);
  const arnRegion = stateMachineArnPattern.exec(stateMachineArn)?.[1] ?? region;
  return { stateMachineArn, region: arnRegion, sfn: new SFNClient({ region: arnRegion }) };
}

async function readStackOutput(stackName: string, region: string): Promise<string> {
  const client = new CloudFormationClient({ region });
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const response = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = response.Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    // CloudFormation reports a missing stack as a ValidationError "Stack with id X does not exist".
    if (errorName(error) === 'ValidationError' && /does not exist/i.test(errorMessage(error))) {
      throw new UsageError(
        `stack ${stackName} not found in ${region}: deploy it with "npx cdk deploy", set --stack-name or EODH_MONITOR_STACK to its name, set --region to its region, or ${setStateMachine}`,
        { cause: error },
      );
    }
    throw explainAwsError(error, 'cloudformation:DescribeStacks', region);
  } finally {
    client.destroy();
  }
  const value = outputs.find((output) => output.OutputKey === stateMachineOutputKey)?.OutputValue;
  if (value === undefined || !stateMachineArnPattern.test(value)) {
    throw new UsageError(
      `stack ${stackName} in ${region} has no ${stateMachineOutputKey} output: check that it is the EODH job monitor stack, or ${setStateMachine}`,
    );
  }
  return value;
}

/**
 * An AWS request that failed for a reason other than configuration (throttling after the SDK's
 * retries, a service fault, a network failure). The command exits with code 1.
 */
export class AwsRequestError extends Error {
  override readonly name = 'AwsRequestError';
}

const credentialErrors = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
]);
const accessErrors = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
const missingStateMachineErrors = new Set(['StateMachineDoesNotExist', 'StateMachineDeleting']);

/**
 * Converts an AWS SDK error into an error the command line can report: a `UsageError` when the
 * user can fix it (credentials, permissions, region), an `AwsRequestError` otherwise.
 * @param action - the IAM action of the failed request, such as `states:StartExecution`
 */
export function explainAwsError(error: unknown, action: string, region: string): Error {
  if (error instanceof UsageError || error instanceof AwsRequestError) return error;
  const name = errorName(error);
  const message = errorMessage(error);
  if (credentialErrors.has(name) || /could not load credentials/i.test(message)) {
    return new UsageError(
      `no valid AWS credentials for ${action} (${name}: ${firstLine(message)}): set AWS_PROFILE to a configured profile (after "aws sso login" if it uses SSO), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
      { cause: error },
    );
  }
  if (accessErrors.has(name)) {
    return new UsageError(
      `access denied for ${action} in ${region}: the AWS credentials in use need permission for ${action} on the monitor's resources`,
      { cause: error },
    );
  }
  if (missingStateMachineErrors.has(name)) {
    return new UsageError(
      `the state machine does not exist in ${region} (${name}): deploy the stack with "npx cdk deploy", or ${setStateMachine}`,
      { cause: error },
    );
  }
  if (/region is missing/i.test(message)) {
    return new UsageError('no AWS region: set --region or AWS_REGION', { cause: error });
  }
  return new AwsRequestError(`${action} failed in ${region}: ${name}: ${firstLine(message)}`, {
    cause: error,
  });
}

/**
 * Runs one AWS request and converts its failure with `explainAwsError`. Errors whose name is in
 * `passThrough` are rethrown unchanged, so the caller can handle them (`ExecutionDoesNotExist`).
 */
export async function callAws<T>(
  action: string,
  region: string,
  request: () => Promise<T>,
  passThrough: readonly string[] = [],
): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (passThrough.includes(errorName(error))) throw error;
    throw explainAwsError(error, action, region);
  }
}

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function firstLine(text: string): string {
  return (text.split('\n', 1)[0] ?? '').slice(0, 300);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
