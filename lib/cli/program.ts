import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { type AwsDependencies, AwsRequestError, defaultAwsDependencies, defaultStackName } from './aws';
import { ExitCode, UsageError } from './errors';
import { defaultListLimit, type ListCommandOptions, listCommand } from './list-command';
import { type CommandIo, type RunCommandOptions, runCommand } from './run-command';
import { type SandboxCommandOptions, sandboxCommand } from './sandbox-command';
import { type StartCommandOptions, startCommand } from './start-command';
import { type StopCommandOptions, stopCommand } from './stop-command';
import { type SubmitCommandOptions, submitCommand } from './submit-command';
import {
  defaultPollIntervalSeconds,
  defaultWatchDependencies,
  type WatchCommandOptions,
  type WatchDependencies,
  watchCommand,
} from './watch-command';

/** Profile lookup, clock and sleep of the commands for the deployed stack; tests replace them. */
export type CliDependencies = AwsDependencies & WatchDependencies;

const defaultCliDependencies: CliDependencies = { ...defaultAwsDependencies, ...defaultWatchDependencies };

function wholeNumber(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) {
      throw new InvalidArgumentError(`${flag} takes a whole number written in digits, not "${value}"`);
    }
    return Number(value);
  };
}

function positiveNumber(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) {
      throw new InvalidArgumentError(`${flag} takes a positive number, not "${value}"`);
    }
    return parsed;
  };
}

