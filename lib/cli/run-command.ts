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
import { validateOptions } from '../../lambdas/core/validation';
import { validateMonitorInput } from '../../lambdas/validate-input';
import { synthesizeDefinition } from '../local/definition';
import { createProgressWriter } from '../local/progress';
import { type LocalRunResult, runLocalMonitor } from '../local/runtime';
import { openArchiveTarget } from '../local/stores';
import { VirtualClock } from '../local/virtual-clock';
import { type Sandbox, ScenarioError, startSandbox } from '../sandbox';
import { ExitCode, UsageError } from './errors';
import { checkArchiveWritable, checkNotArchived, checkSummaryPath, messageForFlags } from './preflight';

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
  /** Monitor again a job whose outcome is already archived. */
  force?: boolean;
}

export interface CommandIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Env;
}

/** Content of the `--summary-json` file. */
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
  /** History events of the largest execution, estimated as Step Functions records them. */
  maxHistoryEvents: number;
  /** Messages published, by their `outcome` attribute (`warning` for warnings). */
  notifications: Record<string, number>;
  /** Seconds from the job's `finished` time to the check that saw it finished, or null. */
  detectionDelaySeconds: number | null;
  /** Seconds from the job's `created` time to its `finished` time, or null. */
  jobDurationSeconds: number | null;
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
  const outputs = await prepareOutputs(options);
  const target = await resolveTarget(jobIdArgument, options, io);
  try {
    return await monitor(target, options, io, outputs);
  } finally {
    await target.sandbox?.close();
  }
}

interface Outputs {
  store: ArchiveStore;
  notifier: Notifier | null;
  jobOptions: Partial<MonitorOptions>;
}

/**
 * Checks everything that does not depend on the job before the sandbox starts or any request
 * is made: the per-job options, the archive target (created and probed), the SNS topic and
 * the summary path. A job can run for hours, so these must not fail at its end.
 */
