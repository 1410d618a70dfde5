import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { NextStep, Outcome } from '../lambdas/core/state';
import type { MonitorFunctionName } from './monitor-functions';
import { StateName } from './state-names';

export interface MonitorWorkflowProps {
  readonly functions: Record<MonitorFunctionName, lambda.IFunction>;
}

/**
 * Errors of the Lambda service itself (throttling, service faults, client timeouts). The handler
 * either did not run or may run twice, so a retry repeats at worst a status check, an
 * idempotent archive batch or one outcome message.
 */
export const lambdaServiceErrors = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
] as const;

/** Path of a caught error in the state that `Publish monitor failure` receives. */
export const caughtErrorPath = '$.error';

/**
 * Errors of the two Fail states that come after a published monitor_error outcome. An execution
 * that fails with any other error, times out or is aborted has published nothing, so only those
 * reach the subscribers through the failed-execution guard.
 */
export const reportedFailureErrors = {
  monitorFailed: 'MonitorFailed',
  monitorGaveUp: 'MonitorGaveUp',
} as const;

/** Error name of a failed SNS publish in `Publish outcome` and `Publish monitor failure`. */
export const publishFailedError = 'PublishFailedError';

const maxConcurrentBatches = 4;

/**
 * The monitor's Standard state machine: validate, check until the job ends, archive, publish.
 * The definition uses JSONPath and only the features the local engine (aws-local-stepfunctions)
 * executes, so the synthesized JSON also runs on a laptop.
 */
export class MonitorWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  private continuationPolicy?: iam.Policy;

  constructor(scope: Construct, id: string, props: MonitorWorkflowProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.THREE_MONTHS,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      definitionBody: sfn.DefinitionBody.fromChainable(buildDefinition(this, props.functions)),
      tracingEnabled: true,
      logs: {
        destination: this.logGroup,
        level: sfn.LogLevel.ALL,
        // Execution data contains job inputs and status messages, which the execution history keeps anyway.
        includeExecutionData: false,
      },
    });
  }

  /**
   * Lets the state machine start executions of itself, which a long job needs to continue in a
   * new execution before the 25,000-event history limit. The grant is a separate IAM policy
   * because the role's default policy is a dependency of the state machine, and naming the
   * state machine's ARN there would make a dependency cycle.
   */
  grantStartOwnExecution(): iam.Policy {
    this.continuationPolicy ??= new iam.Policy(this, 'ContinuationPolicy', {
      roles: [this.stateMachine.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['states:StartExecution'],
          resources: [this.stateMachine.stateMachineArn],
        }),
      ],
    });
    return this.continuationPolicy;
  }
}

/**
 * Builds a Lambda task whose result is the handler's return value, retried only on Lambda
 * service errors. Handler errors are not retried here, because the handlers count and schedule
 * their own transient failures and anything else is a monitor failure.
 */
function invokeTask(
  scope: Construct,
  name: string,
  fn: lambda.IFunction,
  props: {
    parameters?: Record<string, unknown>;
    resultPath?: string;
    resultSelector?: Record<string, unknown>;
  },
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, name, {
    lambdaFunction: fn,
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    ...(props.parameters ? { payload: sfn.TaskInput.fromObject(props.parameters) } : {}),
    ...(props.resultPath ? { resultPath: props.resultPath } : {}),
    ...(props.resultSelector ? { resultSelector: props.resultSelector } : {}),
  });
  task.addRetry({
    errors: [...lambdaServiceErrors],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 6,
    jitterStrategy: sfn.JitterType.FULL,
  });
  return task;
}

/**
 * Retries a failed SNS publish (throttling, service errors): 5 s, then doubling with full jitter,
 * six attempts, about five minutes in all.
 */
function addPublishRetry(task: tasks.LambdaInvoke): void {
  task.addRetry({
    errors: [publishFailedError],
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 6,
    jitterStrategy: sfn.JitterType.FULL,
  });
}