function atLeastOne(flag: string, whole = false) {
  return (value: string): number => {
    const parsed = Number(value);
    if (
      value.trim() === '' ||
      !Number.isFinite(parsed) ||
      parsed < 1 ||
      (whole && !Number.isInteger(parsed))
    ) {
      throw new InvalidArgumentError(
        `${flag} takes a ${whole ? 'whole ' : ''}number of at least 1, not "${value}"`,
      );
    }
    return parsed;
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Adds the flags that locate the deployed stack to a command. */
function withStackOptions(command: Command): Command {
  return command
    .option(
      '--state-machine-arn <arn>',
      'ARN of the deployed state machine (default: EODH_MONITOR_STATE_MACHINE_ARN, else the StateMachineArn output of the stack)',
    )
    .option(
      '--stack-name <name>',
      `CloudFormation stack whose StateMachineArn output to use (default: EODH_MONITOR_STACK or ${defaultStackName})`,
    )
    .option('--region <region>', 'AWS region of the stack (default: AWS_REGION or the AWS profile region)');
}

/** Adds the per-job option flags that `start` and `submit` put in the execution input. */
function withJobOptions(command: Command): Command {
  return command
    .option(
      '--poll-initial-seconds <n>',
      'first wait between checks, in seconds (default: the stack configuration)',
      wholeNumber('--poll-initial-seconds'),
    )
    .option(
      '--poll-max-seconds <n>',
      'longest wait between checks, in seconds (default: the stack configuration)',
      wholeNumber('--poll-max-seconds'),
    )
    .option(
      '--max-job-age-hours <n>',
      'give up with timed_out past this job age, in hours (default: the stack configuration)',
      positiveNumber('--max-job-age-hours'),
    )
    .option(
      '--log-wait-seconds <n>',
      'how long to wait for log links after the job ended, in seconds (default: the stack configuration)',
      wholeNumber('--log-wait-seconds'),
    );
}

const packageVersion: string = packageJson.version;

/**
 * Builds the `eodh-monitor` command line. Each action stores its exit code in `result.code`
 * because commander's own exit handling covers only success and usage errors.
 */
export function buildProgram(
  io: CommandIo,
  result: { code: number },
  deps: CliDependencies = defaultCliDependencies,
): Command {
  const program = new Command('eodh-monitor')
    .description(
      'Monitor EODH (OGC API - Processes) jobs: wait for the end, archive results and logs, publish the outcome.',
    )
    .version(packageVersion, '--version', 'print the version')
    .showHelpAfterError('(add --help for the options)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  program
    .command('run')
    .description(
      'Monitor one job on this machine with the local runtime (the deployed state machine definition, run in-process). ' +
        'The token comes from EODH_TOKEN or the Secrets Manager secret named by TOKEN_SECRET_NAME.',
    )
    .argument('[jobId]', 'EODH job ID (leave out with --sandbox)')
    .option('--workspace <ws>', 'EODH workspace that owns the job')
    .option('--api-url <url>', 'EODH base URL (default: API_URL or https://eodatahub.org.uk)')
    .option(
      '--status-url <url>',
      'status URL of the job (default: built from the API URL, workspace and job ID)',
    )
    .option(
      '--allowed-host <pattern>',
      'host the monitor may fetch from and send the token to; repeat for more (default: the API host and *.eodatahub-workspaces.org.uk)',
      collect,
    )
    .option('--allow-loopback', 'permit http:// and loopback addresses, for a sandbox you started yourself')
    .option(
      '--sandbox <scenario>',
      'start the built-in EODH sandbox, submit this scenario (name or JSON file) and monitor it',
    )
    .option('--archive <target>', 'archive directory, or s3://bucket/prefix', './archive')
    .option(
      '--s3-endpoint <url>',
      'S3-compatible endpoint for an s3:// archive (path-style), such as http://127.0.0.1:4569',
    )
    .option('--topic-arn <arn>', 'also publish the outcome to this SNS topic (default: print the message)')
    .option('--region <region>', 'AWS region for S3, SNS and console links')
    .option(
      '--poll-initial-seconds <n>',
      'first wait between checks, in seconds',
      wholeNumber('--poll-initial-seconds'),
    )
    .option(
      '--poll-max-seconds <n>',
      'longest wait between checks, in seconds',
      wholeNumber('--poll-max-seconds'),
    )
    .option(
      '--max-job-age-hours <n>',
      'give up with timed_out past this job age, in hours',
      positiveNumber('--max-job-age-hours'),
    )
    .option(
      '--log-wait-seconds <n>',
      'how long to wait for log links after the job ended, in seconds',
      wholeNumber('--log-wait-seconds'),
    )
    .addOption(new Option('--virtual-clock', 'run a sandbox job in virtual time: waits take no real time'))
    .option('--summary-json <file>', 'write a JSON summary (outcome, archive, counts) to this file')
    .option('--force', 'monitor again a job whose outcome.json is already in the archive')
    .action(async (jobId: string | undefined, options: RunCommandOptions) => {
      result.code = await runCommand(jobId, options, io);
    });

  program
    .command('sandbox')
    .description('Serve the EODH sandbox on loopback until interrupted.')
    .option('--port <n>', 'API port (default: any free port)', wholeNumber('--port'))
    .option('--token <token>', 'bearer token the sandbox requires (default: a random one)')
    .action(async (options: SandboxCommandOptions) => {
      result.code = await sandboxCommand(options, io);
    });

  withJobOptions(
    withStackOptions(
      program
        .command('start')
        .description(
          'Start the deployed monitor for a job. A job already monitored is reported, not monitored twice.',
        )
        .argument('<jobId>', 'EODH job ID')
        .option('--workspace <ws>', 'EODH workspace that owns the job')
        .option(
          '--force',
          'monitor a job whose monitor has ended once more: archive it again and publish another outcome, in the next generation',
        ),
    ),
  ).action(async (jobId: string, options: StartCommandOptions) => {
    result.code = await startCommand(jobId, options, io, deps);
  });

  withJobOptions(
    withStackOptions(
      program
        .command('submit')
        .description(
          'Execute a workflow on EODH (Prefer: respond-async), then start its deployed monitor. ' +
            'The token comes from EODH_TOKEN or the Secrets Manager secret named by TOKEN_SECRET_NAME.',
        )
        .argument('<processId>', 'EODH process (workflow) ID')
        .option('--workspace <ws>', 'EODH workspace to run the workflow in')
        .option('--inputs <file>', 'JSON file with the execute request, such as {"inputs": {...}}')
        .option('--api-url <url>', 'EODH base URL (default: API_URL or https://eodatahub.org.uk)')
        .option(
          '--allowed-host <pattern>',
          'host the token may be sent to; repeat for more (default: the API host and *.eodatahub-workspaces.org.uk)',
          collect,
        )
        .option(
          '--allow-loopback',
          'permit http:// and loopback addresses, for a sandbox you started yourself',
        ),
    ),
  ).action(async (processId: string, options: SubmitCommandOptions) => {
    result.code = await submitCommand(processId, options, io, deps);
  });

  withStackOptions(
    program
      .command('watch')
      .description(
        "Follow a job's deployed monitor across continuation executions until it publishes the outcome. " +
          'Exits 0 when the job succeeded and 1 otherwise.',
      )
      .argument('<jobId>', 'EODH job ID')
      .option(
        '--poll-interval <seconds>',
        `time between polls of the execution, in seconds (default: ${defaultPollIntervalSeconds})`,
        atLeastOne('--poll-interval'),
      ),
  ).action(async (jobId: string, options: WatchCommandOptions) => {
    result.code = await watchCommand(jobId, options, io, deps);
  });

  withStackOptions(
    program
      .command('list')
      .description(
        'List monitored jobs, newest first: job, status, started and generation of the newest execution.',
      )
      .option(
        '--status <status>',
        'only jobs whose newest execution has this status: running, succeeded, failed, timed_out, aborted or pending_redrive',
      )
      .option(
        '--limit <n>',
        `list at most this many jobs (default: ${defaultListLimit})`,
        atLeastOne('--limit', true),
      )
      .option('--json', 'print a JSON array instead of a table'),
  ).action(async (options: ListCommandOptions) => {
    result.code = await listCommand(options, io, deps);
  });

  withStackOptions(
    program
      .command('stop')
      .description('Stop the deployed monitor of a job. The EODH job itself is never dismissed.')
      .argument('<jobId>', 'EODH job ID'),
  ).action(async (jobId: string, options: StopCommandOptions) => {
    result.code = await stopCommand(jobId, options, io, deps);
  });

  return program;
}

/** Runs the command line and returns the process exit code. */
export async function main(
  argv: string[],
  io: CommandIo,
  deps: CliDependencies = defaultCliDependencies,
): Promise<number> {
  const result = { code: ExitCode.ok as number };
  const program = buildProgram(io, result, deps);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit with 0; every other commander error is a usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\n`);
      return ExitCode.usage;
    }
    if (error instanceof AwsRequestError) {
      io.stderr.write(`error: ${error.message}\n`);
      return ExitCode.jobNotSucceeded;
    }
    throw error;
  }
}
