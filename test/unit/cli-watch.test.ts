import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult, OutcomeSummary } from '../../lambdas/core/state';
import { executionArnOf } from '../../lib/cli/monitor-executions';
import { StateName } from '../../lib/state-names';
import { runCli } from './support/cli';

const sfnMock = mockClient(SFNClient);

afterEach(() => {
  sfnMock.reset();
});

const stateMachineArn = 'arn:aws:states:eu-west-2:123456789012:stateMachine:EodhJobMonitor';
const jobId = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';
const continuation = `${jobId}--g1`;
const arn = (name: string) => executionArnOf(stateMachineArn, name);
const flags = ['--state-machine-arn', stateMachineArn];
const archiveUri = `s3://eodhjobmonitor-archive-1x2y3z/eodh-jobs/demo-ws/${jobId}/`;

const job = {
  jobId,
  workspace: 'demo-ws',
  statusUrl: `https://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/${jobId}`,
  monitorStartedAt: '2026-11-30T08:00:00.000Z',
  generation: 0,
};

function check(fields: Partial<CheckResult>): CheckResult {
  return {
    status: 'running',
    rawStatus: 'running',
    progress: null,
    message: null,
    processId: 'ndvi-calc',
    created: '2026-11-30T07:59:58Z',
    started: '2026-11-30T08:00:00Z',
    finished: null,
    updated: null,
    resultsUrl: null,
    logUrls: 0,
    checks: 1,
    consecutiveTransientErrors: 0,
    consecutiveAuthErrors: 0,
    lastError: null,
    lastCheckedAt: '2026-11-30T08:00:15Z',
    terminalSeenAt: null,
    next: 'wait',
    giveUpReason: null,
    nextCheckSeconds: 30,
    ...fields,
  };
}

function outcome(fields: Partial<OutcomeSummary>): OutcomeSummary {
  return {
    outcome: 'succeeded',
    subject: `[EODH] ndvi-calc succeeded (demo-ws, 3f9c2e1a)`,
    archiveUri,
    filesArchived: 3,
    bytesArchived: 48_213_775,
    filesFailed: 0,
    messageId: 'b1946ac9-2d5a-5c8f-9d61-3e2f4a1c8b7d',
    ...fields,
  };
}

const timestamp = new Date('2026-11-30T08:00:00Z');

function stateExited(id: number, name: string, output: Record<string, unknown>): HistoryEvent {
  return {
    id,
    previousEventId: id - 1,
    timestamp,
    type: 'TaskStateExited',
    stateExitedEventDetails: { name, output: JSON.stringify({ job, ...output }) },
  };
}

function event(id: number, type: HistoryEvent['type'], details: Partial<HistoryEvent> = {}): HistoryEvent {
  return { id, previousEventId: id - 1, timestamp, type, ...details };
}

/** A history page newest first, as GetExecutionHistory returns it with reverseOrder. */
function page(events: HistoryEvent[], nextToken?: string) {
  return { events: [...events].reverse(), ...(nextToken === undefined ? {} : { nextToken }) };
}

function execution(name: string, status: string) {
  return {
    executionArn: arn(name),
    stateMachineArn,
    name,
    status: status as 'RUNNING',
    startDate: new Date(name === jobId ? '2026-11-30T08:00:00Z' : '2026-12-05T08:00:00Z'),
  };
}

const started = [
  event(1, 'ExecutionStarted'),
  event(2, 'TaskStateEntered'),
  stateExited(3, StateName.validateInput, {}),
  event(4, 'TaskStateEntered'),
  stateExited(5, StateName.checkJobStatus, {
    check: check({ progress: 20, message: 'upload required files' }),
  }),
];
const delivering = [
  event(6, 'WaitStateEntered'),
  event(7, 'WaitStateExited'),
  stateExited(8, StateName.checkJobStatus, {
    check: check({ progress: 90, message: 'delivering outputs, logs and usage report', checks: 2 }),
  }),
];
const finished = [
  event(9, 'WaitStateEntered'),
  stateExited(10, StateName.checkJobStatus, {
    check: check({
      status: 'successful',
      rawStatus: 'successful',
      message: 'ZOO-Kernel successfully run your service!',
      next: 'archive',
      checks: 3,
    }),
  }),
  stateExited(12, StateName.planArchive, { plan: { archiveUri, batches: [0], files: 3 } }),
  stateExited(14, StateName.publishOutcome, { outcome: outcome({}) }),
  event(15, 'SucceedStateEntered'),
  event(16, 'ExecutionSucceeded'),
];

