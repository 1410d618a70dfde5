import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ExitCode, UsageError } from './errors';
import { type CommandIo, type RunCommandOptions, runCommand } from './run-command';
import { type SandboxCommandOptions, sandboxCommand } from './sandbox-command';

function wholeNumber(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) {
      throw new InvalidArgumentError(`${flag} takes a whole number, not "${value}"`);
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

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Builds the `eodh-monitor` command line. Each action stores its exit code in `result.code`
 * because commander's own exit handling only knows success and usage errors.
 */
export function buildProgram(io: CommandIo, result: { code: number }): Command {
  const program = new Command('eodh-monitor')
    .description(
      'Monitor EODH (OGC API - Processes) jobs: wait for the end, archive results and logs, publish the outcome.',
    )
    .showHelpAfterError()
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

  return program;
}

/** Runs the command line and returns the process exit code. */
export async function main(argv: string[], io: CommandIo): Promise<number> {
  const result = { code: ExitCode.ok as number };
  const program = buildProgram(io, result);
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
    throw error;
  }
}
