import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { executionName } from '../../lambdas/core/execution-name';
import { executionArnOf } from '../../lib/cli/monitor-executions';
import { runCli } from './support/cli';

const sfnMock = mockClient(SFNClient);

afterEach(() => {
  sfnMock.reset();
});

const stateMachineArn = 'arn:aws:states:eu-west-2:123456789012:stateMachine:EodhJobMonitor';
const arn = (name: string) => executionArnOf(stateMachineArn, name);
const flags = ['--state-machine-arn', stateMachineArn];
const jobA = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';
const jobB = '536f331b-530a-42f9-8e9c-9de3f9cea75a';
const jobC = '9b0c6d1e-2f3a-4b5c-8d7e-6f5a4b3c2d1e';

function execution(name: string, status: string, start: string) {
  return {
    executionArn: arn(name),
    stateMachineArn,
    name,
    status: status as 'RUNNING',
    startDate: new Date(start),
  };
}

/** Newest first, as ListExecutions returns them. */
const executions = [
  execution(`${jobA}--g1`, 'RUNNING', '2026-11-30T08:00:00Z'),
  execution(jobB, 'SUCCEEDED', '2026-11-29T10:00:00Z'),
  execution(jobC, 'FAILED', '2026-11-28T10:00:00Z'),
  execution(jobA, 'SUCCEEDED', '2026-11-25T08:00:00Z'),
];

describe('eodh-monitor list', () => {
  it('prints one row per job with its newest execution', async () => {
    sfnMock.on(ListExecutionsCommand).resolves({ executions });

    const result = await runCli(['list', ...flags]);

    expect(result.code).toBe(0);
    expect(sfnMock).toHaveReceivedCommandWith(ListExecutionsCommand, { stateMachineArn, maxResults: 1000 });
    expect(result.stdout.split('\n')).toEqual([
      'JOB                                   STATUS     STARTED                  GENERATION',
      `${jobA}  RUNNING    2026-11-30 08:00:00 UTC  1`,
      `${jobB}  SUCCEEDED  2026-11-29 10:00:00 UTC  0`,
      `${jobC}  FAILED     2026-11-28 10:00:00 UTC  0`,
      '',
    ]);
    expect(sfnMock).not.toHaveReceivedCommand(DescribeExecutionCommand);
  });

  it('asks Step Functions for running executions only', async () => {
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [executions[0] as (typeof executions)[0]] });

    const result = await runCli(['list', ...flags, '--status', 'running']);

    expect(result.code).toBe(0);
    expect(sfnMock).toHaveReceivedCommandWith(ListExecutionsCommand, { statusFilter: 'RUNNING' });
    expect(result.stdout).toContain(`${jobA}  RUNNING`);
  });

  it('compares other statuses with the newest execution of each job', async () => {
    sfnMock.on(ListExecutionsCommand).resolves({ executions });

    const result = await runCli(['list', ...flags, '--status', 'SUCCEEDED', '--json']);

    expect(result.code).toBe(0);
    const call = sfnMock.commandCalls(ListExecutionsCommand)[0];
    expect(call?.args[0].input.statusFilter).toBeUndefined();
    expect(JSON.parse(result.stdout)).toEqual([
      {
        jobId: jobB,
        status: 'SUCCEEDED',
        started: '2026-11-29T10:00:00.000Z',
        generation: 0,
        execution: jobB,
        executionArn: arn(jobB),
      },
    ]);
  });

  it('prints JSON with every job', async () => {
    sfnMock.on(ListExecutionsCommand).resolves({ executions });

    const result = await runCli(['list', ...flags, '--json']);

    const rows = JSON.parse(result.stdout) as { jobId: string; generation: number; status: string }[];
    expect(rows.map((row) => [row.jobId, row.status, row.generation])).toEqual([
      [jobA, 'RUNNING', 1],
      [jobB, 'SUCCEEDED', 0],
      [jobC, 'FAILED', 0],
    ]);
  });

  it('stops paging at the limit', async () => {
    sfnMock
      .on(ListExecutionsCommand)
      .resolvesOnce({ executions: executions.slice(0, 2), nextToken: 'page-2' })
      .resolves({ executions: executions.slice(2) });

    const result = await runCli(['list', ...flags, '--limit', '2', '--json']);

    expect(result.code).toBe(0);
    expect(sfnMock).toHaveReceivedCommandTimes(ListExecutionsCommand, 1);
    expect((JSON.parse(result.stdout) as unknown[]).length).toBe(2);
  });

  it('pages until the end', async () => {
    sfnMock
      .on(ListExecutionsCommand)
      .resolvesOnce({ executions: executions.slice(0, 2), nextToken: 'page-2' })
      .resolves({ executions: executions.slice(2) });

    const result = await runCli(['list', ...flags, '--json']);

    expect(sfnMock).toHaveReceivedCommandTimes(ListExecutionsCommand, 2);
    expect(sfnMock).toHaveReceivedNthCommandWith(ListExecutionsCommand, 2, { nextToken: 'page-2' });
    expect((JSON.parse(result.stdout) as unknown[]).length).toBe(3);
  });

  it('reads the job ID of a hashed name from the input', async () => {
    const longId = `job-${'c'.repeat(100)}`;
    const name = executionName(longId, 2);
    sfnMock.on(ListExecutionsCommand).resolves({
      executions: [
        execution(name, 'RUNNING', '2026-11-30T08:00:00Z'),
        execution(executionName(longId, 0), 'SUCCEEDED', '2026-11-20T08:00:00Z'),
      ],
    });
    sfnMock.on(DescribeExecutionCommand, { executionArn: arn(name) }).resolves({
      ...execution(name, 'RUNNING', '2026-11-30T08:00:00Z'),
      input: JSON.stringify({ jobId: longId }),
    });

    const result = await runCli(['list', ...flags, '--json']);

    expect(sfnMock).toHaveReceivedCommandTimes(DescribeExecutionCommand, 1);
    expect(sfnMock).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: arn(name) });
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({ jobId: longId, generation: 2, execution: name }),
    ]);
  });

  it('says so when nothing matches', async () => {
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });

    const result = await runCli(['list', ...flags, '--status', 'aborted']);

    expect(result.code).toBe(0);
    expect(result.stdout).toBe('no monitors with status aborted\n');
  });

  it.each([
    [['list', ...flags, '--status', 'done'], 'invalid --status "done": expected one of running, succeeded'],
    [['list', ...flags, '--limit', '0'], '--limit takes a whole number of at least 1'],
    [['list', ...flags, '--limit', '2.5'], '--limit takes a whole number of at least 1'],
  ])('rejects %j before any request', async (args, expected) => {
    const result = await runCli(args);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(expected);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});
