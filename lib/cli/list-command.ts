import { type ExecutionListItem, type ExecutionStatus, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { describeValue } from '../../lambdas/core/validation';
import {
  type AwsDependencies,
  callAws,
  type DeployedMonitor,
  defaultAwsDependencies,
  errorName,
  findDeployedMonitor,
  type StackOptions,
} from './aws';
import { ExitCode, UsageError } from './errors';
import { describeExecution, formatDate, generationOf } from './monitor-executions';
import type { CommandIo } from './run-command';

/** Options of `eodh-monitor list`, as commander parses them. */
export interface ListCommandOptions extends StackOptions {
  status?: string;
  json?: boolean;
  limit?: number;
}

/** One monitored job: its newest execution. */
export interface MonitorRow {
  jobId: string;
  /** Status of the newest execution, such as RUNNING or SUCCEEDED. */
  status: string;
  /** Start of the newest execution, as an ISO time, or null. */
  started: string | null;
  generation: number;
  execution: string;
  executionArn: string;
}

export const defaultListLimit = 50;

const statusNames: Record<string, ExecutionStatus> = {
  running: 'RUNNING',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  timed_out: 'TIMED_OUT',
  aborted: 'ABORTED',
  pending_redrive: 'PENDING_REDRIVE',
};

/** ListExecutions returns at most 1,000 executions per page. */
const listPageSize = 1_000;

/**
 * Lists monitored jobs, newest first, one row per job with its newest execution: job, status,
 * start and generation. The status is the execution's: SUCCEEDED means the monitor did its work
 * whatever the job's outcome, which `watch` prints.
 */
export async function listCommand(
  options: ListCommandOptions,
  io: CommandIo,
  deps: AwsDependencies = defaultAwsDependencies,
): Promise<number> {
  const status = parseStatus(options.status);
  const limit = options.limit ?? defaultListLimit;
  const monitor = await findDeployedMonitor(options, io.env, deps);
  const rows = await listMonitors(monitor, status, limit);

  if (options.json) {
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return ExitCode.ok;
  }
  if (rows.length === 0) {
    io.stdout.write(
      status === undefined ? 'no monitors found\n' : `no monitors with status ${status.toLowerCase()}\n`,
    );
    return ExitCode.ok;
  }
  io.stdout.write(formatTable(rows));
  return ExitCode.ok;
}

function parseStatus(value: string | undefined): ExecutionStatus | undefined {
  if (value === undefined) return undefined;
  const status = statusNames[value.trim().toLowerCase()];
  if (status === undefined) {
    throw new UsageError(
      `invalid --status ${describeValue(value)}: expected one of ${Object.keys(statusNames).join(', ')}`,
    );
  }
  return status;
}

/**
 * Reads executions newest first and keeps each job's newest one, until `limit` jobs are found.
 * Generations are grouped by name (`parseExecutionName`), so only hashed names cost a request.
 * Only a job's newest generation can be running, so Step Functions filters `running` itself.
 * Any other status is compared with each job's newest execution here. A job whose earlier
 * generation handed over (SUCCEEDED) while its current one runs is therefore not listed as succeeded.
 */
export async function listMonitors(
  monitor: DeployedMonitor,
  status: ExecutionStatus | undefined,
  limit: number,
): Promise<MonitorRow[]> {
  const seenJobs = new Set<string>();
  const rows: MonitorRow[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await callAws('states:ListExecutions', monitor.region, () =>
      monitor.sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: monitor.stateMachineArn,
          maxResults: listPageSize,
          nextToken: token,
          ...(status === 'RUNNING' ? { statusFilter: 'RUNNING' } : {}),
        }),
      ),
    );
    for (const item of page.executions ?? []) {
      const parsed = parseExecutionName(item.name ?? '');
      if (seenJobs.has(parsed.key)) continue;
      seenJobs.add(parsed.key);
      const itemStatus = item.status ?? 'RUNNING';
      if (status !== undefined && itemStatus !== status) continue;
      const identity = parsed.hashed ? await readIdentity(monitor, item, parsed) : parsed;
      rows.push({
        jobId: identity.jobId,
        status: itemStatus,
        started: item.startDate?.toISOString() ?? null,
        generation: identity.generation,
        execution: item.name ?? '',
        executionArn: item.executionArn ?? '',
      });
      if (rows.length >= limit) return rows;
    }
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return rows;
}

interface ParsedName {
  /** The name without `--g<n>`: the job ID, unless the name is shortened or cleaned. */
  jobId: string;
  generation: number;
  /** Groups the generations of one job. */
  key: string;
  /** Whether the name may end in the hash of a shortened or cleaned job ID. */
  hashed: boolean;
}

const hashedEnd = /-([0-9a-f]{12})$/;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads job and generation from an execution name without a request. A job ID over 80
 * characters, or with characters Step Functions rejects, is named by a shortened or cleaned
 * form ending in a 12-character hash of the ID, and the shortened part differs between
 * generations. Such names are grouped by that hash, and their job ID is read from the input.
 * UUIDs also end in 12 hexadecimal digits, so they are recognized first.
 * NOTE: a job ID that itself ends in `--g<n>` is read as a continuation of a shorter ID; EODH
 * job IDs are UUIDs, so this does not happen with EODH.
 */
export function parseExecutionName(name: string): ParsedName {
  const match = /^(.*?)(?:--g(\d{1,9}))?$/.exec(name);
  const base = match?.[1] ?? name;
  const generation = match?.[2] === undefined ? 0 : Number(match[2]);
  const hash = uuidPattern.test(base) ? undefined : hashedEnd.exec(base)?.[1];
  return hash === undefined
    ? { jobId: base, generation, key: base, hashed: false }
    : { jobId: base, generation, key: `#${hash}`, hashed: true };
}

/** Reads the job ID of an execution with a hashed name from its input, with DescribeExecution. */
async function readIdentity(
  monitor: DeployedMonitor,
  item: ExecutionListItem,
  parsed: ParsedName,
): Promise<{ jobId: string; generation: number }> {
  if (item.executionArn === undefined) return parsed;
  try {
    const described = await describeExecution(monitor, item.executionArn);
    const input = JSON.parse(described.input ?? '{}') as { jobId?: unknown };
    if (typeof input.jobId === 'string') {
      return {
        jobId: input.jobId,
        generation: generationOf(input.jobId, item.name ?? '') ?? parsed.generation,
      };
    }
  } catch (error) {
    // An execution that expired between the two calls, or an input that is not JSON, is shown by name.
    if (errorName(error) !== 'ExecutionDoesNotExist' && !(error instanceof SyntaxError)) throw error;
  }
  return parsed;
}

function formatTable(rows: readonly MonitorRow[]): string {
  const header = ['JOB', 'STATUS', 'STARTED', 'GENERATION'];
  const cells = rows.map((row) => [
    row.jobId,
    row.status,
    formatDate(row.started === null ? null : new Date(row.started)),
    String(row.generation),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((line) => (line[column] ?? '').length)),
  );
  const render = (line: string[]) =>
    line
      .map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ');
  return `${[header, ...cells].map(render).join('\n')}\n`;
}
