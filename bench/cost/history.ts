import type { AslDefinition, AslState } from '../../lib/definition';

/**
 * A model of the execution history Step Functions (Standard) records, per kind of state. The
 * local engine's events are not AWS history events (it folds each Lambda call into one entered
 * and one exited event), so both state machines are counted with this one model.
 *
 * Per state visit:
 * - Task: 5 (TaskStateEntered, LambdaFunctionScheduled, LambdaFunctionStarted,
 *   LambdaFunctionSucceeded, TaskStateExited). Service integrations such as StartExecution
 *   record TaskScheduled, TaskStarted and TaskSucceeded in place of the Lambda events, also 5.
 *   A failed attempt that a Retrier repeats adds 3 (scheduled, started, failed).
 * - Wait, Choice, Pass, Succeed: 2 (entered, exited).
 * - Fail: 1 (FailStateEntered); the execution's own failure event is counted below.
 * - Map: 4 for the state itself (MapStateEntered, MapStateStarted, MapStateSucceeded,
 *   MapStateExited), plus 2 per iteration (MapIterationStarted, MapIterationSucceeded), plus
 *   the events of the states each iteration runs, counted by their own kinds.
 * - Parallel: 4 (ParallelStateEntered, ParallelStateStarted, ParallelStateSucceeded,
 *   ParallelStateExited), plus the events of the branches' states.
 * Per execution: ExecutionStarted, and ExecutionSucceeded or ExecutionFailed.
 *
 * NOTE: this is a model from the documented event types, not a replay of AWS's history. It
 * leaves out events that only some runs record (timeouts, aborts, heartbeats).
 */

export type StateKind = 'Task' | 'Wait' | 'Choice' | 'Pass' | 'Succeed' | 'Fail' | 'Map' | 'Parallel';

const stateKinds: readonly StateKind[] = [
  'Task',
  'Wait',
  'Choice',
  'Pass',
  'Succeed',
  'Fail',
  'Map',
  'Parallel',
];

export const eventsPerVisit: Readonly<Record<StateKind, number>> = {
  Task: 5,
  Wait: 2,
  Choice: 2,
  Pass: 2,
  Succeed: 2,
  Fail: 1,
  Map: 4,
  Parallel: 4,
};

export const eventsPerMapIteration = 2;
export const eventsPerRetriedAttempt = 3;
export const eventsPerExecution = 2;

/** Step Functions fails a Standard execution whose history reaches more than this many events. */
export const historyEventLimit = 25_000;

/** The states one execution entered, as the model counts them. */
export interface ExecutionTrace {
  /** Kind of every state entered, in order, states inside Map iterations and Parallel branches included. */
  states: readonly StateKind[];
  mapIterations: number;
  /** Task attempts that failed and were retried. */
  retriedAttempts: number;
}

/** Returns the history events one execution records under the model. */
export function historyEvents(trace: ExecutionTrace): number {
  let events = eventsPerExecution;
  for (const kind of trace.states) {
    events += eventsPerVisit[kind];
  }
  return (
    events + trace.mapIterations * eventsPerMapIteration + trace.retriedAttempts * eventsPerRetriedAttempt
  );
}

/** Shape of a definition for the model: each state's kind and where Map iterations start. */
export interface DefinitionShape {
  startAt: string;
  kindOf: ReadonlyMap<string, StateKind>;
  /** First state of each Map's item processor: entering one starts an iteration. */
  iterationStarts: ReadonlySet<string>;
}

function kindOfState(name: string, state: AslState): StateKind {
  const kind = stateKinds.find((candidate) => candidate === state.Type);
  if (kind === undefined) {
    throw new Error(`state "${name}" has type "${state.Type}", which the history model does not know`);
  }
  return kind;
}

/** Reads the kind of every state in a definition, Map and Parallel contents included. */
export function shapeOf(definition: AslDefinition): DefinitionShape {
  const kindOf = new Map<string, StateKind>();
  const iterationStarts = new Set<string>();
  const visit = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      kindOf.set(name, kindOfState(name, state));
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor !== undefined) {
        iterationStarts.add(processor.StartAt);
        visit(processor.States);
      }
      for (const branch of state.Branches ?? []) {
        visit(branch.States);
      }
    }
  };
  visit(definition.States);
  return { startAt: definition.StartAt, kindOf, iterationStarts };
}

/**
 * Splits the names of the states entered over a run of several executions into one trace per
 * execution. Every execution starts at the definition's StartAt, and no state leads back to
 * it, so each entry of StartAt begins a new execution.
 */
export function tracesOf(statesEntered: readonly string[], shape: DefinitionShape): ExecutionTrace[] {
  const traces: { states: StateKind[]; mapIterations: number; retriedAttempts: number }[] = [];
  for (const name of statesEntered) {
    const kind = shape.kindOf.get(name);
    if (kind === undefined) {
      throw new Error(`state "${name}" is not in the definition`);
    }
    if (name === shape.startAt || traces.length === 0) {
      traces.push({ states: [], mapIterations: 0, retriedAttempts: 0 });
    }
    const trace = traces.at(-1) as (typeof traces)[number];
    trace.states.push(kind);
    if (shape.iterationStarts.has(name)) {
      trace.mapIterations += 1;
    }
  }
  return traces;
}

export interface LoopShape {
  /** Kinds of the states before the first wait: the first check and its decision. */
  prefix: readonly StateKind[];
  /** Kinds of the states of one wait-check-decide loop. */
  loop: readonly StateKind[];
  /** Kinds of the states after the decision that the job has ended. */
  suffix: readonly StateKind[];
  /** Seconds each loop waits. */
  waitSeconds: number;
}

/**
 * Computes the longest job that a single execution of a fixed-interval poller can follow to the
 * end within the history limit. A job that ends `t` seconds after the first check is seen after
 * ceil(t / waitSeconds) loops, so it completes when the loops that fit below the limit cover it.
 * Returns the loops that fit and that job length in seconds.
 */
export function longestJobWithinLimit(shape: LoopShape): { loops: number; seconds: number } {
  const count = (states: readonly StateKind[]) =>
    historyEvents({ states, mapIterations: 0, retriedAttempts: 0 });
  // Events of an execution with no loop; `count` adds the two execution events once.
  const fixed = count([...shape.prefix, ...shape.suffix]);
  const perLoop = count(shape.loop) - eventsPerExecution;
  const loops = Math.max(0, Math.floor((historyEventLimit - fixed) / perLoop));
  return { loops, seconds: loops * shape.waitSeconds };
}
