import type { CfnResource } from 'aws-cdk-lib';
import {
  ExecutionError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { definitionFromTemplate, placeholderLambdaArn } from '../../lib/definition';
import { StateName } from '../../lib/state-names';
import { synthMonitorStack } from './synth';

type TaskHandler = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>[string];
/** A JSON value as the local engine passes it to task handlers. */
type JSONValue = Parameters<TaskHandler>[0];

const { stack, template } = synthMonitorStack();
const extracted = definitionFromTemplate(template.toJSON());

function logicalIdOf(construct: IConstruct): string {
  return stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnResource)) as string;
}

/** Builds a template with one state machine whose DefinitionString is `definitionString`. */
function templateWith(definitionString: unknown, extraResources: Record<string, unknown> = {}) {
  return {
    Resources: {
      Monitor1234: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: { DefinitionString: definitionString },
      },
      ...extraResources,
    },
  };
}

describe('definitionFromTemplate on the monitor stack', () => {
  it('returns the parsed definition', () => {
    expect(extracted.definition.StartAt).toBe(StateName.validateInput);
    expect(extracted.definition.States[StateName.checkJobStatus]?.Type).toBe('Task');
  });

  it('maps each Task state to its function', () => {
    const functions = stack.functions;
    expect(extracted.functionLogicalIds).toEqual({
      [StateName.validateInput]: logicalIdOf(functions.validateInput),
      [StateName.checkJobStatus]: logicalIdOf(functions.checkStatus),
      [StateName.planArchive]: logicalIdOf(functions.planArchive),
      [StateName.archiveBatch]: logicalIdOf(functions.archiveArtifacts),
      [StateName.publishOutcome]: logicalIdOf(functions.publishOutcome),
      [StateName.publishMonitorFailure]: logicalIdOf(functions.publishOutcome),
    });
  });

  it('replaces function ARNs with placeholder ARNs', () => {
    const checkStatusId = logicalIdOf(stack.functions.checkStatus);
    expect(extracted.definition.States[StateName.checkJobStatus]?.Resource).toBe(
      `arn:aws:lambda:us-east-1:123456789012:function:${checkStatusId}`,
    );
    expect(placeholderLambdaArn(checkStatusId)).toBe(
      `arn:aws:lambda:us-east-1:123456789012:function:${checkStatusId}`,
    );
  });
});

describe('definitionFromTemplate tokens', () => {
  it('accepts a plain string definition', () => {
    const definition = { StartAt: 'Done', States: { Done: { Type: 'Succeed' } } };
    const result = definitionFromTemplate(templateWith(JSON.stringify(definition)));
    expect(result.definition).toEqual(definition);
    expect(result.functionLogicalIds).toEqual({});
  });

  it('replaces other tokens with placeholders', () => {
    const result = definitionFromTemplate(
      templateWith(
        {
          'Fn::Join': [
            '',
            [
              '{"StartAt":"Put","States":{"Put":{"Type":"Task","Resource":"arn:',
              { Ref: 'AWS::Partition' },
              ':states:::sns:publish","Parameters":{"TopicArn":"',
              { Ref: 'Topic1' },
              '","Message":"',
              { 'Fn::GetAtt': ['Bucket1', 'Arn'] },
              '","Region":"',
              { Ref: 'AWS::Region' },
              '","Account":"',
              { Ref: 'AWS::AccountId' },
              '"},"End":true}}}',
            ],
          ],
        },
        { Topic1: { Type: 'AWS::SNS::Topic' }, Bucket1: { Type: 'AWS::S3::Bucket' } },
      ),
    );
    const put = result.definition.States.Put;
    expect(put?.Resource).toBe('arn:aws:states:::sns:publish');
    expect(put?.Parameters).toEqual({
      TopicArn: 'placeholder:Topic1',
      Message: 'placeholder:Bucket1.Arn',
      Region: 'us-east-1',
      Account: '123456789012',
    });
    expect(result.functionLogicalIds).toEqual({});
  });

  it('maps functions named in lambda:invoke Parameters and Parallel branches', () => {
    const result = definitionFromTemplate(
      templateWith(
        {
          'Fn::Join': [
            '',
            [
              '{"StartAt":"Both","States":{"Both":{"Type":"Parallel","End":true,"Branches":[',
              '{"StartAt":"Call","States":{"Call":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",',
              '"Parameters":{"FunctionName":"',
              { 'Fn::GetAtt': ['Worker1', 'Arn'] },
              '"},"End":true}}}]}}}',
            ],
          ],
        },
        { Worker1: { Type: 'AWS::Lambda::Function' } },
      ),
    );
    expect(result.functionLogicalIds).toEqual({ Call: 'Worker1' });
  });
});

describe('definitionFromTemplate errors', () => {
  it('rejects a template without resources', () => {
    expect(() => definitionFromTemplate({})).toThrow(
      'Invalid CloudFormation template: it has no Resources section.',
    );
  });

  it('rejects a template without a state machine', () => {
    expect(() => definitionFromTemplate({ Resources: { Topic1: { Type: 'AWS::SNS::Topic' } } })).toThrow(
      'No AWS::StepFunctions::StateMachine resource found in the template.',
    );
  });

  it('requires a prefix when there are several state machines', () => {
    const template = {
      Resources: {
        MonitorA1: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { DefinitionString: '{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}' },
        },
        PollerB2: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { DefinitionString: '{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}' },
        },
      },
    };
    expect(() => definitionFromTemplate(template)).toThrow(
      'The template has several state machines (MonitorA1, PollerB2). Pass a logical ID prefix to choose one.',
    );
    expect(definitionFromTemplate(template, 'Poller').definition.StartAt).toBe('B');
  });

  it('names the prefix that matched nothing', () => {
    expect(() => definitionFromTemplate(template.toJSON(), 'Missing')).toThrow(
      'No AWS::StepFunctions::StateMachine resource with a logical ID starting with "Missing" found in the template.',
    );
  });

  it('rejects unsupported tokens', () => {
    expect(() =>
      definitionFromTemplate(templateWith({ 'Fn::Join': ['', [{ 'Fn::ImportValue': 'SharedTopicArn' }]] })),
    ).toThrow('Unsupported token in DefinitionString: {"Fn::ImportValue":"SharedTopicArn"}.');
    expect(() => definitionFromTemplate(templateWith({ 'Fn::Sub': 'x' }))).toThrow(
      'Unsupported DefinitionString form',
    );
  });

  it('rejects a definition that is not JSON', () => {
    expect(() => definitionFromTemplate(templateWith('{"StartAt":'))).toThrow(
      'The definition of Monitor1234 is not valid JSON after resolving its tokens.',
    );
  });
});

