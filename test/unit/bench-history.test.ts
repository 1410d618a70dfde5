import { describe, expect, it } from 'vitest';
import {
  BaselineState,
  baselineDefinition,
  baselineLoopShape,
  projectBaseline,
} from '../../bench/cost/baseline';
import {
  type ExecutionTrace,
  historyEventLimit,
  historyEvents,
  longestJobWithinLimit,
  shapeOf,
  tracesOf,
} from '../../bench/cost/history';
import type { AslDefinition } from '../../lib/definition';

const trace = (overrides: Partial<ExecutionTrace>): ExecutionTrace => ({
  states: [],
  mapIterations: 0,
  retriedAttempts: 0,
  ...overrides,
});

/** A small machine with a Map, to check how nested states and iterations are counted. */
const mapDefinition: AslDefinition = {
  StartAt: 'Validate',
  States: {
    Validate: { Type: 'Task', Resource: 'arn:aws:lambda:::function:v', Next: 'Fan out' },
    'Fan out': {
      Type: 'Map',
      ItemProcessor: {
        StartAt: 'Copy one',
        States: {
          'Copy one': { Type: 'Task', Resource: 'arn:aws:lambda:::function:c', Next: 'Copied?' },
          'Copied?': { Type: 'Choice', Choices: [], Default: 'Done' },
          Done: { Type: 'Pass', End: true },
        },
      },
      Next: 'Finished',
    },
    Finished: { Type: 'Succeed' },
  },
};

describe('historyEvents', () => {
  it('counts an empty execution as started and ended', () => {
    expect(historyEvents(trace({}))).toBe(2);
  });

  it('counts each state kind', () => {
    expect(historyEvents(trace({ states: ['Task'] }))).toBe(7);
    expect(historyEvents(trace({ states: ['Wait'] }))).toBe(4);
    expect(historyEvents(trace({ states: ['Choice'] }))).toBe(4);
    expect(historyEvents(trace({ states: ['Pass'] }))).toBe(4);
    expect(historyEvents(trace({ states: ['Succeed'] }))).toBe(4);
    expect(historyEvents(trace({ states: ['Fail'] }))).toBe(3);
    expect(historyEvents(trace({ states: ['Map'] }))).toBe(6);
    expect(historyEvents(trace({ states: ['Parallel'] }))).toBe(6);
  });

  it('adds map iterations and retried attempts', () => {
    expect(historyEvents(trace({ states: ['Map'], mapIterations: 3 }))).toBe(2 + 4 + 3 * 2);
    expect(historyEvents(trace({ states: ['Task'], retriedAttempts: 2 }))).toBe(2 + 5 + 2 * 3);
  });

  it('counts a wait-check-choice loop as 9 events', () => {
    const oneLoop = historyEvents(trace({ states: ['Wait', 'Task', 'Choice'] }));
    const twoLoops = historyEvents(trace({ states: ['Wait', 'Task', 'Choice', 'Wait', 'Task', 'Choice'] }));
    expect(twoLoops - oneLoop).toBe(9);
  });
});

describe('shapeOf', () => {
  it('reads kinds of nested states', () => {
    const shape = shapeOf(mapDefinition);
    expect(shape.startAt).toBe('Validate');
    expect(shape.kindOf.get('Fan out')).toBe('Map');
    expect(shape.kindOf.get('Copy one')).toBe('Task');
    expect(shape.kindOf.get('Done')).toBe('Pass');
    expect([...shape.iterationStarts]).toEqual(['Copy one']);
  });

  it('rejects an unknown state type', () => {
    const definition: AslDefinition = { StartAt: 'X', States: { X: { Type: 'Teleport', End: true } } };
    expect(() => shapeOf(definition)).toThrow('state "X" has type "Teleport"');
  });
});

describe('tracesOf', () => {
  const shape = shapeOf(mapDefinition);

  it('splits executions at the start state', () => {
    const entered = [
      'Validate',
      'Fan out',
      'Copy one',
      'Copied?',
      'Done',
      'Finished',
      'Validate',
      'Fan out',
      'Finished',
    ];
    const traces = tracesOf(entered, shape);
    expect(traces).toHaveLength(2);
    expect(traces[0]?.states).toEqual(['Task', 'Map', 'Task', 'Choice', 'Pass', 'Succeed']);
    expect(traces[1]?.states).toEqual(['Task', 'Map', 'Succeed']);
  });

  it('counts map iterations from their first state', () => {
    const entered = [
      'Validate',
      'Fan out',
      'Copy one',
      'Copy one',
      'Copied?',
      'Copied?',
      'Done',
      'Done',
      'Finished',
    ];
    const [only] = tracesOf(entered, shape);
    expect(only?.mapIterations).toBe(2);
    expect(historyEvents(only as ExecutionTrace)).toBe(2 + 5 + 4 + 2 * 2 + 2 * (5 + 2 + 2) + 2);
  });

  it('rejects a state outside the definition', () => {
    expect(() => tracesOf(['Validate', 'Elsewhere'], shape)).toThrow(
      'state "Elsewhere" is not in the definition',
    );
  });
});

describe('longestJobWithinLimit', () => {
  it('finds the baseline limit at 2,776 loops', () => {
    const longest = longestJobWithinLimit(baselineLoopShape);
    // 2 execution events + prefix (Task, Choice) 7 + suffix (Task, Succeed) 7 = 16; 9 per loop.
    expect(longest.loops).toBe(Math.floor((historyEventLimit - 16) / 9));
    expect(longest.loops).toBe(2_776);
    expect(longest.seconds).toBe(83_280);
  });

  it('agrees with the projected history', () => {
    const { seconds } = longestJobWithinLimit(baselineLoopShape);
    expect(projectBaseline(seconds, 0).historyEvents).toBeLessThanOrEqual(historyEventLimit);
    expect(projectBaseline(seconds + 1, 0).historyEvents).toBeGreaterThan(historyEventLimit);
  });
});

describe('projectBaseline', () => {
  it('checks every 30 s until the job ends', () => {
    const projection = projectBaseline(300, 13);
    // Checks at 13, 43, ..., 313 s: 10 waits, 11 checks, then the final status check.
    expect(projection.checks).toBe(11);
    expect(projection.lambdaInvocations).toBe(12);
    expect(projection.stateTransitions).toBe(2 + 10 * 3 + 2);
    expect(projection.detectionDelaySeconds).toBe(13);
    expect(projection.historyEvents).toBe(2 + 7 + 10 * 9 + 7);
  });

  it('needs one check for a job already finished', () => {
    const projection = projectBaseline(5, 20);
    expect(projection.checks).toBe(1);
    expect(projection.detectionDelaySeconds).toBe(15);
  });

  it('uses the baseline definition states', () => {
    const shape = shapeOf(baselineDefinition);
    expect(shape.kindOf.get(BaselineState.wait)).toBe('Wait');
    expect(shape.kindOf.get(BaselineState.getJobStatus)).toBe('Task');
    expect(shape.kindOf.get(BaselineState.jobComplete)).toBe('Choice');
    expect(baselineDefinition.States[BaselineState.wait]?.Seconds).toBe(30);
  });
});
