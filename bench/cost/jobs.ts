import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDirectoryStore } from '../../lambdas/adapters/directory-store';
import { createGuardedFetch } from '../../lambdas/adapters/http';
import { readMonitorConfig } from '../../lambdas/core/config';
import type { LocalDefinition } from '../../lib/local/definition';
import { runLocalMonitor } from '../../lib/local/runtime';
import { VirtualClock } from '../../lib/local/virtual-clock';
import { loadScenario, type Sandbox, startSandbox } from '../../lib/sandbox';
import { type PollerProjection, projectBaseline, runBaseline } from './baseline';
import { type ExecutionTrace, historyEvents, shapeOf, tracesOf } from './history';

/**
 * Running one scenario job through the monitor or the baseline, each against a fresh sandbox in
 * virtual time. Both start monitoring `startDelaySeconds` after the job was submitted.
 */

/** Start of virtual time for every run, so runs repeat exactly: 2026-06-01T00:00:00Z. */
const virtualStart = Date.UTC(2026, 5, 1);

const terminalStatuses = ['successful', 'failed', 'dismissed'];

export interface MonitorJobRun {
  executionStatus: 'SUCCEEDED' | 'FAILED';
  outcome: string | null;
  /** Seconds from the job finishing to the first check that saw it, or null when none did. */
  detectionDelaySeconds: number | null;
  stateTransitions: number;
  lambdaInvocations: number;
  executions: number;
  checks: number;
  /** Modelled history events of the largest execution. */
  maxHistoryEvents: number;
}

export interface BaselineJobRun {
  /** Whether the one execution followed the job to its end within the history limit. */
  completes: boolean;
  /** Measured until the job's end was seen, or until the history limit stopped the run. */
  stateTransitions: number;
  lambdaInvocations: number;
  detectionDelaySeconds: number | null;
  /** Job age when the history limit ended the execution, or null when it completed. */
  failedAtJobAgeSeconds: number | null;
  /** The whole job computed: what following it to the end takes, limit or not. */
  toJobEnd: PollerProjection;
}

/** Returns the seconds after submission at which the scenario's job finishes. */
export async function scenarioDurationSeconds(scenarioPath: string): Promise<number> {
  const scenario = await loadScenario(scenarioPath);
  const finishing = scenario.timeline.find((entry) => terminalStatuses.includes(entry.status));
  if (finishing === undefined) {
    throw new Error(`scenario ${scenarioPath} never finishes, so it cannot measure a detection delay`);
  }
  return finishing.at;
}

async function withSandbox<T>(
  scenarioPath: string,
  startDelaySeconds: number,
  run: (sandbox: Sandbox, job: { jobId: string; statusUrl: string }, clock: VirtualClock) => Promise<T>,
): Promise<T> {
  const clock = new VirtualClock(virtualStart);
  const sandbox = await startSandbox({ clock, env: {} });
  try {
    const job = await sandbox.submit(scenarioPath);
    clock.advance(startDelaySeconds);
    return await run(sandbox, job, clock);
  } finally {
    await sandbox.close();
  }
}

function fetchFor(sandbox: Sandbox) {
  return createGuardedFetch({
    allowedHosts: sandbox.allowedHosts,
    allowLoopback: true,
    getToken: async () => sandbox.token,
  });
}

/**
 * Counts the monitor's history per execution with the model and returns the maximum. Task
 * attempts beyond the Task states entered are retries. The run does not record which execution
 * made them, so all are added to the largest execution, which can only overstate the maximum.
 */
function maxHistoryEventsOf(
  statesEntered: readonly string[],
  definition: LocalDefinition,
  lambdaInvocations: number,
  executions: number,
): number {
  const traces: ExecutionTrace[] = tracesOf(statesEntered, shapeOf(definition.definition));
  if (traces.length !== executions) {
    throw new Error(
      `found ${traces.length} executions in the states entered, but the run counted ${executions}`,
    );
  }
  const lambdaTaskEntries = statesEntered.filter((name) => name in definition.taskFunctions).length;
  const retriedAttempts = Math.max(0, lambdaInvocations - lambdaTaskEntries);
  const perExecution = traces.map(historyEvents);
  return Math.max(...perExecution) + retriedAttempts * 3;
}

