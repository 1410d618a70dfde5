import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { formatBytes } from '../../lambdas/core/notification';
import type { CheckResult, OutcomeSummary } from '../../lambdas/core/state';
import { createProgressWriter, type ProgressWriter } from '../local/progress';
import { StateName } from '../state-names';
import {
  type AwsDependencies,
  callAws,
  type DeployedMonitor,
  defaultAwsDependencies,
  findDeployedMonitor,
  type StackOptions,
} from './aws';
import { ExitCode, UsageError } from './errors';
import {
  describeExecution,
  findJobExecutions,
  type JobExecution,
  listJobExecutions,
} from './monitor-executions';
import type { CommandIo } from './run-command';
import { checkJobId } from './start-command';

/** Options of `eodh-monitor watch`, as commander parses them. */
export interface WatchCommandOptions extends StackOptions {
  /** Seconds between polls of the execution. */
  pollInterval?: number;
}

/** Time functions of `watch`, replaced in tests so no test waits in real time. */
export interface WatchDependencies {
  sleep(milliseconds: number): Promise<void>;
  now(): number;
}

export const defaultWatchDependencies: WatchDependencies = {
  sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
  now: () => Date.now(),
};

export const defaultPollIntervalSeconds = 10;

/**
 * ListExecutions is eventually consistent, so a continuation started a moment ago may not be
 * listed yet. An execution that ended without an outcome is re-listed this many polls before
 * `watch` reports that monitoring ended without one.
 */
const continuationPolls = 3;

/** GetExecutionHistory returns at most 1,000 events per page. */
const historyPageSize = 1_000;

/** Outcome and ending read so far from the history of one execution. */
interface ExecutionView {
  execution: JobExecution;
  /** Highest history event ID already shown. */
  lastEventId: number;
  outcome: OutcomeSummary | null;
  /** Error and cause of an execution that failed, timed out or was stopped. */
  ending: string | null;
}

/**
 * Follows a job's monitor across continuation generations until it publishes an outcome,
 * showing each check (status, progress, message) as the history records it. Prints the outcome
 * and archive location; exits 0 when the job succeeded and 1 otherwise.
 */
export async function watchCommand(
  jobIdArgument: string,
  options: WatchCommandOptions,
  io: CommandIo,
  deps: AwsDependencies & WatchDependencies = { ...defaultAwsDependencies, ...defaultWatchDependencies },
): Promise<number> {
  const jobId = checkJobId(jobIdArgument);
  const intervalMs = Math.round((options.pollInterval ?? defaultPollIntervalSeconds) * 1_000);
  const monitor = await findDeployedMonitor(options, io.env, deps);
  const executions = await findJobExecutions(monitor, jobId);
  const first = executions.at(-1);
  if (first === undefined) {
    throw new UsageError(
      `no monitor found for job ${jobId} on ${monitor.stateMachineArn}: start one with "eodh-monitor start ${jobId} --workspace <ws>"`,
    );
  }

  const progress = createProgressWriter(io.stderr, () => deps.now());
  let view = newView(first);
  io.stderr.write(`watching job ${jobId}: execution ${first.name} (generation ${first.generation})\n`);
  let pollsWithoutOutcome = 0;
  try {
    for (;;) {
      const described = await describeExecution(monitor, view.execution.executionArn);
      const status = described.status ?? 'RUNNING';
      await readNewEvents(monitor, view, progress);

      if (view.outcome !== null) {
        progress.finish();
        return printOutcome(io, view);
      }
      if (status !== 'RUNNING') {
        const newer = await listJobExecutions(monitor, jobId, view.execution);
        const next = newer.at(-1);
        if (next !== undefined) {
          progress.finish();
          io.stderr.write(`continued in execution ${next.name} (generation ${next.generation})\n`);
          view = newView(next);
          pollsWithoutOutcome = 0;
          continue;
        }
        pollsWithoutOutcome += 1;
        if (status !== 'SUCCEEDED' || pollsWithoutOutcome > continuationPolls) {
          progress.finish();
          return printNoOutcome(io, jobId, view, status, [described.error, described.cause]);
        }
      }
      await deps.sleep(intervalMs);
    }
  } finally {
    progress.finish();
  }
}

function newView(execution: JobExecution): ExecutionView {
  return { execution, lastEventId: 0, outcome: null, ending: null };
}

/**
 * Reads the history events added since the last poll, newest first, and applies them oldest
 * first. On the first read of an execution, paging stops at the latest status check, so a long
 * execution's earlier checks are never fetched.
 */