describe('eodh-monitor watch', () => {
  it('follows one execution to its outcome', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce(execution(jobId, 'RUNNING'))
      .resolvesOnce(execution(jobId, 'RUNNING'))
      .resolvesOnce(execution(jobId, 'RUNNING'))
      .resolves(execution(jobId, 'SUCCEEDED'));
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [execution(jobId, 'RUNNING')] });
    sfnMock
      .on(GetExecutionHistoryCommand)
      .resolvesOnce(page(started))
      .resolvesOnce(page([...started, ...delivering]))
      .resolves(page([...started, ...delivering, ...finished]));

    const result = await runCli(['watch', jobId, ...flags, '--poll-interval', '2']);

    expect(result.code).toBe(0);
    expect(result.sleeps).toEqual([2000, 2000]);
    expect(sfnMock).toHaveReceivedCommandWith(GetExecutionHistoryCommand, {
      executionArn: arn(jobId),
      reverseOrder: true,
      maxResults: 1000,
    });
    expect(result.stderr.split('\n')).toEqual([
      `watching job ${jobId}: execution ${jobId} (generation 0)`,
      '[00:00] running 20% upload required files',
      '[00:02] running 90% delivering outputs, logs and usage report',
      '[00:04] successful ZOO-Kernel successfully run your service!',
      '[00:04] archiving 3 file(s) in 1 batch(es)',
      '',
    ]);
    expect(result.stdout).toBe(
      [
        'outcome: succeeded',
        `archive: ${archiveUri} (3 files, 48.2 MB)`,
        `execution: ${arn(jobId)} (generation 0)`,
        '',
      ].join('\n'),
    );
  });

  it('reads only back to the latest check at first', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(execution(jobId, 'SUCCEEDED'));
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [execution(jobId, 'SUCCEEDED')] });
    sfnMock.on(GetExecutionHistoryCommand).resolves(page(finished, 'older-events'));

    const result = await runCli(['watch', jobId, ...flags]);

    expect(result.code).toBe(0);
    expect(sfnMock).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 1);
    expect(result.stderr).not.toContain('delivering');
  });

  it('follows the continuation into the next generation', async () => {
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: arn(jobId) })
      .resolvesOnce(execution(jobId, 'RUNNING'))
      .resolves(execution(jobId, 'SUCCEEDED'));
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: arn(continuation) })
      .resolves(execution(continuation, 'SUCCEEDED'));
    sfnMock
      .on(ListExecutionsCommand)
      .resolvesOnce({ executions: [execution(jobId, 'RUNNING')] })
      .resolves({ executions: [execution(continuation, 'RUNNING'), execution(jobId, 'SUCCEEDED')] });
    sfnMock
      .on(GetExecutionHistoryCommand, { executionArn: arn(jobId) })
      .resolves(
        page([
          ...started,
          stateExited(6, 'Continue in new execution', {}),
          event(7, 'SucceedStateEntered'),
          event(8, 'ExecutionSucceeded'),
        ]),
      );
    sfnMock.on(GetExecutionHistoryCommand, { executionArn: arn(continuation) }).resolves(
      page([
        event(1, 'ExecutionStarted'),
        stateExited(3, StateName.checkJobStatus, {
          check: check({
            status: 'failed',
            rawStatus: 'failed',
            message: 'Exception during execution',
            next: 'archive',
          }),
        }),
        stateExited(5, StateName.publishOutcome, {
          outcome: outcome({ outcome: 'failed', filesArchived: 1, bytesArchived: 319, filesFailed: 1 }),
        }),
        event(6, 'ExecutionSucceeded'),
      ]),
    );

    const result = await runCli(['watch', jobId, ...flags]);

    expect(result.code).toBe(1);
    expect(result.sleeps).toEqual([]);
    expect(sfnMock).toHaveReceivedCommandWith(GetExecutionHistoryCommand, {
      executionArn: arn(continuation),
    });
    expect(result.stderr).toContain(`continued in execution ${continuation} (generation 1)\n`);
    expect(result.stderr).toContain('failed Exception during execution');
    expect(result.stdout).toBe(
      [
        'outcome: failed',
        `archive: ${archiveUri} (1 files, 319 B, 1 failed)`,
        `execution: ${arn(continuation)} (generation 1)`,
        '',
      ].join('\n'),
    );
  });

  it('starts at the newest generation', async () => {
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: arn(jobId) })
      .resolves(execution(jobId, 'SUCCEEDED'));
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: arn(continuation) })
      .resolves(execution(continuation, 'SUCCEEDED'));
    sfnMock
      .on(ListExecutionsCommand)
      .resolves({ executions: [execution(continuation, 'SUCCEEDED'), execution(jobId, 'SUCCEEDED')] });
    sfnMock.on(GetExecutionHistoryCommand).resolves(page(finished));

    const result = await runCli(['watch', jobId, ...flags]);

    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`watching job ${jobId}: execution ${continuation} (generation 1)\n`);
    expect(sfnMock).not.toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: arn(jobId) });
  });

  it('exits 1 on a monitor error outcome', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ ...execution(jobId, 'FAILED'), error: 'MonitorFailed' });
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [execution(jobId, 'FAILED')] });
    sfnMock.on(GetExecutionHistoryCommand).resolves(
      page([
        ...started,
        stateExited(6, StateName.publishMonitorFailure, {
          outcome: outcome({
            outcome: 'monitor_error',
            archiveUri: null,
            filesArchived: 0,
            bytesArchived: 0,
          }),
        }),
        event(7, 'ExecutionFailed', {
          executionFailedEventDetails: { error: 'MonitorFailed', cause: 'the monitor failed' },
        }),
      ]),
    );

    const result = await runCli(['watch', jobId, ...flags]);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('outcome: monitor_error\narchive: nothing archived (0 files, 0 B)\n');
  });

  it('reports a stopped monitor without an outcome', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(execution(jobId, 'ABORTED'));
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [execution(jobId, 'ABORTED')] });
    sfnMock.on(GetExecutionHistoryCommand).resolves(
      page([
        ...started,
        event(6, 'ExecutionAborted', {
          executionAbortedEventDetails: { error: 'StoppedByUser', cause: 'stopped with eodh-monitor stop' },
        }),
      ]),
    );

    const result = await runCli(['watch', jobId, ...flags]);

    expect(result.code).toBe(1);
    expect(result.sleeps).toEqual([]);
    expect(result.stdout).toBe(
      [
        'outcome: none published',
        `execution: ${arn(jobId)} (ABORTED, generation 0)`,
        'reason: StoppedByUser: stopped with eodh-monitor stop',
        '',
      ].join('\n'),
    );
    expect(result.stderr).toContain(`eodh-monitor start ${jobId} --workspace <ws> --force`);
  });

  it('gives up waiting for a continuation after three polls', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(execution(jobId, 'SUCCEEDED'));
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [execution(jobId, 'SUCCEEDED')] });
    sfnMock.on(GetExecutionHistoryCommand).resolves(page([...started, event(6, 'ExecutionSucceeded')]));

    const result = await runCli(['watch', jobId, ...flags]);

    expect(result.code).toBe(1);
    expect(result.sleeps).toEqual([10_000, 10_000, 10_000]);
    expect(result.stdout).toContain('outcome: none published\n');
    expect(result.stderr).toContain('the monitor ended without publishing an outcome');
  });

  it('keeps one live line on a terminal', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce(execution(jobId, 'RUNNING'))
      .resolvesOnce(execution(jobId, 'RUNNING'))
      .resolves(execution(jobId, 'SUCCEEDED'));
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [execution(jobId, 'RUNNING')] });
    sfnMock
      .on(GetExecutionHistoryCommand)
      .resolvesOnce(page(started))
      .resolves(page([...started, ...delivering, ...finished]));

    const result = await runCli(['watch', jobId, ...flags], { tty: true });

    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      '\r\x1b[2K[00:00] running 20% upload required files · next check in 30 s',
    );
    expect(result.stderr).toContain('\r\x1b[2K[00:10] archiving 3 file(s) in 1 batch(es)\n');
  });

  it('exits 2 for a job that was never monitored', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));

    const result = await runCli(['watch', jobId, ...flags]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no monitor found for job ${jobId}`);
    expect(result.stderr).toContain(`eodh-monitor start ${jobId} --workspace <ws>`);
  });

  it.each([
    [['watch', jobId, ...flags, '--poll-interval', '0.5'], '--poll-interval takes a number of at least 1'],
    [['watch', 'a b', ...flags], 'invalid <jobId> "a b"'],
  ])('rejects %j before any request', async (args, expected) => {
    const result = await runCli(args);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(expected);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});