const nextStepIs = (step: NextStep) => sfn.Condition.stringEquals('$.check.next', step);
const outcomeIs = (outcome: Outcome) => sfn.Condition.stringEquals('$.outcome.outcome', outcome);

function buildDefinition(
  scope: Construct,
  functions: Record<MonitorFunctionName, lambda.IFunction>,
): sfn.IChainable {
  const monitorFailed = new sfn.Fail(scope, StateName.monitorFailed, {
    error: reportedFailureErrors.monitorFailed,
    cause: 'the monitor failed; the monitor_error notification has the details',
  });
  const publishMonitorFailure = invokeTask(scope, StateName.publishMonitorFailure, functions.publishOutcome, {
    parameters: {
      failure: true,
      state: sfn.JsonPath.entirePayload,
      executionInput: sfn.JsonPath.executionInput,
      executionName: sfn.JsonPath.executionName,
      execution: sfn.JsonPath.executionName,
      executionArn: sfn.JsonPath.executionId,
    },
    resultPath: '$.outcome',
  });
  // No Catch here: when even this publish fails, the execution fails with that error, which the
  // failed-execution guard reports because it is not one of `reportedFailureErrors`.
  addPublishRetry(publishMonitorFailure);
  publishMonitorFailure.next(monitorFailed);

  const catchIntoFailure = { errors: [sfn.Errors.ALL], resultPath: caughtErrorPath };

  const validateInput = invokeTask(scope, StateName.validateInput, functions.validateInput, {
    parameters: {
      input: sfn.JsonPath.entirePayload,
      executionName: sfn.JsonPath.executionName,
      executionStartTime: sfn.JsonPath.executionStartTime,
    },
    // No ResultPath, so the default "$" replaces the state with the handler's output. The local
    // engine (aws-local-stepfunctions 3.0.0) stores an explicit "$" under a key named "$" instead.
  });
  validateInput.addCatch(publishMonitorFailure, catchIntoFailure);

  const checkJobStatus = invokeTask(scope, StateName.checkJobStatus, functions.checkStatus, {
    parameters: {
      job: sfn.JsonPath.objectAt('$.job'),
      previous: sfn.JsonPath.objectAt('$.check'),
      execution: sfn.JsonPath.executionName,
      executionArn: sfn.JsonPath.executionId,
    },
    resultPath: '$.check',
  });
  checkJobStatus.addCatch(publishMonitorFailure, catchIntoFailure);

  const nextCheckWait = sfn.WaitTime.secondsPath('$.check.nextCheckSeconds');
  const waitForNextCheck = new sfn.Wait(scope, StateName.waitForNextCheck, { time: nextCheckWait });
  const waitForLogLinks = new sfn.Wait(scope, StateName.waitForLogLinks, { time: nextCheckWait });
  waitForNextCheck.next(checkJobStatus);
  waitForLogLinks.next(checkJobStatus);

  const planArchive = invokeTask(scope, StateName.planArchive, functions.planArchive, {
    parameters: { job: sfn.JsonPath.objectAt('$.job'), check: sfn.JsonPath.objectAt('$.check') },
    resultPath: '$.plan',
  });
  planArchive.addCatch(publishMonitorFailure, catchIntoFailure);

  const archiveArtifacts = new sfn.Map(scope, StateName.archiveArtifacts, {
    itemsPath: '$.plan.batches',
    itemSelector: {
      job: sfn.JsonPath.objectAt('$.job'),
      batch: sfn.JsonPath.stringAt('$$.Map.Item.Value'),
    },
    maxConcurrency: maxConcurrentBatches,
    // One result per batch would grow the state with the job (200 batches for 5,000 files), so
    // the results are dropped and `Publish outcome` counts from the manifest parts in S3.
    // NOTE: the Map still gathers one count object (about 100 bytes) per batch before dropping
    // them. If Step Functions applies its 256 KiB limit to that array, a job is capped near
    // 2,500 batches (62,500 files).
    resultPath: sfn.JsonPath.DISCARD,
  });
  archiveArtifacts.itemProcessor(
    invokeTask(scope, StateName.archiveBatch, functions.archiveArtifacts, {
      // Counts only: the failures (up to 20 per batch) are in the batch's manifest part.
      resultSelector: {
        batch: sfn.JsonPath.numberAt('$.batch'),
        filesArchived: sfn.JsonPath.numberAt('$.filesArchived'),
        filesSkipped: sfn.JsonPath.numberAt('$.filesSkipped'),
        bytesArchived: sfn.JsonPath.numberAt('$.bytesArchived'),
        filesFailed: sfn.JsonPath.numberAt('$.filesFailed'),
      },
    }),
  );
  archiveArtifacts.addCatch(publishMonitorFailure, catchIntoFailure);

  const publishOutcome = invokeTask(scope, StateName.publishOutcome, functions.publishOutcome, {
    parameters: {
      job: sfn.JsonPath.objectAt('$.job'),
      check: sfn.JsonPath.objectAt('$.check'),
      plan: sfn.JsonPath.objectAt('$.plan'),
      archive: sfn.JsonPath.objectAt('$.archive'),
      execution: sfn.JsonPath.executionName,
      executionArn: sfn.JsonPath.executionId,
    },
    resultPath: '$.outcome',
  });
  addPublishRetry(publishOutcome);
  publishOutcome.addCatch(publishMonitorFailure, catchIntoFailure);

  const continueInNewExecution = new sfn.CustomState(scope, StateName.continueInNewExecution, {
    stateJson: {
      Type: 'Task',
      Resource: `arn:${Aws.PARTITION}:states:::states:startExecution`,
      // Check job status computed the name and input, so no intrinsic function is needed. The
      // name is deterministic per job and generation, and Step Functions treats a repeated
      // StartExecution with the same name and input as the same execution, so a retry is safe.
      Parameters: {
        'StateMachineArn.$': '$$.StateMachine.Id',
        'Name.$': '$.check.continuation.name',
        'Input.$': '$.check.continuation.input',
      },
      ResultSelector: { 'executionArn.$': '$.ExecutionArn', 'startDate.$': '$.StartDate' },
      ResultPath: '$.handover',
    },
  });
  continueInNewExecution.addRetry({
    errors: [sfn.Errors.TASKS_FAILED],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 4,
    jitterStrategy: sfn.JitterType.FULL,
  });
  continueInNewExecution.addCatch(publishMonitorFailure, catchIntoFailure);
  continueInNewExecution.next(new sfn.Succeed(scope, StateName.handedOver));

  // The job's own end states are Succeed because the monitor did its work. Only a monitor
  // that gave up or failed ends as Fail.
  const whichOutcome = new sfn.Choice(scope, StateName.whichOutcome)
    .when(outcomeIs('succeeded'), new sfn.Succeed(scope, StateName.jobSucceeded))
    .when(outcomeIs('failed'), new sfn.Succeed(scope, StateName.jobFailed))
    .when(outcomeIs('dismissed'), new sfn.Succeed(scope, StateName.jobDismissed))
    .when(outcomeIs('timed_out'), new sfn.Succeed(scope, StateName.jobTimedOut))
    .otherwise(
      new sfn.Fail(scope, StateName.monitorGaveUp, {
        error: reportedFailureErrors.monitorGaveUp,
        cause: 'monitoring gave up; the outcome notification says why',
      }),
    );

  const jobFinished = new sfn.Choice(scope, StateName.jobFinished)
    .when(nextStepIs('archive'), planArchive)
    .when(nextStepIs('wait_for_logs'), waitForLogLinks)
    .when(nextStepIs('give_up'), publishOutcome)
    .when(nextStepIs('continue'), continueInNewExecution)
    .otherwise(waitForNextCheck);

  planArchive.next(archiveArtifacts);
  archiveArtifacts.next(publishOutcome);
  publishOutcome.next(whichOutcome);

  return validateInput.next(checkJobStatus).next(jobFinished);
}
