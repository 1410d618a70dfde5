import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ListExecutionsCommand,
} from '@aws-sdk/client-sfn';
import { executionName } from '../../lambdas/core/execution-name';
import { callAws, type DeployedMonitor, errorName } from './aws';

/**
 * The executions that monitor one job. Generation 0 is named after the job ID; each
 * continuation, and each re-run started with `start --force`, takes the next generation and
 * the name `executionName(jobId, generation)`, so the highest generation is the current monitor.
 */

/** One execution of the monitor for a job. */
export interface JobExecution {
  name: string;
  executionArn: string;
  generation: number;
  /** Step Functions execution status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE. */
  status: string;
  startDate: Date | null;
  stopDate: Date | null;
}

/** ListExecutions returns at most 1,000 executions per page. */
const listPageSize = 1_000;

/** Builds the ARN of a named execution of a state machine (same partition, region and account). */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/**
 * Returns the generation of a job's execution from its name, or null when the name does not
 * belong to the job. The name must be exactly `executionName(jobId, generation)`, so another job
 * whose ID starts with this one never matches.
 */
export function generationOf(jobId: string, name: string): number | null {
  if (executionName(jobId, 0) === name) return 0;
  const match = /--g(\d{1,9})$/.exec(name);
  if (match === null) return null;
  const generation = Number(match[1]);
  return generation > 0 && executionName(jobId, generation) === name ? generation : null;
}

/** Returns the job's executions sorted by generation, or an empty list when it was never monitored. */
export async function findJobExecutions(monitor: DeployedMonitor, jobId: string): Promise<JobExecution[]> {
  const baseName = executionName(jobId, 0);
  let first: DescribeExecutionCommandOutput;
  try {
    first = await describeExecution(monitor, executionArnOf(monitor.stateMachineArn, baseName));
  } catch (error) {
    if (errorName(error) === 'ExecutionDoesNotExist') return [];
    throw error;
  }
  const base: JobExecution = {
    name: baseName,
    executionArn: first.executionArn ?? executionArnOf(monitor.stateMachineArn, baseName),
    generation: 0,
    status: first.status ?? 'RUNNING',
    startDate: first.startDate ?? null,
    stopDate: first.stopDate ?? null,
  };
  const later = await listJobExecutions(monitor, jobId, base);
  return [base, ...later.filter((execution) => execution.generation > 0)];
}

/**
 * Lists the job's executions newer than `since`, sorted by generation. ListExecutions returns
 * the most recent execution first, so paging stops at `since` (or at anything started before
 * it) instead of reading the whole history of a busy state machine.
 */
export async function listJobExecutions(
  monitor: DeployedMonitor,
  jobId: string,
  since: JobExecution,
): Promise<JobExecution[]> {
  const found = new Map<string, JobExecution>();
  let nextToken: string | undefined;
  let reachedSince = false;
  do {
    const token = nextToken;
    const page = await callAws('states:ListExecutions', monitor.region, () =>
      monitor.sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: monitor.stateMachineArn,
          maxResults: listPageSize,
          nextToken: token,
        }),
      ),
    );
    for (const item of page.executions ?? []) {
      const name = item.name ?? '';
      if (name === since.name) reachedSince = true;
      if (since.startDate !== null && item.startDate !== undefined && item.startDate < since.startDate) {
        reachedSince = true;
      }
      const generation = generationOf(jobId, name);
      if (generation === null || generation < since.generation || name === since.name) continue;
      found.set(name, {
        name,
        executionArn: item.executionArn ?? executionArnOf(monitor.stateMachineArn, name),
        generation,
        status: item.status ?? 'RUNNING',
        startDate: item.startDate ?? null,
        stopDate: item.stopDate ?? null,
      });
    }
    nextToken = page.nextToken;
  } while (nextToken !== undefined && !reachedSince);
  return [...found.values()].sort((a, b) => a.generation - b.generation);
}

/** Describes one execution; `ExecutionDoesNotExist` is rethrown unchanged for the caller. */
export function describeExecution(
  monitor: DeployedMonitor,
  executionArn: string,
): Promise<DescribeExecutionCommandOutput> {
  return callAws(
    'states:DescribeExecution',
    monitor.region,
    () => monitor.sfn.send(new DescribeExecutionCommand({ executionArn })),
    ['ExecutionDoesNotExist'],
  );
}

/** Formats a time as "2026-11-30 09:12:04 UTC", or "-" when unknown. */
export function formatDate(date: Date | null | undefined): string {
  if (date === null || date === undefined || Number.isNaN(date.getTime())) return '-';
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
