import { writeFile } from 'node:fs/promises';
import { SNSClient } from '@aws-sdk/client-sns';
import { createGuardedFetch } from '../../lambdas/adapters/http';
import { createSnsNotifier } from '../../lambdas/adapters/sns-notifier';
import { tokenSourceFromConfig } from '../../lambdas/adapters/token';
import { type Env, readMonitorConfig } from '../../lambdas/core/config';
import { ConfigurationError, InvalidInputError } from '../../lambdas/core/errors';
import { archiveKeys, jobPrefix } from '../../lambdas/core/manifest';
import {
  type ArchiveStore,
  type Clock,
  type Notifier,
  systemClock,
  type TokenSource,
} from '../../lambdas/core/ports';
import type { ArchiveFailure, MonitorOptions } from '../../lambdas/core/state';
import { validateMonitorInput } from '../../lambdas/validate-input';
import { synthesizeDefinition } from '../local/definition';
import { createProgressWriter } from '../local/progress';
import { type LocalRunResult, runLocalMonitor } from '../local/runtime';
import { openArchiveTarget } from '../local/stores';
import { VirtualClock } from '../local/virtual-clock';
import { type Sandbox, ScenarioError, startSandbox } from '../sandbox';
import { ExitCode, UsageError } from './errors';

/** Options of `eodh-monitor run`, as commander parses them. */
export interface RunCommandOptions {
  workspace?: string;
  apiUrl?: string;
  statusUrl?: string;
  allowedHost?: string[];
  allowLoopback?: boolean;
  sandbox?: string;
  archive: string;
  s3Endpoint?: string;
  topicArn?: string;
  region?: string;
  pollInitialSeconds?: number;
  pollMaxSeconds?: number;
  maxJobAgeHours?: number;
  logWaitSeconds?: number;
  virtualClock?: boolean;
  summaryJson?: string;
}

export interface CommandIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Env;
}

/** What `--summary-json` writes. */
export interface RunSummary {
  outcome: string | null;
  jobId: string;
  workspace: string;
  archive: string | null;
  filesArchived: number;
  bytesArchived: number;
  filesFailed: number;
  /** The first files that were not archived, with the reason, as `outcome.json` lists them. */
  failures: ArchiveFailure[];
  executionStatus: LocalRunResult['executionStatus'];
  checks: number;
  stateTransitions: number;
  lambdaInvocations: number;
  executions: number;
}

interface Target {
  jobId: string;
  workspace: string;
  statusUrl?: string;
  env: Env;
  token: TokenSource;
  clock: Clock;
  sandbox: Sandbox | null;
}

/** Flags that map onto the per-job options of the execution input. */
const optionFlags: Record<
  keyof Pick<MonitorOptions, 'pollInitialSeconds' | 'pollMaxSeconds' | 'maxJobAgeHours' | 'logWaitSeconds'>,
  string
> = {
  pollInitialSeconds: '--poll-initial-seconds',
  pollMaxSeconds: '--poll-max-seconds',
  maxJobAgeHours: '--max-job-age-hours',
  logWaitSeconds: '--log-wait-seconds',
};

/**
 * Monitors one job with the local runtime: the synthesized state machine in this process,
 * against EODH or the sandbox. Returns the exit code: 0 when the job succeeded, 1 otherwise.
 */
export async function runCommand(
  jobIdArgument: string | undefined,
  options: RunCommandOptions,
  io: CommandIo,
): Promise<number> {
  const target = await resolveTarget(jobIdArgument, options, io);
  try {
    return await monitor(target, options, io);
  } finally {
    await target.sandbox?.close();
  }
}