/**
 * Monitors the scenario's job with the synthesized state machine on the local runtime.
 * `options.options` become the execution input's per-job `options`.
 */
export async function runMonitorJob(
  scenarioPath: string,
  definition: LocalDefinition,
  options: { random: () => number; startDelaySeconds: number; options?: { pollMaxSeconds?: number } },
): Promise<MonitorJobRun> {
  const duration = await scenarioDurationSeconds(scenarioPath);
  const archiveDir = await mkdtemp(join(tmpdir(), 'eodh-bench-cost-'));
  try {
    return await withSandbox(scenarioPath, options.startDelaySeconds, async (sandbox, job, clock) => {
      const finishedAt = clock.now() + (duration - options.startDelaySeconds) * 1000;
      const config = readMonitorConfig({
        API_URL: sandbox.apiUrl,
        ALLOWED_HOSTS: sandbox.allowedHosts.join(','),
        ALLOW_LOOPBACK: 'true',
      });
      const fetch = fetchFor(sandbox);
      let detectedAt: number | null = null;
      try {
        const result = await runLocalMonitor({
          input: {
            jobId: job.jobId,
            workspace: sandbox.workspace,
            statusUrl: job.statusUrl,
            ...(options.options === undefined ? {} : { options: options.options }),
          },
          executionName: job.jobId,
          definition,
          config,
          fetch,
          store: createDirectoryStore(archiveDir),
          notifier: null,
          clock,
          random: options.random,
          onProgress: (event) => {
            if (
              detectedAt === null &&
              event.kind === 'check' &&
              terminalStatuses.includes(event.check.status)
            ) {
              detectedAt = clock.now();
            }
          },
        });
        const { stats } = result;
        return {
          executionStatus: result.executionStatus,
          outcome: result.outcome?.outcome ?? null,
          detectionDelaySeconds: detectedAt === null ? null : (detectedAt - finishedAt) / 1000,
          stateTransitions: stats.stateTransitions,
          lambdaInvocations: stats.lambdaInvocations,
          executions: stats.executions,
          checks: stats.checks,
          maxHistoryEvents: maxHistoryEventsOf(
            result.statesEntered,
            definition,
            stats.lambdaInvocations,
            stats.executions,
          ),
        };
      } finally {
        await fetch.close();
      }
    });
  } finally {
    await rm(archiveDir, { recursive: true, force: true });
  }
}

/**
 * Polls the scenario's job with the baseline on the same engine. A run that completes must
 * match the computed projection exactly, which checks the engine run and the arithmetic
 * against each other.
 */
export async function runBaselineJob(
  scenarioPath: string,
  options: { startDelaySeconds: number },
): Promise<BaselineJobRun> {
  const duration = await scenarioDurationSeconds(scenarioPath);
  const toJobEnd = projectBaseline(duration, options.startDelaySeconds);
  return withSandbox(scenarioPath, options.startDelaySeconds, async (sandbox, job, clock) => {
    const submittedAt = clock.now() - options.startDelaySeconds * 1000;
    const fetch = fetchFor(sandbox);
    try {
      const run = await runBaseline({ statusUrl: job.statusUrl, fetch, clock });
      const completes = !run.stoppedAtHistoryLimit && run.executionStatus === 'SUCCEEDED';
      const result: BaselineJobRun = {
        completes,
        stateTransitions: run.statesEntered.length,
        lambdaInvocations: run.lambdaInvocations,
        detectionDelaySeconds:
          run.detectedAt === null ? null : (run.detectedAt - submittedAt) / 1000 - duration,
        failedAtJobAgeSeconds: completes ? null : (run.endedAt - submittedAt) / 1000,
        toJobEnd,
      };
      if (completes && result.stateTransitions !== toJobEnd.stateTransitions) {
        throw new Error(
          `the baseline made ${result.stateTransitions} state transitions, but ${toJobEnd.stateTransitions} were computed`,
        );
      }
      return result;
    } finally {
      await fetch.close();
    }
  });
}
