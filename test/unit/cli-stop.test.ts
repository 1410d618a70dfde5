import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { executionArnOf } from '../../lib/cli/monitor-executions';
import { runCli } from './support/cli';

const sfnMock = mockClient(SFNClient);

afterEach(() => {
  sfnMock.reset();
});

const stateMachineArn = 'arn:aws:states:eu-west-2:123456789012:stateMachine:EodhJobMonitor';
const jobId = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';
const arn = (name: string) => executionArnOf(stateMachineArn, name);
const flags = ['--state-machine-arn', stateMachineArn];

function execution(name: string, status: string, start: string, stop?: string) {
  return {
    executionArn: arn(name),
    stateMachineArn,
    name,
    status: status as 'RUNNING',
    startDate: new Date(start),
    ...(stop === undefined ? {} : { stopDate: new Date(stop) }),
  };
}

describe('eodh-monitor stop', () => {
  it('stops the running execution and never dismisses the job', async () => {
    const running = execution(jobId, 'RUNNING', '2026-11-30T08:00:00Z');
    sfnMock.on(DescribeExecutionCommand).resolves(running);
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [running] });
    sfnMock.on(StopExecutionCommand).resolves({ stopDate: new Date('2026-11-30T09:00:00Z') });

    const result = await runCli(['stop', jobId, ...flags]);

    expect(result.code).toBe(0);
    expect(sfnMock).toHaveReceivedCommandTimes(StopExecutionCommand, 1);
    expect(sfnMock).toHaveReceivedCommandWith(StopExecutionCommand, {
      executionArn: arn(jobId),
      error: 'StoppedByUser',
      cause: 'stopped with eodh-monitor stop; the EODH job was not dismissed',
    });
    expect(result.stdout).toContain(
      `stopped monitoring job ${jobId}: nothing more is checked or archived for it.\n`,
    );
    expect(result.stdout).toContain(`stopped execution ${arn(jobId)}\n`);
    expect(result.stdout).toContain('The EODH job itself was not dismissed');
    expect(result.stdout).toContain(`eodh-monitor start ${jobId} --workspace <ws> --force`);
  });

  it('stops both executions during a handover', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(execution(jobId, 'RUNNING', '2026-11-20T08:00:00Z'));
    sfnMock.on(ListExecutionsCommand).resolves({
      executions: [
        execution(`${jobId}--g1`, 'RUNNING', '2026-11-25T08:00:00Z'),
        execution(jobId, 'RUNNING', '2026-11-20T08:00:00Z'),
      ],
    });

    const result = await runCli(['stop', jobId, ...flags]);

    expect(result.code).toBe(0);
    expect(sfnMock).toHaveReceivedCommandTimes(StopExecutionCommand, 2);
    expect(sfnMock).toHaveReceivedCommandWith(StopExecutionCommand, { executionArn: arn(jobId) });
    expect(sfnMock).toHaveReceivedCommandWith(StopExecutionCommand, { executionArn: arn(`${jobId}--g1`) });
  });

  it('stops a continuation listed only after the first stop', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(execution(jobId, 'RUNNING', '2026-11-20T08:00:00Z'));
    sfnMock
      .on(ListExecutionsCommand)
      .resolvesOnce({ executions: [execution(jobId, 'RUNNING', '2026-11-20T08:00:00Z')] })
      .resolves({
        executions: [
          execution(`${jobId}--g1`, 'RUNNING', '2026-11-25T08:00:00Z'),
          execution(jobId, 'ABORTED', '2026-11-20T08:00:00Z', '2026-11-25T08:00:01Z'),
        ],
      });

    const result = await runCli(['stop', jobId, ...flags]);

    expect(result.code).toBe(0);
    expect(sfnMock).toHaveReceivedNthCommandWith(StopExecutionCommand, 1, { executionArn: arn(jobId) });
    expect(sfnMock).toHaveReceivedNthCommandWith(StopExecutionCommand, 2, {
      executionArn: arn(`${jobId}--g1`),
    });
    expect(result.stdout).toContain(`stopped execution ${arn(`${jobId}--g1`)}\n`);
  });

  it('stops nothing when the monitor has ended', async () => {
    const ended = execution(jobId, 'SUCCEEDED', '2026-11-20T08:00:00Z', '2026-11-20T09:30:00Z');
    sfnMock.on(DescribeExecutionCommand).resolves(ended);
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [ended] });

    const result = await runCli(['stop', jobId, ...flags]);

    expect(result.code).toBe(0);
    expect(sfnMock).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(result.stdout).toBe(
      `job ${jobId} has no running monitor: its last monitor ended SUCCEEDED at 2026-11-20 09:30:00 UTC, so nothing was stopped. ` +
        'The EODH job itself was not dismissed: it keeps running and keeps its results.\n',
    );
  });

  it('exits 2 for a job that was never monitored', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));

    const result = await runCli(['stop', jobId, ...flags]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no monitor found for job ${jobId}`);
    expect(sfnMock).not.toHaveReceivedCommand(StopExecutionCommand);
  });

  it('rejects an invalid job ID before any request', async () => {
    const result = await runCli(['stop', '../3f9c', ...flags]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid <jobId> "../3f9c"');
    expect(sfnMock.calls()).toHaveLength(0);
  });
});
