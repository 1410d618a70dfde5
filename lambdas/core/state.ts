import * as z from 'zod';

/**
 * The data that travels through the state machine. Every Task state's input and output is
 * defined here, so the CDK definition, the handlers and the local runtime agree on one shape.
 * Step Functions caps state data at 256 KB, so only small projections live here; documents
 * and lists go to the archive store.
 */

export const outcomes = ['succeeded', 'failed', 'dismissed', 'timed_out', 'monitor_error'] as const;
export type Outcome = (typeof outcomes)[number];

export const jobStatuses = [
  'accepted',
  'running',
  'paused',
  'successful',
  'failed',
  'dismissed',
  'unknown',
] as const;
export type JobStatus = (typeof jobStatuses)[number];

export const terminalStatuses: readonly JobStatus[] = ['successful', 'failed', 'dismissed'];

/** Monitoring options after defaults from configuration have been applied. */
export const monitorOptionsSchema = z.object({
  pollInitialSeconds: z.number().int().min(1).max(86_400),
  pollMaxSeconds: z.number().int().min(1).max(86_400),
  maxJobAgeHours: z.number().positive().max(8_760),
  /** Consecutive transient failures (network, timeout, 429, 5xx, bad JSON) before giving up. */
  transientErrorBudget: z.number().int().min(1).max(10_000),
  /** Consecutive 401/403 responses before giving up with "token rejected or job not found". */
  authErrorBudget: z.number().int().min(1).max(10_000),
  /** How long to keep re-checking a finished job whose log links have not appeared yet. */
  logWaitSeconds: z.number().int().min(0).max(3_600),
  /**
   * Minimum length of a run of transient failures before giving up, counted from its first
   * failure; the run must also exceed `transientErrorBudget`. Absent means 21,600 (6 h).
   */
  transientErrorBudgetSeconds: z.number().int().min(0).max(2_592_000).optional(),
  /** The same for 401/403 responses, with `authErrorBudget`. Absent means 172,800 (48 h). */
  authErrorBudgetSeconds: z.number().int().min(0).max(2_592_000).optional(),
  /** Checks in one execution before continuing in a new one. Absent means 500. */
  checksPerExecution: z.number().int().min(1).max(2_000).optional(),
  /** Hours without a status or progress change before one "job looks stuck" warning. Absent means 72. */
  stuckAfterHours: z.number().positive().max(8_760).optional(),
  /** Whether to dismiss (DELETE) the job when it passes `maxJobAgeHours`. Absent means false. */
  dismissOnTimeout: z.boolean().optional(),
});
export type MonitorOptions = z.infer<typeof monitorOptionsSchema>;

/** Execution input as a caller sends it (validated by `Validate input`). */
export interface MonitorInput {
  jobId: string;
  workspace: string;
  statusUrl?: string;
  options?: Partial<MonitorOptions>;
  carry?: Record<string, unknown>;
}

/** Output of `Validate input`, kept at `$.job` for the rest of the execution. */
export interface JobContext {
  jobId: string;
  workspace: string;
  statusUrl: string;
  options: MonitorOptions;
  /** ISO time the first execution for this job started. */
  monitorStartedAt: string;
  /** 0 for the first execution; continuation executions count up. */
  generation: number;
}

/** What `Job finished?` does next. */
export const nextSteps = ['wait', 'wait_for_logs', 'archive', 'give_up', 'continue'] as const;
export type NextStep = (typeof nextSteps)[number];

/** Reasons the monitor stops without a terminal job status. */
export const giveUpReasons = ['transient_errors', 'auth_rejected', 'job_age'] as const;
export type GiveUpReason = (typeof giveUpReasons)[number];

/** Kinds of warning, each sent once per job: a rejected token, a job that looks stuck. */
export const warningKinds = ['token_rejected', 'stuck'] as const;
export type WarningKind = (typeof warningKinds)[number];

/** Execution input that `Continue in new execution` starts the next generation with. */
export interface ContinuationInput {
  jobId: string;
  workspace: string;
  statusUrl: string;
  options: MonitorOptions;
  carry: {
    monitorStartedAt: string;
    generation: number;
    /** The last check, with `next: 'continue'`, so counters, budgets and warnings carry on. */
    check: CheckResult;
  };
}

/** `StartExecution` name and input of the next generation, set when `next` is `continue`. */
export interface Continuation {
  name: string;
  input: ContinuationInput;
}

