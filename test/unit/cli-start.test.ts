import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { executionName } from '../../lambdas/core/execution-name';
import { executionArnOf, generationOf } from '../../lib/cli/monitor-executions';
import { runCli } from './support/cli';

const sfnMock = mockClient(SFNClient);

afterEach(() => {
  sfnMock.reset();
});

const stateMachineArn = 'arn:aws:states:eu-west-2:123456789012:stateMachine:EodhJobMonitor';
const jobId = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';
const arn = (name: string) => executionArnOf(stateMachineArn, name);
const flags = ['--workspace', 'demo-ws', '--state-machine-arn', stateMachineArn];

const notFound = () =>
  new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: { httpStatusCode: 400 } });

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

/** Mocks a job whose monitor has these executions, generation 0 first. */
function mockExecutions(executions: ReturnType<typeof execution>[]) {
  const [first] = executions;
  if (first === undefined) {
    sfnMock.on(DescribeExecutionCommand).rejects(notFound());
    return;
  }
  sfnMock.on(DescribeExecutionCommand, { executionArn: first.executionArn }).resolves(first);
  sfnMock.on(ListExecutionsCommand).resolves({ executions: [...executions].reverse() });
}

describe('eodh-monitor start', () => {
  it('starts a new job under its own name', async () => {
    mockExecutions([]);
    sfnMock
      .on(StartExecutionCommand)
      .resolves({ executionArn: arn(jobId), startDate: new Date('2026-11-30T09:00:01Z') });

    const result = await runCli(['start', jobId, ...flags]);

    expect(result.code).toBe(0);
    expect(sfnMock).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: arn(jobId) });
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn,
      name: jobId,
      input: JSON.stringify({ jobId, workspace: 'demo-ws' }),
    });
    expect(result.stdout).toContain(`started monitoring job ${jobId} in workspace demo-ws\n`);
    expect(result.stdout).toContain(`execution: ${arn(jobId)}\n`);
    expect(result.stdout).toContain(
      `console:   https://eu-west-2.console.aws.amazon.com/states/home?region=eu-west-2#/v2/executions/details/${arn(jobId)}\n`,
    );
    expect(result.stdout).toContain(`follow it: eodh-monitor watch ${jobId}\n`);
  });

  it('puts option flags in the input', async () => {
    mockExecutions([]);
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: arn(jobId), startDate: new Date() });

    const result = await runCli([
      'start',
      jobId,
      ...flags,
      '--poll-initial-seconds',
      '30',
      '--poll-max-seconds',
      '600',
      '--max-job-age-hours',
      '720',
      '--log-wait-seconds',
      '90',
    ]);

    expect(result.code).toBe(0);
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, {
      input: JSON.stringify({
        jobId,
        workspace: 'demo-ws',
        options: { pollInitialSeconds: 30, pollMaxSeconds: 600, maxJobAgeHours: 720, logWaitSeconds: 90 },
      }),
    });
  });

  it('names a long job ID execution with a hash', async () => {
    const longId = `job-${'a'.repeat(90)}`;
    const name = executionName(longId, 0);
    mockExecutions([]);
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: arn(name), startDate: new Date() });

    const result = await runCli(['start', longId, ...flags]);

    expect(result.code).toBe(0);
    expect(name).toHaveLength(80);
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, { name });
  });

  it('reports a running monitor and starts nothing', async () => {
    mockExecutions([execution(jobId, 'RUNNING', '2026-11-30T08:00:00Z')]);

    const result = await runCli(['start', jobId, ...flags]);

    expect(result.code).toBe(0);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(result.stdout).toContain(
      `job ${jobId} is already monitored, since 2026-11-30 08:00:00 UTC; no new monitor was started\n`,
    );
    expect(result.stdout).toContain(`execution: ${arn(jobId)}\n`);
  });

  it('reports the running continuation', async () => {
    mockExecutions([
      execution(jobId, 'SUCCEEDED', '2026-11-20T08:00:00Z', '2026-11-25T08:00:00Z'),
      execution(`${jobId}--g1`, 'RUNNING', '2026-11-25T08:00:00Z'),
    ]);

    const result = await runCli(['start', jobId, ...flags]);

    expect(result.code).toBe(0);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(result.stdout).toContain(`execution: ${arn(`${jobId}--g1`)}\n`);
  });

  it('explains --force when the monitor has ended', async () => {
    mockExecutions([execution(jobId, 'SUCCEEDED', '2026-11-20T08:00:00Z', '2026-11-20T09:30:00Z')]);

    const result = await runCli(['start', jobId, ...flags]);

    expect(result.code).toBe(2);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(result.stderr).toContain(
      `job ${jobId} was already monitored: its last monitor ended SUCCEEDED at 2026-11-20 09:30:00 UTC\n`,
    );
    expect(result.stderr).toContain(`  eodh-monitor start ${jobId} --workspace demo-ws --force\n`);
    expect(result.stdout).toBe('');
  });

  it('starts the next generation with --force', async () => {
    mockExecutions([
      execution(jobId, 'SUCCEEDED', '2026-11-20T08:00:00Z', '2026-11-25T08:00:00Z'),
      execution(`${jobId}--g1`, 'FAILED', '2026-11-25T08:00:00Z', '2026-11-26T08:00:00Z'),
    ]);
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: arn(`${jobId}--g2`), startDate: new Date() });

    const result = await runCli(['start', jobId, ...flags, '--force']);

    expect(result.code).toBe(0);
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn,
      name: `${jobId}--g2`,
      input: JSON.stringify({
        jobId,
        workspace: 'demo-ws',
        carry: { monitorStartedAt: '2026-11-20T08:00:00.000Z', generation: 2 },
      }),
    });
    expect(result.stdout).toContain(
      `started monitoring job ${jobId} in workspace demo-ws again (generation 2)\n`,
    );
  });

  it('does not restart a running monitor with --force', async () => {
    mockExecutions([execution(jobId, 'RUNNING', '2026-11-30T08:00:00Z')]);

    const result = await runCli(['start', jobId, ...flags, '--force']);

    expect(result.code).toBe(0);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('reports the winner of a start race', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .rejectsOnce(notFound())
      .resolves(execution(jobId, 'RUNNING', '2026-11-30T09:00:00Z'));
    sfnMock
      .on(ListExecutionsCommand)
      .resolves({ executions: [execution(jobId, 'RUNNING', '2026-11-30T09:00:00Z')] });
    sfnMock
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));

    const result = await runCli(['start', jobId, ...flags, '--poll-max-seconds', '600']);

    expect(result.code).toBe(0);
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(result.stdout).toContain(`job ${jobId} is already monitored`);
  });

  it.each([
    [['start', jobId, '--state-machine-arn', stateMachineArn], 'missing --workspace'],
    [['start', 'abc/../etc', ...flags], 'invalid <jobId> "abc/../etc"'],
    [
      ['start', jobId, '--workspace', 'Demo_WS', '--state-machine-arn', stateMachineArn],
      'invalid --workspace',
    ],
    [['start', jobId, ...flags, '--poll-initial-seconds', '0'], 'invalid --poll-initial-seconds 0'],
    [
      ['start', jobId, ...flags, '--max-job-age-hours', 'soon'],
      '--max-job-age-hours takes a positive number',
    ],
    [
      ['start', jobId, ...flags, '--poll-initial-seconds', '600', '--poll-max-seconds', '60'],
      '--poll-initial-seconds 600 is larger than --poll-max-seconds 60',
    ],
  ])('rejects %j before any request', async (args, expected) => {
    const result = await runCli(args);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(expected);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('job executions', () => {
  it('stops listing at generation 0', async () => {
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: arn(jobId) })
      .resolves(execution(jobId, 'SUCCEEDED', '2026-11-20T08:00:00Z', '2026-11-25T08:00:00Z'));
    sfnMock
      .on(ListExecutionsCommand)
      .resolvesOnce({
        executions: [
          execution('5d1e7a52-0c61-4a8e-b1f7-2f0d3c9a8e14', 'RUNNING', '2026-11-29T08:00:00Z'),
          execution(`${jobId}--g1`, 'RUNNING', '2026-11-25T08:00:00Z'),
        ],
        nextToken: 'page-2',
      })
      .resolvesOnce({
        executions: [
          execution(`${jobId}-rerun`, 'SUCCEEDED', '2026-11-21T08:00:00Z', '2026-11-21T09:00:00Z'),
          execution(jobId, 'SUCCEEDED', '2026-11-20T08:00:00Z', '2026-11-25T08:00:00Z'),
        ],
        nextToken: 'page-3',
      });

    const result = await runCli(['start', jobId, ...flags]);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`execution: ${arn(`${jobId}--g1`)}\n`);
    expect(sfnMock).toHaveReceivedCommandTimes(ListExecutionsCommand, 2);
    expect(sfnMock).toHaveReceivedNthCommandWith(ListExecutionsCommand, 2, {
      stateMachineArn,
      maxResults: 1000,
      nextToken: 'page-2',
    });
  });
});

describe('generationOf', () => {
  it('reads the generation of a continuation', () => {
    expect(generationOf(jobId, jobId)).toBe(0);
    expect(generationOf(jobId, `${jobId}--g12`)).toBe(12);
  });

  it('rejects names of other jobs', () => {
    expect(generationOf(jobId, `${jobId}-rerun`)).toBeNull();
    expect(generationOf(jobId, `${jobId}x--g1`)).toBeNull();
    expect(generationOf('3f9c', `${jobId}--g1`)).toBeNull();
  });

  it('matches hashed names of a long job ID', () => {
    const longId = `job.${'b'.repeat(100)}`;

    expect(generationOf(longId, executionName(longId, 0))).toBe(0);
    expect(generationOf(longId, executionName(longId, 3))).toBe(3);
  });
});
