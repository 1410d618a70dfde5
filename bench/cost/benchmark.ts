import { join } from 'node:path';
import { type LocalDefinition, synthesizeDefinition } from '../../lib/local/definition';
import { projectRoot } from '../child-process';
import { median, ratio, round, seededRandom } from '../stats';
import { baselineLoopShape, baselineWaitSeconds } from './baseline';
import { historyEventLimit, longestJobWithinLimit } from './history';
import {
  type BaselineJobRun,
  type MonitorJobRun,
  runBaselineJob,
  runMonitorJob,
  scenarioDurationSeconds,
} from './jobs';
import { transitionCostUsd, usdPerThousandTransitions } from './pricing';

/**
 * Cost per job: the monitor's synthesized state machine against the fixed 30 s poller, on the
 * same sandbox jobs, the same local engine and the same history model, in virtual time.
 */

export const transitionRatioTarget = 10;
export const detectionDelayTargetPercent = 10;

/** Jobs of 5 min, 1 h, 24 h, 7 d and 30 d: built-in scenarios where they exist, else the benchmark's own. */
export const costJobs: readonly { label: string; scenario: string }[] = [
  { label: '5 min', scenario: join(projectRoot, 'bench', 'scenarios', 'job-5m.json') },
  { label: '1 h', scenario: join(projectRoot, 'bench', 'scenarios', 'job-1h.json') },
  { label: '24 h', scenario: 'long-24h' },
  { label: '7 d', scenario: join(projectRoot, 'bench', 'scenarios', 'job-7d.json') },
  { label: '30 d', scenario: 'long-30d' },
];

/** `pollMaxSeconds` values tried on the 24 h job, to show the trade between transitions and detection delay. */
export const pollMaxVariants = [300, 600, 1800] as const;

export interface CostRow {
  label: string;
  /** A built-in scenario name or a path below the project root. */
  scenario: string;
  jobDurationSeconds: number;
  ours: {
    /** The outcome of every run, such as `succeeded`. */
    outcomes: string[];
    stateTransitions: number;
    lambdaInvocations: number;
    executions: number;
    checks: number;
    detectionDelaySeconds: number | null;
    /** Detection delay as a percentage of the job's age when it finished. */
    detectionDelayPercent: number | null;
    maxHistoryEvents: number;
    costUsd: number;
  };
  baseline: {
    /** State transitions to follow the job to its end in one execution (computed beyond the limit). */
    stateTransitions: number;
    lambdaInvocations: number;
    detectionDelaySeconds: number;
    /** Modelled history events of that one execution. */
    historyEvents: number;
    exceedsHistoryLimit: boolean;
    /** Job age at which the engine run passed the limit and stopped, or null when it completed. */
    failedAtJobAgeSeconds: number | null;
    /** State transitions the engine ran before the limit stopped it, or until the job ended. */
    measuredStateTransitions: number;
    costUsd: number;
  };
  /** Baseline state transitions divided by ours. */
  transitionRatio: number | null;
}

export interface CostResult {
  /** Runs per job: seeds of the schedule's jitter and of the start delay. */
  runs: number;
  /** Seconds after submission at which monitoring started, per run, for both state machines. */
  startDelaysSeconds: number[];
  usdPerThousandTransitions: number;
  historyEventLimit: number;
  baselineWaitSeconds: number;
  /** Maximum job length the baseline can follow to its end in one execution, from the model. */
  baselineLongestJob: { checks: number; seconds: number };
  rows: CostRow[];
  /** The 24 h job with a larger `pollMaxSeconds` per job option. */
  pollMaxVariants: {
    pollMaxSeconds: number;
    stateTransitions: number;
    transitionRatio: number | null;
    detectionDelaySeconds: number | null;
  }[];
}

function medianOrNull(values: readonly (number | null)[]): number | null {
  const present = values.filter((value): value is number => value !== null);
  return present.length === 0 ? null : median(present);
}

function summarizeOurs(runs: readonly MonitorJobRun[], jobDurationSeconds: number): CostRow['ours'] {
  const stateTransitions = median(runs.map((run) => run.stateTransitions));
  const detectionDelaySeconds = medianOrNull(runs.map((run) => run.detectionDelaySeconds));
  return {
    outcomes: runs.map((run) => run.outcome ?? 'none'),
    stateTransitions,
    lambdaInvocations: median(runs.map((run) => run.lambdaInvocations)),
    executions: median(runs.map((run) => run.executions)),
    checks: median(runs.map((run) => run.checks)),
    detectionDelaySeconds,
    detectionDelayPercent:
      detectionDelaySeconds === null ? null : round((detectionDelaySeconds / jobDurationSeconds) * 100, 3),
    maxHistoryEvents: Math.max(...runs.map((run) => run.maxHistoryEvents)),
    costUsd: round(transitionCostUsd(stateTransitions), 4),
  };
}

