import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDirectoryStore } from '../../lambdas/adapters/directory-store';
import { createGuardedFetch } from '../../lambdas/adapters/http';
import type { MonitorLogger } from '../../lambdas/adapters/powertools';
import { readMonitorConfig } from '../../lambdas/core/config';
import type { Notifier, OutcomeMessage } from '../../lambdas/core/ports';
import { type LocalRunResult, runLocalMonitor } from '../../lib/local/runtime';
import { VirtualClock } from '../../lib/local/virtual-clock';
import { type Sandbox, type ScenarioInput, type SubmittedJob, startSandbox } from '../../lib/sandbox';
import { definition } from './support';

/** One message the notifier received, with the virtual time it was sent at. */
export interface SentMessage extends OutcomeMessage {
  sentAt: number;
}

/** One log line, with the keys appended at the time it was written. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  attributes: Record<string, unknown>;
  keys: Record<string, unknown>;
}

/** Creates a logger that keeps every line with its appended keys, as Powertools would print them. */
export function recordingLogger(): MonitorLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const keys: Record<string, unknown> = {};
  const write =
    (level: LogLine['level']) =>
    (message: unknown, ...extra: unknown[]): void => {
      const attributes = (extra[0] ?? {}) as Record<string, unknown>;
      lines.push({ level, message: String(message), attributes, keys: { ...keys } });
    };
  return {
    lines,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    appendKeys: (added: Record<string, unknown>) => {
      Object.assign(keys, added);
    },
    removeKeys: (names: string[]) => {
      for (const name of names) delete keys[name];
    },
  } as MonitorLogger & { lines: LogLine[] };
}

export interface LongRun {
  result: LocalRunResult;
  job: SubmittedJob;
  sandbox: Sandbox;
  archiveRoot: string;
  messages: SentMessage[];
  clock: VirtualClock;
  /** Status requests the sandbox received, in order, with the status code sent (0 for no response). */
  statusRequests: { at: number; status: number; method: string }[];
  logs: LogLine[];
  submittedAt: number;
}

export interface LongRunOptions {
  /** Per-job options; the configured defaults apply to the rest. */
  options?: Record<string, unknown>;
  /** Wraps the recording notifier, to inject publish failures. */
  notifier?: (recording: Notifier) => Notifier;
  /** @default 20000, the configured default; stall tests use a short one */
  fetchTimeoutMs?: number;
  /** @default 0.5 */
  random?: () => number;
  /** Extra configuration variables, such as `TOKEN_SECRET_NAME` for the warning text. */
  env?: Record<string, string>;
}

const openSandboxes: Sandbox[] = [];
const tempDirectories: string[] = [];
export const start = Date.parse('2026-11-30T09:12:04Z');

/**
 * Submits a scenario to a fresh sandbox and monitors it with the synthesized definition in
 * virtual time, with the configured defaults (15 s to 300 s waits, 500 checks per execution)
 * unless `options` overrides them. The token is read from the sandbox's secret on each
 * request, as the check function re-reads Secrets Manager.
 */
export async function runLongScenario(
  scenario: string | ScenarioInput,
  runOptions: LongRunOptions = {},
): Promise<LongRun> {
  const clock = new VirtualClock(start);
  const sandbox = await startSandbox({ clock });
  openSandboxes.push(sandbox);
  const archiveRoot = await mkdtemp(join(tmpdir(), 'eodh-long-'));
  tempDirectories.push(archiveRoot);

  const job = await sandbox.submit(scenario);
  const config = readMonitorConfig({
    API_URL: sandbox.apiUrl,
    ALLOWED_HOSTS: sandbox.allowedHosts.join(','),
    ALLOW_LOOPBACK: 'true',
    ...runOptions.env,
  });
  const fetch = createGuardedFetch({
    allowedHosts: sandbox.allowedHosts,
    allowLoopback: true,
    getToken: async () => sandbox.currentToken(job.jobId),
    timeoutMs: runOptions.fetchTimeoutMs ?? config.httpTimeoutMs,
  });
  const messages: SentMessage[] = [];
  const recording: Notifier = {
    async publish(message) {
      messages.push({ ...message, sentAt: clock.now() });
      return { messageId: `message-${messages.length}` };
    },
  };
  const statusPath = new URL(job.statusUrl).pathname;
  const logger = recordingLogger();
  try {
    const result = await runLocalMonitor({
      input: {
        jobId: job.jobId,
        workspace: sandbox.workspace,
        statusUrl: job.statusUrl,
        ...(runOptions.options === undefined ? {} : { options: runOptions.options }),
      },
      executionName: job.jobId,
      definition: definition(),
      config,
      fetch,
      store: createDirectoryStore(archiveRoot),
      notifier: runOptions.notifier?.(recording) ?? recording,
      clock,
      random: runOptions.random ?? (() => 0.5),
      logger,
    });
    const statusRequests = sandbox.requests
      .filter((request) => request.server === 'api' && request.path === statusPath)
      .map((request) => ({ at: request.at, status: request.status, method: request.method }));
    return {
      result,
      job,
      sandbox,
      archiveRoot,
      messages,
      clock,
      statusRequests,
      logs: logger.lines,
      submittedAt: start,
    };
  } finally {
    await fetch.close();
  }
}

/** Counts messages by their `outcome` attribute. */
export function countByKind(messages: readonly OutcomeMessage[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const message of messages) {
    counts[message.attributes.outcome] = (counts[message.attributes.outcome] ?? 0) + 1;
  }
  return counts;
}

/** Closes every sandbox and removes every archive directory made by `runLongScenario`. */
export async function cleanUpLongScenarios(): Promise<void> {
  await Promise.all(openSandboxes.splice(0).map((sandbox) => sandbox.close()));
  await Promise.all(tempDirectories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}
