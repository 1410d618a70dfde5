import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDirectoryStore } from '../../lambdas/adapters/directory-store';
import { createGuardedFetch } from '../../lambdas/adapters/http';
import { readMonitorConfig } from '../../lambdas/core/config';
import type { ArchiveStore, Notifier, OutcomeMessage } from '../../lambdas/core/ports';
import { type LocalDefinition, synthesizeDefinition } from '../../lib/local/definition';
import { type LocalRunResult, runLocalMonitor } from '../../lib/local/runtime';
import { VirtualClock } from '../../lib/local/virtual-clock';
import { type Sandbox, type ScenarioInput, type SubmittedJob, startSandbox } from '../../lib/sandbox';

let cachedDefinition: LocalDefinition | undefined;

/** Returns the synthesized definition, built once per test file because a synth takes about 3 s. */
export function definition(): LocalDefinition {
  cachedDefinition ??= synthesizeDefinition();
  return cachedDefinition;
}

/** Creates a notifier that keeps every message, in order. */
export function recordingNotifier(): Notifier & { messages: OutcomeMessage[] } {
  const messages: OutcomeMessage[] = [];
  return {
    messages,
    async publish(message) {
      messages.push(message);
      return { messageId: `message-${messages.length}` };
    },
  };
}

export interface ScenarioRun {
  result: LocalRunResult;
  job: SubmittedJob;
  sandbox: Sandbox;
  store: ArchiveStore;
  archiveRoot: string;
  messages: OutcomeMessage[];
  clock: VirtualClock;
}

export interface ScenarioRunOptions {
  /** Replaces the execution input built from the submitted job. */
  input?: (job: SubmittedJob, sandbox: Sandbox) => unknown;
  options?: Record<string, unknown>;
  store?: (root: string) => ArchiveStore;
}

const openSandboxes: Sandbox[] = [];
const tempDirectories: string[] = [];

/**
 * Submits a scenario to a fresh sandbox on loopback and monitors it with the synthesized
 * definition in virtual time, archiving to a temporary directory.
 */
export async function runScenario(
  scenario: string | ScenarioInput,
  runOptions: ScenarioRunOptions = {},
): Promise<ScenarioRun> {
  const clock = new VirtualClock(Date.parse('2026-11-30T09:12:04Z'));
  const sandbox = await startSandbox({ clock });
  openSandboxes.push(sandbox);
  const archiveRoot = await mkdtemp(join(tmpdir(), 'eodh-workflow-'));
  tempDirectories.push(archiveRoot);

  const job = await sandbox.submit(scenario);
  const config = readMonitorConfig({
    API_URL: sandbox.apiUrl,
    ALLOWED_HOSTS: sandbox.allowedHosts.join(','),
    ALLOW_LOOPBACK: 'true',
  });
  const fetch = createGuardedFetch({
    allowedHosts: sandbox.allowedHosts,
    allowLoopback: true,
    getToken: async () => sandbox.token,
  });
  const store = runOptions.store?.(archiveRoot) ?? createDirectoryStore(archiveRoot);
  const notifier = recordingNotifier();
  const input = runOptions.input?.(job, sandbox) ?? {
    jobId: job.jobId,
    workspace: sandbox.workspace,
    statusUrl: job.statusUrl,
    options: { pollInitialSeconds: 1, pollMaxSeconds: 5, ...runOptions.options },
  };
  try {
    const result = await runLocalMonitor({
      input,
      executionName: job.jobId,
      definition: definition(),
      config,
      fetch,
      store,
      notifier,
      clock,
      random: () => 0.5,
    });
    return { result, job, sandbox, store, archiveRoot, messages: notifier.messages, clock };
  } finally {
    await fetch.close();
  }
}

/** Closes every sandbox and removes every archive directory made by `runScenario`. */
export async function cleanUpScenarios(): Promise<void> {
  await Promise.all(openSandboxes.splice(0).map((sandbox) => sandbox.close()));
  await Promise.all(tempDirectories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}
