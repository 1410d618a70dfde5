import { StateMachine } from 'aws-local-stepfunctions';
import type { GuardedFetch } from '../../lambdas/core/ports';
import type { AslDefinition } from '../../lib/definition';
import type { VirtualClock } from '../../lib/local/virtual-clock';
import { eventsPerExecution, eventsPerVisit, historyEventLimit, type LoopShape, shapeOf } from './history';

/**
 * The baseline: a fixed-interval poller with the shape of AWS's job poller sample. It waits a
 * fixed 30 s, checks the job with a Lambda function, and decides in a Choice state whether to
 * wait again, all in one execution with no continuation. Its own state names; no archive step.
 */

export const baselineWaitSeconds = 30;

export const BaselineState = {
  getJobStatus: 'Get job status',
  jobComplete: 'Job complete?',
  wait: 'Wait 30 seconds',
  getFinalJobStatus: 'Get final job status',
  jobSucceeded: 'Job succeeded',
  jobFailed: 'Job failed',
} as const;

const lambdaArn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;

export const baselineDefinition: AslDefinition = {
  Comment: 'Fixed-interval job poller: check, decide, wait 30 s, check again',
  StartAt: BaselineState.getJobStatus,
  States: {
    [BaselineState.getJobStatus]: {
      Type: 'Task',
      Resource: lambdaArn('get-job-status'),
      Next: BaselineState.jobComplete,
    },
    [BaselineState.jobComplete]: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.status', StringEquals: 'successful', Next: BaselineState.getFinalJobStatus },
        {
          Or: [
            { Variable: '$.status', StringEquals: 'failed' },
            { Variable: '$.status', StringEquals: 'dismissed' },
          ],
          Next: BaselineState.jobFailed,
        },
      ],
      Default: BaselineState.wait,
    },
    [BaselineState.wait]: { Type: 'Wait', Seconds: baselineWaitSeconds, Next: BaselineState.getJobStatus },
    [BaselineState.getFinalJobStatus]: {
      Type: 'Task',
      Resource: lambdaArn('get-final-job-status'),
      Next: BaselineState.jobSucceeded,
    },
    [BaselineState.jobSucceeded]: { Type: 'Succeed' },
    [BaselineState.jobFailed]: { Type: 'Fail', Error: 'JobFailed', Cause: 'The job failed or was dismissed' },
  },
};

/** The baseline's loop, for computing where it meets the history limit. */
export const baselineLoopShape: LoopShape = {
  prefix: ['Task', 'Choice'],
  loop: ['Wait', 'Task', 'Choice'],
  suffix: ['Task', 'Succeed'],
  waitSeconds: baselineWaitSeconds,
};

export interface BaselineRun {
  /** `FAILED` when the job failed or the history passed the limit, where AWS fails the execution. */
  executionStatus: 'SUCCEEDED' | 'FAILED';
  /** Whether the run stopped because its modelled history passed 25,000 events. */
  stoppedAtHistoryLimit: boolean;
  statesEntered: string[];
  lambdaInvocations: number;
  /** Virtual time (ms) of the first check that saw the job finished, or null. */
  detectedAt: number | null;
  /** Virtual time (ms) when the run ended: the job's end was seen, or the history limit was passed. */
  endedAt: number;
}

const terminal = new Set(['successful', 'failed', 'dismissed']);
const shape = shapeOf(baselineDefinition);

/**
 * Runs the baseline on the local engine against a status URL, in virtual time. The Wait state
 * is instant, and each check after the first moves the clock by 30 s first, as the runtime does
 * for the monitor's own waits. The Lambda functions GET the status document and return its
 * `status`. When the history, counted with the model, passes the limit, the run is aborted and
 * reported as failed, because that is where Step Functions fails the execution.
 */
export async function runBaseline(options: {
  statusUrl: string;
  fetch: GuardedFetch;
  clock: VirtualClock;
}): Promise<BaselineRun> {
  let lambdaInvocations = 0;
  let detectedAt: number | null = null;
  const getStatus = async (): Promise<{ status: string }> => {
    lambdaInvocations += 1;
    const response = await options.fetch(options.statusUrl, { accept: 'application/json' });
    const document = (await response.json()) as { status?: unknown };
    const status = typeof document.status === 'string' ? document.status : 'unknown';
    if (detectedAt === null && terminal.has(status)) detectedAt = options.clock.now();
    return { status };
  };

  let checks = 0;
  const machine = new StateMachine(baselineDefinition as never, { validationOptions: { checkArn: false } });
  const execution = machine.run(
    {},
    {
      overrides: {
        taskResourceLocalHandlers: {
          [BaselineState.getJobStatus]: async () => {
            if (checks > 0) options.clock.advance(baselineWaitSeconds);
            checks += 1;
            return getStatus();
          },
          [BaselineState.getFinalJobStatus]: () => getStatus(),
        },
        waitTimeOverrides: { [BaselineState.wait]: 0 },
      },
    },
  );

  const statesEntered: string[] = [];
  let stoppedAtHistoryLimit = false;
  const counting = (async () => {
    // The ExecutionFailed event that ends an execution at the limit counts too.
    let events = eventsPerExecution;
    for await (const event of execution.eventLogs) {
      if (event.type !== 'StateEntered') continue;
      statesEntered.push(event.state.name);
      events += eventsPerVisit[shape.kindOf.get(event.state.name) ?? 'Task'];
      if (events > historyEventLimit && !stoppedAtHistoryLimit) {
        stoppedAtHistoryLimit = true;
        execution.abort();
      }
    }
  })();
  let executionStatus: BaselineRun['executionStatus'] = 'SUCCEEDED';
  try {
    await execution.result;
  } catch {
    executionStatus = 'FAILED';
  }
  await counting;
  return {
    executionStatus,
    stoppedAtHistoryLimit,
    statesEntered,
    lambdaInvocations,
    detectedAt,
    endedAt: options.clock.now(),
  };
}

/** Counts of a fixed-interval poller over a whole job, computed rather than run. */
export interface PollerProjection {
  checks: number;
  stateTransitions: number;
  lambdaInvocations: number;
  detectionDelaySeconds: number;
  /** History events of the one execution, with the model. */
  historyEvents: number;
}

/**
 * Computes the baseline's counts for a job that succeeds `jobSeconds` after submission when its
 * first check runs `startDelaySeconds` after submission. It checks every 30 s until a check
 * finds the job finished, then runs the final status check and the Succeed state. The bench
 * uses it to cross-check engine runs and to count a run stopped by the history limit to the
 * job's end.
 */
export function projectBaseline(jobSeconds: number, startDelaySeconds: number): PollerProjection {
  const waits = Math.max(0, Math.ceil((jobSeconds - startDelaySeconds) / baselineWaitSeconds));
  const checks = waits + 1;
  const states = [
    ...baselineLoopShape.prefix,
    ...Array.from({ length: waits }, () => baselineLoopShape.loop).flat(),
    ...baselineLoopShape.suffix,
  ];
  return {
    checks,
    stateTransitions: states.length,
    lambdaInvocations: checks + 1,
    detectionDelaySeconds: startDelaySeconds + waits * baselineWaitSeconds - jobSeconds,
    historyEvents: states.reduce((sum, kind) => sum + eventsPerVisit[kind], eventsPerExecution),
  };
}
