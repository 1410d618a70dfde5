import { StateMachine } from 'aws-local-stepfunctions';
import type { MonitorLogger } from '../../lambdas/adapters/powertools';
import { silentLogger } from '../../lambdas/adapters/powertools';
import { createArchiveArtifactsHandler } from '../../lambdas/archive-artifacts';
import { createCheckStatusHandler } from '../../lambdas/check-status';
import { defaultRetryPolicy, type RetryPolicy } from '../../lambdas/core/concurrency';
import type { MonitorConfig } from '../../lambdas/core/config';
import type { ArchiveStore, Clock, GuardedFetch, Notifier } from '../../lambdas/core/ports';
import type { CheckInput, CheckResult, OutcomeSummary, PlanSummary } from '../../lambdas/core/state';
import { createPlanArchiveHandler } from '../../lambdas/plan-archive';
import { createPublishOutcomeHandler } from '../../lambdas/publish-outcome';
import { createValidateInputHandler } from '../../lambdas/validate-input';
import type { MonitorFunctionName } from '../monitor-functions';
import { StateName } from '../state-names';
import type { LocalDefinition } from './definition';
import type { ProgressEvent } from './progress';
import { VirtualClock } from './virtual-clock';

type JsonValue = Parameters<StateMachine['run']>[0];

/** Everything one local monitoring run needs; the CLI and the tests build it. */
export interface LocalRunOptions {
  /** The execution input, exactly as `StartExecution` would receive it. */
  input: unknown;
  /** Execution name; on AWS the job ID. */
  executionName: string;
  definition: LocalDefinition;
  config: MonitorConfig;
  fetch: GuardedFetch;
  store: ArchiveStore;
  notifier: Notifier | null;
  /**
   * A `VirtualClock` makes every wait instant and moves the clock instead; any other clock
   * means real waits.
   */
  clock: Clock;
  random?: () => number;
  logger?: MonitorLogger;
  onProgress?: (event: ProgressEvent) => void;
  /** AWS region for console links in messages. */
  region?: string;
}

/** Counts from what the local engine actually executed. */
export interface LocalRunStats {
  checks: number;
  stateTransitions: number;
  lambdaInvocations: number;
  executions: number;
  historyEvents: number;
  /** Largest state a state passed on (a StateExited output), in bytes of JSON; Step Functions allows 256 KiB. */
  maxStateBytes: number;
}

export interface LocalRunResult {
  /** `SUCCEEDED` or `FAILED`, as the Step Functions execution would end. */
  executionStatus: 'SUCCEEDED' | 'FAILED';
  /** The published outcome, or null when even the failure publisher failed. */
  outcome: OutcomeSummary | null;
  lastCheck: CheckResult | null;
  plan: PlanSummary | null;
  /** Names of the states entered, in order (Map iterations interleave). */
  statesEntered: string[];
  /** Fail state error and cause when the execution failed. */
  error: { name: string; message: string } | null;
  stats: LocalRunStats;
}

type TaskHandler = (input: never) => Promise<unknown>;

/**
 * Runs the synthesized state machine definition in this process with `aws-local-stepfunctions`,
 * every Task state overridden by the handler built from the same factory the Lambda uses.
 */
