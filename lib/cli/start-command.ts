import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { executionConsoleUrl } from '../../lambdas/core/console-links';
import { InvalidInputError } from '../../lambdas/core/errors';
import { executionName } from '../../lambdas/core/execution-name';
import { type MonitorInput, type MonitorOptions, monitorOptionsSchema } from '../../lambdas/core/state';
import { describeValue, validateJobId, validateWorkspace } from '../../lambdas/core/validation';
import {
  type AwsDependencies,
  AwsRequestError,
  callAws,
  type DeployedMonitor,
  defaultAwsDependencies,
  errorName,
  findDeployedMonitor,
  type StackOptions,
} from './aws';
import { ExitCode, UsageError } from './errors';
import { executionArnOf, findJobExecutions, formatDate, type JobExecution } from './monitor-executions';
import type { CommandIo } from './run-command';

/** Per-job option flags that `start` and `submit` put in the execution input. */
export interface JobOptionFlags {
  pollInitialSeconds?: number;
  pollMaxSeconds?: number;
  maxJobAgeHours?: number;
  logWaitSeconds?: number;
}

/** Options of `eodh-monitor start`, as commander parses them. */
export interface StartCommandOptions extends StackOptions, JobOptionFlags {
  workspace?: string;
  force?: boolean;
}

/** Result of `startMonitor`: a new execution, or the job's existing one. */
export type StartResult =
  | { kind: 'started'; execution: JobExecution }
  | { kind: 'running'; execution: JobExecution }
  | { kind: 'finished'; execution: JobExecution };

const optionFlagNames: Record<keyof JobOptionFlags, string> = {
  pollInitialSeconds: '--poll-initial-seconds',
  pollMaxSeconds: '--poll-max-seconds',
  maxJobAgeHours: '--max-job-age-hours',
  logWaitSeconds: '--log-wait-seconds',
};

/**
 * Starts the deployed state machine for one job. A job whose monitor is running is reported
 * with exit code 0. A job whose last monitor has ended is monitored again only with `--force`,
 * because that archives it again and publishes a second outcome. Without it the exit code is 2.
 */
export async function startCommand(
  jobIdArgument: string,
  options: StartCommandOptions,
  io: CommandIo,
  deps: AwsDependencies = defaultAwsDependencies,
): Promise<number> {
  const input = buildMonitorInput(jobIdArgument, options.workspace, options);
  const monitor = await findDeployedMonitor(options, io.env, deps);
  const result = await startMonitor(monitor, input, { force: options.force === true });
  return reportStart(io, input, result);
}

/** Validates the job ID, workspace and option flags into an execution input, before any request. */
export function buildMonitorInput(
  jobId: string,
  workspace: string | undefined,
  flags: JobOptionFlags,
): MonitorInput {
  checkJobId(jobId);
  const checkedWorkspace = checkWorkspace(workspace);
  const options = checkJobOptions(flags);
  return { jobId, workspace: checkedWorkspace, ...(Object.keys(options).length === 0 ? {} : { options }) };
}