function summarizeBaseline(runs: readonly BaselineJobRun[]): CostRow['baseline'] {
  const stateTransitions = median(runs.map((run) => run.toJobEnd.stateTransitions));
  const failures = runs.map((run) => run.failedAtJobAgeSeconds);
  return {
    stateTransitions,
    lambdaInvocations: median(runs.map((run) => run.toJobEnd.lambdaInvocations)),
    detectionDelaySeconds: median(runs.map((run) => run.toJobEnd.detectionDelaySeconds)),
    historyEvents: median(runs.map((run) => run.toJobEnd.historyEvents)),
    exceedsHistoryLimit: runs.some((run) => !run.completes),
    failedAtJobAgeSeconds: medianOrNull(failures),
    measuredStateTransitions: median(runs.map((run) => run.stateTransitions)),
    costUsd: round(transitionCostUsd(stateTransitions), 4),
  };
}

export interface CostOptions {
  runs: number;
  log: (line: string) => void;
}

export async function runCostBenchmark(options: CostOptions): Promise<CostResult> {
  options.log('cost: synthesizing the state machine definition');
  const definition: LocalDefinition = synthesizeDefinition();
  const seeds = Array.from({ length: options.runs }, (_, index) => index + 1);
  // Seeded, so both state machines start at the same moments in every benchmark run.
  const startDelaysSeconds = seeds.map((seed) =>
    Math.floor(seededRandom(1000 + seed)() * baselineWaitSeconds),
  );

  const rows: CostRow[] = [];
  let variants: CostResult['pollMaxVariants'] = [];
  for (const job of costJobs) {
    const jobDurationSeconds = await scenarioDurationSeconds(job.scenario);
    const oursRuns: MonitorJobRun[] = [];
    const baselineRuns: BaselineJobRun[] = [];
    for (const [index, seed] of seeds.entries()) {
      const startDelaySeconds = startDelaysSeconds[index] ?? 0;
      options.log(`cost: ${job.label} job, run ${seed} of ${seeds.length}`);
      oursRuns.push(
        await runMonitorJob(job.scenario, definition, { random: seededRandom(seed), startDelaySeconds }),
      );
      baselineRuns.push(await runBaselineJob(job.scenario, { startDelaySeconds }));
    }
    const ours = summarizeOurs(oursRuns, jobDurationSeconds);
    const baseline = summarizeBaseline(baselineRuns);
    const transitionRatio = ratio(baseline.stateTransitions, ours.stateTransitions);
    rows.push({
      label: job.label,
      scenario: job.scenario.startsWith(projectRoot)
        ? job.scenario.slice(projectRoot.length + 1)
        : job.scenario,
      jobDurationSeconds,
      ours,
      baseline,
      transitionRatio: transitionRatio === null ? null : round(transitionRatio, 1),
    });

    if (job.label === '24 h') {
      variants = [];
      for (const pollMaxSeconds of pollMaxVariants) {
        options.log(`cost: 24 h job with pollMaxSeconds ${pollMaxSeconds}`);
        const runs: MonitorJobRun[] = [];
        for (const [index, seed] of seeds.entries()) {
          runs.push(
            await runMonitorJob(job.scenario, definition, {
              random: seededRandom(seed),
              startDelaySeconds: startDelaysSeconds[index] ?? 0,
              options: { pollMaxSeconds },
            }),
          );
        }
        const summary = summarizeOurs(runs, jobDurationSeconds);
        const variantRatio = ratio(baseline.stateTransitions, summary.stateTransitions);
        variants.push({
          pollMaxSeconds,
          stateTransitions: summary.stateTransitions,
          transitionRatio: variantRatio === null ? null : round(variantRatio, 1),
          detectionDelaySeconds: summary.detectionDelaySeconds,
        });
      }
    }
  }

  return {
    runs: options.runs,
    startDelaysSeconds,
    usdPerThousandTransitions,
    historyEventLimit,
    baselineWaitSeconds,
    baselineLongestJob: (() => {
      const longest = longestJobWithinLimit(baselineLoopShape);
      return { checks: longest.loops + 1, seconds: longest.seconds };
    })(),
    rows,
    pollMaxVariants: variants,
  };
}
