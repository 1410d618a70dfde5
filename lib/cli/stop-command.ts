import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import {
  type AwsDependencies,
  callAws,
  type DeployedMonitor,
  defaultAwsDependencies,
  findDeployedMonitor,
  type StackOptions,
} from './aws';
import { ExitCode, UsageError } from './errors';
import { findJobExecutions, formatDate, type JobExecution, listJobExecutions } from './monitor-executions';
import type { CommandIo } from './run-command';
import { checkJobId } from './start-command';

/** Options of `eodh-monitor stop`, as commander parses them. */
export type StopCommandOptions = StackOptions;

/** Error name recorded on a stopped execution; the execution history and the console show it. */
export const stopError = 'StoppedByUser';
export const stopCause = 'stopped with eodh-monitor stop; the EODH job was not dismissed';

const notDismissed = 'The EODH job itself was not dismissed: it keeps running and keeps its results.';

/**
 * Stops a job's running monitor. The job on EODH is never dismissed: stopping only ends the
 * Step Functions execution, so nothing more is checked or archived for it.
 */
export async function stopCommand(
  jobIdArgument: string,
  options: StopCommandOptions,
  io: CommandIo,
  deps: AwsDependencies = defaultAwsDependencies,
): Promise<number> {
  const jobId = checkJobId(jobIdArgument);
  const monitor = await findDeployedMonitor(options, io.env, deps);
  const executions = await findJobExecutions(monitor, jobId);
  const latest = executions.at(-1);
  if (latest === undefined) {
    throw new UsageError(
      `no monitor found for job ${jobId} on ${monitor.stateMachineArn}, so nothing was stopped`,
    );
  }

  const running = executions.filter((execution) => execution.status === 'RUNNING');
  if (running.length === 0) {
    io.stdout.write(
      `job ${jobId} has no running monitor: its last monitor ended ${latest.status} at ${formatDate(latest.stopDate)}, so nothing was stopped. ${notDismissed}\n`,
    );
    return ExitCode.ok;
  }

  const stopped: JobExecution[] = [];
  for (const execution of running) {
    await stopExecution(monitor, execution);
    stopped.push(execution);
  }
  // A monitor that was handing over to its next generation may have started it after the list
  // was read, so executions newer than the last one stopped are looked up once more.
  // NOTE: a continuation that ListExecutions does not show yet (it is eventually consistent)
  // keeps running; `eodh-monitor list --status running` shows it.
  const newest = stopped.at(-1) as JobExecution;
  for (const execution of await listJobExecutions(monitor, jobId, newest)) {
    if (execution.status !== 'RUNNING') continue;
    await stopExecution(monitor, execution);
    stopped.push(execution);
  }

  const lines = stopped.map((execution) => `stopped execution ${execution.executionArn}`);
  io.stdout.write(
    [
      `stopped monitoring job ${jobId}: nothing more is checked or archived for it.`,
      ...lines,
      notDismissed,
      `To monitor it again: eodh-monitor start ${jobId} --workspace <ws> --force`,
      '',
    ].join('\n'),
  );
  return ExitCode.ok;
}

async function stopExecution(monitor: DeployedMonitor, execution: JobExecution): Promise<void> {
  await callAws('states:StopExecution', monitor.region, () =>
    monitor.sfn.send(
      new StopExecutionCommand({ executionArn: execution.executionArn, error: stopError, cause: stopCause }),
    ),
  );
}