async function prepareOutputs(options: RunCommandOptions): Promise<Outputs> {
  const jobOptions: Partial<MonitorOptions> = {};
  for (const key of Object.keys(optionFlags) as (keyof typeof optionFlags)[]) {
    const value = options[key];
    if (value !== undefined) jobOptions[key] = value;
  }
  try {
    validateOptions(jobOptions, readMonitorConfig({}).defaultOptions);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(describeInputError(error), { cause: error });
    throw error;
  }

  if (options.archive.trim() === '') {
    throw new UsageError('invalid --archive "": give a directory or s3://bucket/prefix');
  }
  const store = openArchiveTarget(options.archive, {
    s3Endpoint: options.s3Endpoint,
    region: options.region,
  });
  await checkArchiveWritable(store, options.archive);
  const notifier = options.topicArn === undefined ? null : snsNotifier(options.topicArn, options.region);
  if (options.summaryJson !== undefined) await checkSummaryPath(options.summaryJson);
  return { store, notifier, jobOptions };
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
    // With an explicit --allowed-host list, a status URL without --api-url names the API host
    // itself. Without that list it is not used, so a status URL alone never widens where the
    // token may go.
    const apiUrl =
      options.apiUrl ??
      (options.statusUrl !== undefined && options.allowedHost !== undefined
        ? originOf(options.statusUrl)
        : undefined);
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
      ...(apiUrl === undefined ? {} : { API_URL: apiUrl }),
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

  const ignored = [
    ['<jobId>', jobIdArgument],
    ['--workspace', options.workspace],
    ['--status-url', options.statusUrl],
    ['--api-url', options.apiUrl],
    ['--allowed-host', options.allowedHost],
    ['--allow-loopback', options.allowLoopback],
    ['--force', options.force],
  ]
    .filter(([, value]) => value !== undefined && value !== false)
    .map(([name]) => name);
  if (ignored.length > 0) {
    throw new UsageError(`--sandbox submits a new job on its own hosts: leave out ${ignored.join(', ')}`);
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
      env: {
        API_URL: sandbox.apiUrl,
        ALLOWED_HOSTS: sandbox.allowedHosts.join(','),
        ALLOW_LOOPBACK: 'true',
        // The sandbox responds on loopback within milliseconds, so 2 s is ample, and a stalled
        // response costs 2 s of real time even with a virtual clock.
        HTTP_TIMEOUT_MS: '2000',
      },
      // Read on every request, as the check function re-reads its secret, so a scenario that
      // rotates the token is followed.
      token: async () => sandbox.currentToken(job.jobId),
      clock,
      sandbox,
    };
  } catch (error) {
    await sandbox.close();
    if (error instanceof ScenarioError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

async function monitor(
  target: Target,
  options: RunCommandOptions,
  io: CommandIo,
  { store, notifier, jobOptions }: Outputs,
): Promise<number> {
  const config = readConfig(target.env);
  const input = {
    jobId: target.jobId,
    workspace: target.workspace,
    ...(target.statusUrl === undefined ? {} : { statusUrl: target.statusUrl }),
    ...(Object.keys(jobOptions).length === 0 ? {} : { options: jobOptions }),
  };

  // The state machine would reject bad input too, but with a monitor_error notification;
  // on the command line a usage error before any request is clearer.
  try {
    validateMonitorInput(
      { input, executionName: target.jobId, executionStartTime: new Date(target.clock.now()).toISOString() },
      config,
    );
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(describeInputError(error), { cause: error });
    throw error;
  }

  if (!options.force) await checkNotArchived(store, target.workspace, target.jobId);
  try {
    await target.token();
  } catch (error) {
    if (error instanceof ConfigurationError)
      throw new UsageError(messageForFlags(error.message), { cause: error });
    throw error;
  }

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
    try {
      await writeFile(options.summaryJson, `${JSON.stringify(summary, null, 2)}\n`);
    } catch (error) {
      io.stderr.write(
        `error: cannot write --summary-json "${options.summaryJson}": ${(error as Error).message}\n`,
      );
      return ExitCode.usage;
    }
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
    maxHistoryEvents: result.stats.maxHistoryEvents,
    notifications: result.stats.notifications,
    detectionDelaySeconds: secondsBetween(result.lastCheck?.finished, result.lastCheck?.terminalSeenAt),
    jobDurationSeconds: secondsBetween(result.lastCheck?.created, result.lastCheck?.finished),
  };
}

/** Whole seconds from one ISO time to a later one, or null when either is missing or unreadable. */
function secondsBetween(from: string | null | undefined, to: string | null | undefined): number | null {
  const start = Date.parse(from ?? '');
  const end = Date.parse(to ?? '');
  return Number.isNaN(start) || Number.isNaN(end) ? null : Math.round((end - start) / 1000);
}

/** Formats a count with its noun, adding "s" unless the count is 1. */
function count(value: number, noun: string): string {
  return `${value} ${value === 1 ? noun : `${noun}s`}`;
}

function printResult(io: CommandIo, summary: RunSummary, result: LocalRunResult): void {
  const failed = summary.filesFailed > 0 ? `, ${summary.filesFailed} failed` : '';
  const lines = [
    `outcome: ${summary.outcome ?? 'none published'}`,
    `archive: ${summary.archive ?? 'nothing archived'} (${count(summary.filesArchived, 'file')}, ${formatBytes(summary.bytesArchived)}${failed})`,
    `execution: ${summary.executionStatus} after ${count(summary.checks, 'check')}, ${count(summary.stateTransitions, 'state transition')}, ${count(summary.lambdaInvocations, 'Lambda invocation')}, ${count(summary.executions, 'execution')}`,
  ];
  if (summary.filesFailed > 0) {
    // A job that succeeded still exits 0 when files failed, so the failures are printed here.
    lines.push(`not archived: ${count(summary.filesFailed, 'file')}`);
    for (const failure of summary.failures)
      lines.push(`  ${failure.key}: ${messageForFlags(failure.reason)}`);
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
    if (error instanceof ConfigurationError)
      throw new UsageError(messageForFlags(error.message), { cause: error });
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
  return `${name}: ${messageForFlags(error.message)}`;
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
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