export async function runLocalMonitor(options: LocalRunOptions): Promise<LocalRunResult> {
  const logger = options.logger ?? silentLogger;
  const random = options.random ?? Math.random;
  const virtual = options.clock instanceof VirtualClock ? options.clock : null;
  const stats: LocalRunStats = {
    checks: 0,
    stateTransitions: 0,
    lambdaInvocations: 0,
    executions: 1,
    historyEvents: 0,
    maxStateBytes: 0,
  };
  let lastCheck: CheckResult | null = null;
  let plan: PlanSummary | null = null;
  let outcome: OutcomeSummary | null = null;
  const statesEntered: string[] = [];

  // In virtual time the archive steps' retry delays move the clock instead of waiting.
  const retry: RetryPolicy | undefined = virtual
    ? { ...defaultRetryPolicy, sleep: async (milliseconds) => virtual.advance(milliseconds / 1000) }
    : undefined;
  const checkStatus = createCheckStatusHandler({
    fetch: options.fetch,
    clock: options.clock,
    random,
    logger,
  });
  const handlers: Record<MonitorFunctionName, TaskHandler> = {
    validateInput: createValidateInputHandler({ config: options.config, logger }) as TaskHandler,
    checkStatus: (async (input: CheckInput) => {
      // Both wait states are instant in virtual time; the clock moves by the wait they stood for.
      if (virtual && input.previous) virtual.advance(input.previous.nextCheckSeconds);
      const check = await checkStatus(input);
      stats.checks += 1;
      lastCheck = check;
      options.onProgress?.({ kind: 'check', check });
      return check;
    }) as TaskHandler,
    planArchive: (async (input: Parameters<ReturnType<typeof createPlanArchiveHandler>>[0]) => {
      const summary = await createPlanArchiveHandler({
        fetch: options.fetch,
        store: options.store,
        clock: options.clock,
        logger,
        ...(retry === undefined ? {} : { retry }),
      })(input);
      plan = summary;
      options.onProgress?.({ kind: 'archive', files: summary.files, batches: summary.batches.length });
      return summary;
    }) as TaskHandler,
    archiveArtifacts: createArchiveArtifactsHandler({
      fetch: options.fetch,
      store: options.store,
      logger,
      ...(retry === undefined ? {} : { retry }),
    }) as TaskHandler,
    publishOutcome: (async (input: Parameters<ReturnType<typeof createPublishOutcomeHandler>>[0]) => {
      outcome = await createPublishOutcomeHandler({
        store: options.store,
        notifier: options.notifier,
        clock: options.clock,
        logger,
        region: options.region,
      })(input);
      return outcome;
    }) as TaskHandler,
  };

  const taskResourceLocalHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [stateName, functionName] of Object.entries(options.definition.taskFunctions)) {
    const handler = handlers[functionName];
    taskResourceLocalHandlers[stateName] = async (input) => {
      stats.lambdaInvocations += 1;
      return (await handler(input as never)) as JsonValue;
    };
    // Lambda service retries never happen in-process; keep a retried handler error instant.
    retryIntervalOverrides[stateName] = 0;
  }
  const waitTimeOverrides: Record<string, number> = virtual
    ? { [StateName.waitForNextCheck]: 0, [StateName.waitForLogLinks]: 0 }
    : {};

  const machine = new StateMachine(options.definition.definition as never, {
    validationOptions: { checkArn: false },
  });
  const startTime = new Date(options.clock.now()).toISOString();
  const execution = machine.run(options.input as JsonValue, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    context: {
      Execution: {
        Id: `arn:aws:states:local:000000000000:execution:EodhJobMonitor:${options.executionName}`,
        Name: options.executionName,
        StartTime: startTime,
        Input: options.input as JsonValue,
      },
    },
  });

  const counting = (async () => {
    for await (const event of execution.eventLogs) {
      stats.historyEvents += 1;
      if (event.type === 'StateExited') {
        const bytes = Buffer.byteLength(JSON.stringify(event.state.output) ?? '', 'utf8');
        stats.maxStateBytes = Math.max(stats.maxStateBytes, bytes);
      }
      if (event.type === 'StateEntered') {
        stats.stateTransitions += 1;
        statesEntered.push(event.state.name);
        options.onProgress?.({ kind: 'state', name: event.state.name });
      }
    }
  })();

  let error: LocalRunResult['error'] = null;
  let executionStatus: LocalRunResult['executionStatus'] = 'SUCCEEDED';
  try {
    await execution.result;
  } catch (caught) {
    executionStatus = 'FAILED';
    const failure = caught as Error & { cause?: { name?: string } };
    error = { name: failure.cause?.name ?? failure.name, message: failure.message };
  }
  await counting;

  return { executionStatus, outcome, lastCheck, plan, statesEntered, error, stats };
}
