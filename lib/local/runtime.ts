import { StateMachine } from 'aws-local-stepfunctions';
import type { MonitorLogger } from '../../lambdas/adapters/powertools';
import { silentLogger } from '../../lambdas/adapters/powertools';
import { createArchiveArtifactsHandler } from '../../lambdas/archive-artifacts';
import { createCheckStatusHandler } from '../../lambdas/check-status';
import { defaultRetryPolicy, type RetryPolicy } from '../../lambdas/core/concurrency';
import type { MonitorConfig } from '../../lambdas/core/config';
import type { ArchiveStore, Clock, GuardedFetch, Notifier } from '../../lambdas/core/ports';
import type {
  CheckInput,
  CheckResult,
  ContinuationInput,
  OutcomeSummary,
  PlanSummary,
} from '../../lambdas/core/state';
import { createPlanArchiveHandler } from '../../lambdas/plan-archive';
import { createPublishOutcomeHandler } from '../../lambdas/publish-outcome';
import { createValidateInputHandler, type ValidateInputEvent } from '../../lambdas/validate-input';
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
  /** Receives outcome messages and warnings; null drops them. */
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
  /**
   * Most executions one run may chain through `Continue in new execution`, as a guard against a
   * handover loop. @default 1000, which at 500 checks per execution is 500,000 checks
   */
  maxExecutions?: number;
}

/** Counts from what the local engine actually executed, over every execution of the run. */
export interface LocalRunStats {
  checks: number;
  stateTransitions: number;
  /** Task invocations of the monitor's functions, retries included. */
  lambdaInvocations: number;
  executions: number;
  /**
   * History events of all executions, as Step Functions would record them: the engine's
   * events plus 3 per Task attempt (scheduled, started, succeeded or failed), which the engine
   * folds into its entered and exited events. An estimate, not a replay of AWS's history.
   */
  historyEvents: number;
  /** `historyEvents` of the largest execution; Step Functions fails one at 25,000. */
  maxHistoryEvents: number;
  /** Largest state a state passed on (a StateExited output), in bytes of JSON; Step Functions allows 256 KiB. */
  maxStateBytes: number;
  /** Messages sent to the notifier, by their `outcome` attribute (`warning` for warnings). */
  notifications: Record<string, number>;
}

export interface LocalRunResult {
  /** `SUCCEEDED` or `FAILED`, as the last Step Functions execution would end. */
  executionStatus: 'SUCCEEDED' | 'FAILED';
  /** The published outcome, or null when even the failure publisher failed. */
  outcome: OutcomeSummary | null;
  lastCheck: CheckResult | null;
  plan: PlanSummary | null;
  /** Names of the states entered, in order, across executions (Map iterations interleave). */
  statesEntered: string[];
  /** Names of the executions run, in order: the job ID, then `<jobId>--g1`, ... */
  executionNames: string[];
  /** Error name and message of the last execution when it failed. */
  error: { name: string; message: string } | null;
  stats: LocalRunStats;
}

type TaskHandler = (input: never) => Promise<unknown>;

/** Name and input of the next execution, as `Continue in new execution` requested them. */
interface Handover {
  name: string;
  input: ContinuationInput;
}

const localStateMachineArn = 'arn:aws:states:local:000000000000:stateMachine:EodhJobMonitor';

/** Engines by definition: validating the definition takes about 0.6 s, so each is built once. */
const machines = new WeakMap<LocalDefinition, StateMachine>();

function stateMachineFor(definition: LocalDefinition): StateMachine {
  let machine = machines.get(definition);
  if (machine === undefined) {
    machine = new StateMachine(definition.definition as never, { validationOptions: { checkArn: false } });
    machines.set(definition, machine);
  }
  return machine;
}

function executionArnOf(name: string): string {
  return `arn:aws:states:local:000000000000:execution:EodhJobMonitor:${name}`;
}

/** Wraps the notifier so every message is counted by its `outcome` attribute. */
function countingNotifier(notifier: Notifier | null, counts: Record<string, number>): Notifier {
  return {
    async publish(message) {
      const result = notifier === null ? { messageId: null } : await notifier.publish(message);
      const kind = message.attributes.outcome;
      counts[kind] = (counts[kind] ?? 0) + 1;
      return result;
    },
  };
}

/**
 * Runs the synthesized state machine definition in this process with `aws-local-stepfunctions`,
 * every Task state overridden by the handler built from the same factory the Lambda uses.
 * `Continue in new execution` is overridden too: the next generation runs in this process
 * once the current execution has ended, as Step Functions would start it.
 */