/** Output of `Check job status`, kept at `$.check`: a small projection, never the whole document. */
export interface CheckResult {
  status: JobStatus;
  /** The status string as received, cut to 40 characters, or null when absent. */
  rawStatus: string | null;
  progress: number | null;
  /** First few hundred characters of the status message. */
  message: string | null;
  processId: string | null;
  created: string | null;
  started: string | null;
  finished: string | null;
  updated: string | null;
  resultsUrl: string | null;
  logUrls: number;
  /** Checks made for this job, across continuation executions. */
  checks: number;
  consecutiveTransientErrors: number;
  consecutiveAuthErrors: number;
  /** Last error in words, cut to a few hundred characters, or null after a good check. */
  lastError: string | null;
  lastCheckedAt: string;
  /** When a terminal status was first seen; the log-link wait window counts from here. */
  terminalSeenAt: string | null;
  next: NextStep;
  giveUpReason: GiveUpReason | null;
  /** Whole seconds until the next check, at least 1. */
  nextCheckSeconds: number;
  /** Checks made in this execution; a new generation starts again at 1. */
  checksThisExecution?: number;
  /** ISO time of the first failure in the current run of transient failures, or null. */
  transientErrorsSince?: string | null;
  /** ISO time of the first 401/403 in the current run of them, or null. */
  authErrorsSince?: string | null;
  /** ISO time the status or progress last changed (or was first seen), for stuck detection. */
  lastChangeAt?: string | null;
  /** Warnings already published for this job, across generations. */
  warningsSent?: WarningKind[];
  /** Whether a DELETE of the job was requested, and how it went; only set when giving up on age. */
  dismissal?: 'dismissed' | 'failed' | null;
  /** Set when `next` is `continue`. */
  continuation?: Continuation | null;
}

/** Input of `Check job status`. */
export interface CheckInput {
  job: JobContext;
  previous: CheckResult | null;
  /** `$$.Execution.Name`, for log lines. */
  execution?: string;
  /** `$$.Execution.Id`, the execution ARN. */
  executionArn?: string;
}

/** Output of `Validate input`; replaces the whole state. */
export interface MonitorState {
  job: JobContext;
  check: CheckResult | null;
  plan: PlanSummary | null;
  archive: BatchSummary[] | null;
}

/** A file that could not be archived, with the reason in words. */
export interface ArchiveFailure {
  key: string;
  url: string;
  reason: string;
}

/** Output of `Plan archive`, kept at `$.plan`. */
export interface PlanSummary {
  /** Archive location of the job, such as `s3://bucket/prefix/ws/job/` or a directory path. */
  archiveUri: string;
  planKey: string;
  /** Batch indices for the `Archive artifacts` Map state. */
  batches: number[];
  files: number;
  /** Documents (status, results, items) written by the planner itself. */
  documentsArchived: number;
  documentBytes: number;
  /** Problems found while planning (results or item documents not fetched), at most 20. */
  failures: ArchiveFailure[];
  failureCount: number;
}

/** Input of `Archive batch` (one Map iteration). */
export interface BatchInput {
  job: JobContext;
  batch: number;
}

/** Output of `Archive batch`; the Map state collects them at `$.archive`. */
export interface BatchSummary {
  batch: number;
  filesArchived: number;
  filesSkipped: number;
  bytesArchived: number;
  filesFailed: number;
  /** At most 20 failures per batch; `filesFailed` has the full count. */
  failures: ArchiveFailure[];
}

/** Input of `Publish outcome`. */
export interface PublishInput {
  job: JobContext;
  check: CheckResult | null;
  plan: PlanSummary | null;
  archive: BatchSummary[] | null;
  /** `$$.Execution.Name`. */
  execution?: string;
  /** `$$.Execution.Id`, the execution ARN. */
  executionArn?: string;
}

/** Input of `Publish monitor failure`: the whole state as it was, plus the caught error. */
export interface MonitorFailureInput {
  failure: true;
  state: Record<string, unknown>;
  executionInput: unknown;
  executionName: string;
  /** `$$.Execution.Name`, the same value as `executionName`. */
  execution?: string;
  /** `$$.Execution.Id`, the execution ARN. */
  executionArn?: string;
}

/** Output of `Publish outcome` and `Publish monitor failure`, kept at `$.outcome`. */
export interface OutcomeSummary {
  outcome: Outcome;
  subject: string;
  archiveUri: string | null;
  filesArchived: number;
  bytesArchived: number;
  filesFailed: number;
  /** SNS message ID, or null when no topic is configured (local runs without SNS). */
  messageId: string | null;
}