async function readNewEvents(monitor: DeployedMonitor, view: ExecutionView, progress: ProgressWriter) {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  let reachedKnown = false;
  do {
    const token = nextToken;
    const page = await callAws('states:GetExecutionHistory', monitor.region, () =>
      monitor.sfn.send(
        new GetExecutionHistoryCommand({
          executionArn: view.execution.executionArn,
          reverseOrder: true,
          maxResults: historyPageSize,
          nextToken: token,
        }),
      ),
    );
    for (const event of page.events ?? []) {
      if ((event.id ?? 0) <= view.lastEventId) {
        reachedKnown = true;
        break;
      }
      events.push(event);
      if (view.lastEventId === 0 && exitedState(event) === StateName.checkJobStatus) {
        reachedKnown = true;
        break;
      }
    }
    nextToken = page.nextToken;
  } while (nextToken !== undefined && !reachedKnown);

  for (const event of events.reverse()) {
    view.lastEventId = Math.max(view.lastEventId, event.id ?? 0);
    applyEvent(view, event, progress);
  }
}

function exitedState(event: HistoryEvent): string | undefined {
  return event.type === 'TaskStateExited' ? event.stateExitedEventDetails?.name : undefined;
}

function applyEvent(view: ExecutionView, event: HistoryEvent, progress: ProgressWriter): void {
  const state = exitedState(event);
  if (state !== undefined) {
    const output = parseObject(event.stateExitedEventDetails?.output);
    if (state === StateName.checkJobStatus) {
      const check = readCheck(output?.check);
      if (check !== null) progress.update({ kind: 'check', check });
    } else if (state === StateName.planArchive) {
      const plan = parseRecord(output?.plan);
      const files = typeof plan?.files === 'number' ? plan.files : 0;
      const batches = Array.isArray(plan?.batches) ? plan.batches.length : 0;
      progress.update({ kind: 'archive', files, batches });
    } else if (state === StateName.publishOutcome || state === StateName.publishMonitorFailure) {
      view.outcome = readOutcome(output?.outcome) ?? view.outcome;
    }
    return;
  }
  const ending =
    event.executionFailedEventDetails ??
    event.executionTimedOutEventDetails ??
    event.executionAbortedEventDetails;
  if (ending !== undefined) {
    view.ending = [ending.error, ending.cause].filter((part) => part !== undefined && part !== '').join(': ');
  }
}

/** Reads the `$.check` projection; anything without a status is ignored. */
function readCheck(value: unknown): CheckResult | null {
  const check = parseRecord(value);
  if (check === null || typeof check.status !== 'string') return null;
  return check as unknown as CheckResult;
}

function readOutcome(value: unknown): OutcomeSummary | null {
  const outcome = parseRecord(value);
  if (outcome === null || typeof outcome.outcome !== 'string') return null;
  return outcome as unknown as OutcomeSummary;
}

function parseObject(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined) return null;
  try {
    return parseRecord(JSON.parse(text));
  } catch {
    return null;
  }
}

function parseRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function printOutcome(io: CommandIo, view: ExecutionView): number {
  const outcome = view.outcome as OutcomeSummary;
  const files = typeof outcome.filesArchived === 'number' ? outcome.filesArchived : 0;
  const bytes = typeof outcome.bytesArchived === 'number' ? outcome.bytesArchived : 0;
  const failed =
    typeof outcome.filesFailed === 'number' && outcome.filesFailed > 0
      ? `, ${outcome.filesFailed} failed`
      : '';
  io.stdout.write(
    [
      `outcome: ${outcome.outcome}`,
      `archive: ${outcome.archiveUri ?? 'nothing archived'} (${files} files, ${formatBytes(bytes)}${failed})`,
      `execution: ${view.execution.executionArn} (generation ${view.execution.generation})`,
      '',
    ].join('\n'),
  );
  return outcome.outcome === 'succeeded' ? ExitCode.ok : ExitCode.jobNotSucceeded;
}

function printNoOutcome(
  io: CommandIo,
  jobId: string,
  view: ExecutionView,
  status: string,
  errorAndCause: (string | undefined)[],
): number {
  const described = errorAndCause.filter((part) => part !== undefined && part !== '').join(': ');
  const reason = view.ending ?? (described === '' ? null : described);
  io.stdout.write(
    [
      'outcome: none published',
      `execution: ${view.execution.executionArn} (${status}, generation ${view.execution.generation})`,
      ...(reason === null ? [] : [`reason: ${reason.split('\n', 1)[0]}`]),
      '',
    ].join('\n'),
  );
  io.stderr.write(
    status === 'ABORTED'
      ? `the monitor was stopped before it published an outcome; to monitor the job again: eodh-monitor start ${jobId} --workspace <ws> --force\n`
      : 'the monitor ended without publishing an outcome; its execution history in the Step Functions console shows why\n',
  );
  return ExitCode.jobNotSucceeded;
}