export async function runLocalMonitor(options: LocalRunOptions): Promise<LocalRunResult> {
  const logger = options.logger ?? silentLogger;
  const random = options.random ?? Math.random;
  const virtual = options.clock instanceof VirtualClock ? options.clock : null;
  const maxExecutions = options.maxExecutions ?? 1_000;
  const stats: LocalRunStats = {
    checks: 0,
    stateTransitions: 0,
    lambdaInvocations: 0,
    executions: 0,
    historyEvents: 0,
    maxHistoryEvents: 0,
    maxStateBytes: 0,
    notifications: {},
  };
  let lastCheck: CheckResult | null = null;
  let plan: PlanSummary | null = null;
  let outcome: OutcomeSummary | null = null;
  let handover: Handover | null = null;
  let taskAttempts = 0;
  const statesEntered: string[] = [];
  const executionNames: string[] = [];
  const notifier = countingNotifier(options.notifier, stats.notifications);

  // In virtual time the archive steps' retry delays move the clock instead of waiting.
  const retry: RetryPolicy | undefined = virtual
    ? { ...defaultRetryPolicy, sleep: async (milliseconds) => virtual.advance(milliseconds / 1000) }
    : undefined;
  const validateInput = createValidateInputHandler({ config: options.config, logger });
  const checkStatus = createCheckStatusHandler({
    fetch: options.fetch,
    clock: options.clock,
    random,
    logger,
    notifier: options.notifier === null ? null : notifier,
    tokenSecretName: options.config.tokenSecretName,
  });
  const publish = createPublishOutcomeHandler({
    store: options.store,
    notifier: options.notifier === null ? null : notifier,
    clock: options.clock,
    logger,
    region: options.region,
    tokenSecretName: options.config.tokenSecretName,
  });
  const handlers: Record<MonitorFunctionName, TaskHandler> = {
    validateInput: (async (event: ValidateInputEvent) => {
      // The engine sets $$.Execution.StartTime from the real clock; in virtual time the
      // execution starts at the virtual now, so carried start times stay in order.
      const executionStartTime = virtual ? new Date(virtual.now()).toISOString() : event.executionStartTime;
      return validateInput({ ...event, executionStartTime });
    }) as TaskHandler,
    checkStatus: (async (input: CheckInput) => {
      // Both wait states are instant in virtual time; the clock moves by the wait they stood
      // for. A carried check (next: continue) was followed by a handover, not by a wait.
      const waited = input.previous?.next === 'wait' || input.previous?.next === 'wait_for_logs';
      if (virtual && input.previous && waited) virtual.advance(input.previous.nextCheckSeconds);
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
    publishOutcome: (async (input: Parameters<typeof publish>[0]) => {
      outcome = await publish(input);
      return outcome;
    }) as TaskHandler,
  };

  const taskResourceLocalHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [stateName, functionName] of Object.entries(options.definition.taskFunctions)) {
    const handler = handlers[functionName];
    taskResourceLocalHandlers[stateName] = async (input) => {
      stats.lambdaInvocations += 1;
      taskAttempts += 1;
      return (await handler(input as never)) as JsonValue;
    };
    // Lambda service retries never happen in-process; keep a retried handler error instant.
    retryIntervalOverrides[stateName] = 0;
  }
  taskResourceLocalHandlers[StateName.continueInNewExecution] = async (input) => {
    taskAttempts += 1;
    const request = input as unknown as { Name: string; Input: ContinuationInput };
    handover = { name: request.Name, input: request.Input };
    return {
      ExecutionArn: executionArnOf(request.Name),
      StartDate: new Date(options.clock.now()).toISOString(),
    } as JsonValue;
  };
  retryIntervalOverrides[StateName.continueInNewExecution] = 0;
  const waitTimeOverrides: Record<string, number> = virtual
    ? { [StateName.waitForNextCheck]: 0, [StateName.waitForLogLinks]: 0 }
    : {};
  const machine = stateMachineFor(options.definition);

  let input: unknown = options.input;
  let name = options.executionName;
  let error: LocalRunResult['error'] = null;
  let executionStatus: LocalRunResult['executionStatus'] = 'SUCCEEDED';
  for (;;) {
    stats.executions += 1;
    executionNames.push(name);
    handover = null;
    taskAttempts = 0;
    let events = 0;

    const execution = machine.run(input as JsonValue, {
      overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
      context: {
        Execution: {
          Id: executionArnOf(name),
          Name: name,
          StartTime: new Date(options.clock.now()).toISOString(),
          Input: input as JsonValue,
        },
        StateMachine: { Id: localStateMachineArn, Name: 'EodhJobMonitor' },
      },
    });
    const counting = (async () => {
      for await (const event of execution.eventLogs) {
        events += 1;
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

    error = null;
    executionStatus = 'SUCCEEDED';
    try {
      await execution.result;
    } catch (caught) {
      executionStatus = 'FAILED';
      const failure = caught as Error & { cause?: { name?: string } };
      error = { name: failure.cause?.name ?? failure.name, message: failure.message };
    }
    await counting;

    const historyEvents = events + 3 * taskAttempts;
    stats.historyEvents += historyEvents;
    stats.maxHistoryEvents = Math.max(stats.maxHistoryEvents, historyEvents);

    const next = handover as Handover | null;
    if (executionStatus !== 'SUCCEEDED' || next === null) break;
    if (stats.executions >= maxExecutions) {
      throw new Error(
        `stopped after ${maxExecutions} executions: the monitor kept continuing in new executions; raise checksPerExecution or maxExecutions`,
      );
    }
    input = next.input;
    name = next.name;
  }

  return { executionStatus, outcome, lastCheck, plan, statesEntered, executionNames, error, stats };
}