/** Checks the `<jobId>` argument with the rule the state machine applies. */
export function checkJobId(jobId: string): string {
  try {
    return validateJobId(jobId, '<jobId>');
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/** Checks `--workspace`, which every command that starts a monitor needs. */
export function checkWorkspace(workspace: string | undefined): string {
  if (workspace === undefined) {
    throw new UsageError('missing --workspace: give the EODH workspace that owns the job');
  }
  try {
    return validateWorkspace(workspace, '--workspace');
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/**
 * Checks the option flags one by one against their ranges. The deployed defaults are not known
 * here, so `--poll-initial-seconds` is compared with `--poll-max-seconds` only when both are given.
 */
export function checkJobOptions(flags: JobOptionFlags): Partial<MonitorOptions> {
  const options: Partial<MonitorOptions> = {};
  for (const key of Object.keys(optionFlagNames) as (keyof JobOptionFlags)[]) {
    const value = flags[key];
    if (value === undefined) continue;
    const parsed = monitorOptionsSchema.shape[key].safeParse(value);
    if (!parsed.success) {
      throw new UsageError(
        `invalid ${optionFlagNames[key]} ${describeValue(value)}: ${parsed.error.issues[0]?.message ?? 'out of range'}`,
      );
    }
    options[key] = parsed.data;
  }
  if (
    options.pollInitialSeconds !== undefined &&
    options.pollMaxSeconds !== undefined &&
    options.pollInitialSeconds > options.pollMaxSeconds
  ) {
    throw new UsageError(
      `--poll-initial-seconds ${options.pollInitialSeconds} is larger than --poll-max-seconds ${options.pollMaxSeconds}`,
    );
  }
  return options;
}

/**
 * Starts the monitor unless the job already has one. With `force`, a job whose monitor has ended
 * gets a new execution in the next free generation, so its name never collides with an earlier
 * execution or with that execution's continuations. The `carry` makes the state machine count on
 * from that generation and keeps the time of the first start.
 */
export async function startMonitor(
  monitor: DeployedMonitor,
  input: MonitorInput,
  options: { force: boolean },
): Promise<StartResult> {
  const existing = await findJobExecutions(monitor, input.jobId);
  const latest = existing.at(-1);
  let generation = 0;
  let startInput: MonitorInput = input;
  if (latest !== undefined) {
    if (latest.status === 'RUNNING') return { kind: 'running', execution: latest };
    if (!options.force) return { kind: 'finished', execution: latest };
    generation = latest.generation + 1;
    // Step Functions returns a start date with every execution, so this only guards the types.
    const firstStart = existing[0]?.startDate ?? latest.startDate;
    if (firstStart === null) {
      throw new AwsRequestError(`execution ${latest.name} has no start date, so it cannot be continued`);
    }
    startInput = { ...input, carry: { monitorStartedAt: firstStart.toISOString(), generation } };
  }

  const name = executionName(input.jobId, generation);
  try {
    const response = await callAws(
      'states:StartExecution',
      monitor.region,
      () =>
        monitor.sfn.send(
          new StartExecutionCommand({
            stateMachineArn: monitor.stateMachineArn,
            name,
            input: JSON.stringify(startInput),
          }),
        ),
      ['ExecutionAlreadyExists'],
    );
    return {
      kind: 'started',
      execution: {
        name,
        executionArn: response.executionArn ?? executionArnOf(monitor.stateMachineArn, name),
        generation,
        status: 'RUNNING',
        startDate: response.startDate ?? null,
        stopDate: null,
      },
    };
  } catch (error) {
    if (errorName(error) !== 'ExecutionAlreadyExists') throw error;
    // Another start won the race for this name: report what it started.
    const now = (await findJobExecutions(monitor, input.jobId)).at(-1);
    if (now === undefined) throw error;
    return { kind: now.status === 'RUNNING' ? 'running' : 'finished', execution: now };
  }
}

/** Prints the result of `startMonitor` and returns the exit code. */
export function reportStart(io: CommandIo, input: MonitorInput, result: StartResult): number {
  const execution = result.execution;
  const details = executionLines(execution);
  if (result.kind === 'started') {
    const again = execution.generation > 0 ? ` again (generation ${execution.generation})` : '';
    io.stdout.write(
      [
        `started monitoring job ${input.jobId} in workspace ${input.workspace}${again}`,
        ...details,
        `follow it: eodh-monitor watch ${input.jobId}`,
        '',
      ].join('\n'),
    );
    return ExitCode.ok;
  }
  if (result.kind === 'running') {
    io.stdout.write(
      [
        `job ${input.jobId} is already monitored, since ${formatDate(execution.startDate)}; no new monitor was started`,
        ...details,
        `follow it: eodh-monitor watch ${input.jobId}`,
        '',
      ].join('\n'),
    );
    return ExitCode.ok;
  }
  io.stderr.write(
    [
      `job ${input.jobId} was already monitored: its last monitor ended ${execution.status} at ${formatDate(execution.stopDate)}`,
      ...details,
      'To monitor it again, which archives it again and publishes another outcome, add --force:',
      `  eodh-monitor start ${input.jobId} --workspace ${input.workspace} --force`,
      '',
    ].join('\n'),
  );
  return ExitCode.usage;
}

function executionLines(execution: JobExecution): string[] {
  const console = executionConsoleUrl(execution.executionArn);
  return [`execution: ${execution.executionArn}`, ...(console === null ? [] : [`console:   ${console}`])];
}