describe('monitor definition on the local engine', () => {
  const stateMachine = new StateMachine(extracted.definition as unknown as StateMachineDefinition);
  const noWait = { [StateName.waitForNextCheck]: 0, [StateName.waitForLogLinks]: 0 };
  const job = { jobId: 'job-1', workspace: 'demo-ws' };
  // The engine fills in Execution.Input and Execution.StartTime but not Execution.Name or
  // Execution.Id, which the task parameters read.
  const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:Monitor:job-1';
  const context = { Execution: { Name: 'job-1', Id: executionArn } };
  const identity = { execution: 'job-1', executionArn };

  it('runs a job from validation to Job succeeded', async () => {
    const calls: { state: string; input: JSONValue }[] = [];
    const record = (state: string, output: (input: JSONValue) => JSONValue) => (input: JSONValue) => {
      calls.push({ state, input });
      return output(input);
    };
    let checks = 0;
    const execution = stateMachine.run(
      { jobId: 'job-1', workspace: 'demo-ws' },
      {
        context,
        overrides: {
          waitTimeOverrides: noWait,
          taskResourceLocalHandlers: {
            [StateName.validateInput]: record(StateName.validateInput, () => ({
              job,
              check: null,
              plan: null,
              archive: null,
            })),
            [StateName.checkJobStatus]: record(StateName.checkJobStatus, () => {
              checks += 1;
              return { next: checks < 2 ? 'wait' : 'archive', nextCheckSeconds: 1, checks };
            }),
            [StateName.planArchive]: record(StateName.planArchive, () => ({ batches: [0, 1] })),
            [StateName.archiveBatch]: record(StateName.archiveBatch, (input) => ({
              batch: (input as { batch: number }).batch,
              filesArchived: 1,
              filesSkipped: 0,
              bytesArchived: 10,
              filesFailed: 1,
              failures: [{ key: 'results/a.tif', url: 'https://example.org/a.tif', reason: 'HTTP 404' }],
            })),
            [StateName.publishOutcome]: record(StateName.publishOutcome, () => ({ outcome: 'succeeded' })),
          },
        },
      },
    );
    const output = (await execution.result) as Record<string, unknown>;

    expect(output.outcome).toEqual({ outcome: 'succeeded' });
    expect(calls.map((call) => call.state)).toEqual([
      StateName.validateInput,
      StateName.checkJobStatus,
      StateName.checkJobStatus,
      StateName.planArchive,
      StateName.archiveBatch,
      StateName.archiveBatch,
      StateName.publishOutcome,
    ]);
    expect(calls[0]?.input).toEqual(
      expect.objectContaining({ input: { jobId: 'job-1', workspace: 'demo-ws' }, executionName: 'job-1' }),
    );
    expect(calls[1]?.input).toEqual({ job, previous: null, ...identity });
    expect(calls[2]?.input).toEqual({
      job,
      previous: { next: 'wait', nextCheckSeconds: 1, checks: 1 },
      ...identity,
    });
    expect(calls[3]?.input).toEqual({ job, check: { next: 'archive', nextCheckSeconds: 1, checks: 2 } });
    expect(calls.slice(4, 6).map((call) => call.input)).toEqual([
      { job, batch: 0 },
      { job, batch: 1 },
    ]);
    expect(calls[6]?.input).toEqual({
      job,
      check: { next: 'archive', nextCheckSeconds: 1, checks: 2 },
      plan: { batches: [0, 1] },
      // Batch results are dropped so the state does not grow with the job's files.
      archive: null,
      ...identity,
    });
  });

  it('publishes a monitor failure when a task throws', async () => {
    let failureInput: JSONValue | undefined;
    const execution = stateMachine.run(
      { jobId: 'job-1', workspace: 'demo-ws' },
      {
        context,
        overrides: {
          waitTimeOverrides: noWait,
          taskResourceLocalHandlers: {
            [StateName.validateInput]: () => ({ job, check: null, plan: null, archive: null }),
            [StateName.checkJobStatus]: () => {
              const error = new Error('status check broke');
              error.name = 'StatusCheckError';
              throw error;
            },
            [StateName.publishMonitorFailure]: (input) => {
              failureInput = input;
              return { outcome: 'monitor_error' };
            },
          },
        },
      },
    );
    await expect(execution.result).rejects.toBeInstanceOf(ExecutionError);
    await expect(execution.result).rejects.toThrow(
      'the monitor failed; the monitor_error notification has the details',
    );
    expect(failureInput).toEqual({
      failure: true,
      state: {
        job,
        check: null,
        plan: null,
        archive: null,
        error: { Error: 'StatusCheckError', Cause: 'status check broke' },
      },
      executionInput: { jobId: 'job-1', workspace: 'demo-ws' },
      executionName: 'job-1',
      ...identity,
    });
  });
});