async function resolveTarget(
  jobIdArgument: string | undefined,
  options: RunCommandOptions,
  io: CommandIo,
): Promise<Target> {
  if (options.sandbox === undefined) {
    if (options.virtualClock) {
      throw new UsageError('--virtual-clock works only with --sandbox: a real EODH job runs in real time');
    }
    if (jobIdArgument === undefined)
      throw new UsageError('missing <jobId>: give the job ID to monitor, or --sandbox <scenario>');
    if (options.workspace === undefined)
      throw new UsageError('missing --workspace: give the EODH workspace that owns the job');
    const env: Env = {
      ...pick(io.env, [
        'API_URL',
        'ALLOWED_HOSTS',
        'ALLOW_LOOPBACK',
        'TOKEN_SECRET_NAME',
        'HTTP_TIMEOUT_MS',
        'EODH_TOKEN',
        'AWS_REGION',
      ]),
      ...(options.apiUrl === undefined ? {} : { API_URL: options.apiUrl }),
      ...(options.allowedHost === undefined ? {} : { ALLOWED_HOSTS: options.allowedHost.join(',') }),
      ...(options.allowLoopback ? { ALLOW_LOOPBACK: 'true' } : {}),
    };
    const config = readConfig(env);
    return {
      jobId: jobIdArgument,
      workspace: options.workspace,
      statusUrl: options.statusUrl,
      env,
      token: tokenSourceFromConfig(config, env),
      clock: systemClock,
      sandbox: null,
    };
  }

  if (
    jobIdArgument !== undefined ||
    options.workspace !== undefined ||
    options.statusUrl !== undefined ||
    options.apiUrl !== undefined
  ) {
    throw new UsageError(
      '--sandbox submits its own job: leave out <jobId>, --workspace, --status-url and --api-url',
    );
  }
  const clock = options.virtualClock ? new VirtualClock() : systemClock;
  const sandbox = await startSandbox({ clock, env: io.env });
  try {
    const job = await sandbox.submit(options.sandbox);
    io.stderr.write(
      `sandbox: submitted scenario "${job.scenario}" as job ${job.jobId} (process ${job.processId})\n`,
    );
    return {
      jobId: job.jobId,
      workspace: sandbox.workspace,
      statusUrl: job.statusUrl,
      env: { API_URL: sandbox.apiUrl, ALLOWED_HOSTS: sandbox.allowedHosts.join(','), ALLOW_LOOPBACK: 'true' },
      token: async () => sandbox.token,
      clock,
      sandbox,
    };
  } catch (error) {
    await sandbox.close();
    if (error instanceof ScenarioError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

async function monitor(target: Target, options: RunCommandOptions, io: CommandIo): Promise<number> {
  const config = readConfig(target.env);
  const jobOptions: Partial<MonitorOptions> = {};
  for (const key of Object.keys(optionFlags) as (keyof typeof optionFlags)[]) {
    const value = options[key];
    if (value !== undefined) jobOptions[key] = value;
  }
  const input = {
    jobId: target.jobId,
    workspace: target.workspace,
    ...(target.statusUrl === undefined ? {} : { statusUrl: target.statusUrl }),
    ...(Object.keys(jobOptions).length === 0 ? {} : { options: jobOptions }),
  };

  // The state machine would reject bad input too, but with a monitor_error notification;
  // on the command line a usage error before any request is the clearer answer.
  try {
    validateMonitorInput(
      { input, executionName: target.jobId, executionStartTime: new Date(target.clock.now()).toISOString() },
      config,
    );
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(describeInputError(error), { cause: error });
    throw error;
  }

  const store = openArchiveTarget(options.archive, {
    s3Endpoint: options.s3Endpoint,
    region: options.region,
  });
  const notifier = options.topicArn === undefined ? null : snsNotifier(options.topicArn, options.region);
  const fetch = createGuardedFetch({
    allowedHosts: config.allowedHosts.map((pattern) => pattern.text),
    allowLoopback: config.allowLoopback,
    getToken: target.token,
    timeoutMs: config.httpTimeoutMs,
  });

  const progress = createProgressWriter(io.stderr, () => target.clock.now());
  io.stderr.write(
    `monitoring job ${target.jobId} in workspace ${target.workspace}; archive: ${store.location}\n`,
  );
  let result: LocalRunResult;
  try {
    result = await runLocalMonitor({
      input,
      executionName: target.jobId,
      definition: synthesizeDefinition(),
      config,
      fetch,
      store,
      notifier: notifier ?? consoleNotifier(io, progress.finish),
      clock: target.clock,
      onProgress: (event) => progress.update(event),
      region: options.region,
    });
  } finally {
    progress.finish();
    await fetch.close();
  }

  const failures = (result.outcome?.filesFailed ?? 0) > 0 ? await readFailures(store, target) : [];
  const summary = summarize(target, result, failures);
  printResult(io, summary, result);
  if (options.summaryJson !== undefined) {
    await writeFile(options.summaryJson, `${JSON.stringify(summary, null, 2)}\n`);
  }
  return summary.outcome === 'succeeded' ? ExitCode.ok : ExitCode.jobNotSucceeded;
}

/**
 * Reads the failures that `Publish outcome` listed in `outcome.json`. The state machine keeps
 * only their count, so the list comes from the archive; an unreadable file gives an empty list.
 */
async function readFailures(store: ArchiveStore, target: Target): Promise<ArchiveFailure[]> {
  try {
    const bytes = await store.getObject(`${jobPrefix(target.workspace, target.jobId)}${archiveKeys.outcome}`);
    const document = JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array())) as {
      archive?: { failures?: unknown };
    };
    const failures = document.archive?.failures;
    return Array.isArray(failures)
      ? failures.filter(
          (failure): failure is ArchiveFailure =>
            typeof failure?.key === 'string' &&
            typeof failure?.url === 'string' &&
            typeof failure?.reason === 'string',
        )
      : [];
  } catch {
    return [];
  }
}

function summarize(target: Target, result: LocalRunResult, failures: ArchiveFailure[]): RunSummary {
  const outcome = result.outcome;
  return {
    outcome: outcome?.outcome ?? null,
    jobId: target.jobId,
    workspace: target.workspace,
    archive: outcome?.archiveUri ?? result.plan?.archiveUri ?? null,
    filesArchived: outcome?.filesArchived ?? 0,
    bytesArchived: outcome?.bytesArchived ?? 0,
    filesFailed: outcome?.filesFailed ?? 0,
    failures,
    executionStatus: result.executionStatus,
    checks: result.stats.checks,
    stateTransitions: result.stats.stateTransitions,
    lambdaInvocations: result.stats.lambdaInvocations,
    executions: result.stats.executions,
  };
}

function printResult(io: CommandIo, summary: RunSummary, result: LocalRunResult): void {
  const lines = [
    `outcome: ${summary.outcome ?? 'none published'}`,
    `archive: ${summary.archive ?? 'nothing archived'} (${summary.filesArchived} files, ${formatBytes(summary.bytesArchived)}${summary.filesFailed > 0 ? `, ${summary.filesFailed} failed` : ''})`,
    `execution: ${summary.executionStatus} after ${summary.checks} checks, ${summary.stateTransitions} state transitions, ${summary.lambdaInvocations} Lambda invocations`,
  ];
  if (summary.filesFailed > 0) {
    // A job that succeeded still exits 0 when files failed, so the failures are printed here.
    lines.push(`not archived: ${summary.filesFailed} files`);
    for (const failure of summary.failures) lines.push(`  ${failure.key}: ${failure.reason}`);
    const unlisted = summary.filesFailed - summary.failures.length;
    if (unlisted > 0) lines.push(`  ... and ${unlisted} more; manifest.json lists every file`);
  }
  if (result.error !== null) lines.push(`error: ${result.error.name}: ${result.error.message}`);
  io.stdout.write(`${lines.join('\n')}\n`);
}

/** Prints the message an e-mail subscriber would get, when no SNS topic is given. */
function consoleNotifier(io: CommandIo, endProgressLine: () => void): Notifier {
  return {
    async publish(message) {
      endProgressLine();
      const rule = '-'.repeat(72);
      io.stdout.write(`${rule}\nSubject: ${message.subject}\n\n${message.text.trimEnd()}\n${rule}\n`);
      return { messageId: null };
    },
  };
}

function snsNotifier(topicArn: string, region: string | undefined): Notifier {
  if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(topicArn)) {
    throw new UsageError(
      `invalid --topic-arn "${topicArn}": expected arn:aws:sns:<region>:<account>:<topic>`,
    );
  }
  const topicRegion = topicArn.split(':')[3];
  return createSnsNotifier({ client: new SNSClient({ region: region ?? topicRegion }), topicArn });
}

function readConfig(env: Env) {
  try {
    return readMonitorConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

function describeInputError(error: InvalidInputError): string {
  const optionKey = error.field.replace(/^options\./, '') as keyof typeof optionFlags;
  const flag = optionFlags[optionKey];
  const fieldFlag: Record<string, string> = {
    jobId: '<jobId>',
    workspace: '--workspace',
    statusUrl: '--status-url',
  };
  const name = flag ?? fieldFlag[error.field] ?? error.field;
  return `${name}: ${error.message}`;
}

function pick(env: Env, names: string[]): Env {
  const picked: Env = {};
  for (const name of names) if (env[name] !== undefined) picked[name] = env[name];
  return picked;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
