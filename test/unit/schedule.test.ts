import { describe, expect, it } from 'vitest';
import { nextCheckSeconds, pollBounds, type ScheduleInput } from '../../lambdas/core/schedule';

const options = { pollInitialSeconds: 15, pollMaxSeconds: 300 };

function input(overrides: Partial<ScheduleInput> = {}): ScheduleInput {
  return {
    options,
    attempt: 1,
    jobAgeSeconds: 86_400,
    progressChanged: false,
    progress: null,
    retryAfterSeconds: null,
    random: () => 0.999_999,
    ...overrides,
  };
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing case can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('nextCheckSeconds', () => {
  it('starts at the initial interval', () => {
    expect(nextCheckSeconds(input({ attempt: 1 }))).toBe(15);
  });

  it('grows by 1.5 per check at the top of the jitter range', () => {
    const waits = [1, 2, 3, 4, 5].map((attempt) => nextCheckSeconds(input({ attempt })));

    expect(waits).toEqual([15, 22, 34, 51, 76]);
  });

  it('stays at the floor with a jitter draw of 0', () => {
    expect(nextCheckSeconds(input({ attempt: 6, random: () => 0 }))).toBe(15);
  });

  it('spreads waits between the floor and the ceiling', () => {
    // Ceiling 15 x 1.5^2 = 33.75, so the middle of [15, 33.75] rounds to 24.
    expect(nextCheckSeconds(input({ attempt: 3, random: () => 0.5 }))).toBe(24);
  });

  it('caps growth at pollMaxSeconds', () => {
    expect(nextCheckSeconds(input({ attempt: 50 }))).toBe(300);
  });

  it('caps the wait at 10 % of the job age', () => {
    expect(nextCheckSeconds(input({ attempt: 50, jobAgeSeconds: 600 }))).toBe(60);
  });

  it('never lets the age cap go below the initial interval', () => {
    expect(nextCheckSeconds(input({ attempt: 50, jobAgeSeconds: 30 }))).toBe(15);
  });

  it('resets to the initial interval when progress moves', () => {
    expect(nextCheckSeconds(input({ attempt: 20, progressChanged: true }))).toBe(15);
  });

  it('resets to the initial interval from 90 % progress', () => {
    expect(nextCheckSeconds(input({ attempt: 20, progress: 90 }))).toBe(15);
    expect(nextCheckSeconds(input({ attempt: 20, progress: 89 }))).toBe(300);
  });

  it('uses Retry-After when it is longer', () => {
    expect(nextCheckSeconds(input({ attempt: 1, retryAfterSeconds: 120 }))).toBe(120);
  });

  it('ignores Retry-After when the schedule is longer', () => {
    expect(nextCheckSeconds(input({ attempt: 50, retryAfterSeconds: 120 }))).toBe(300);
  });

  it('caps Retry-After at pollMaxSeconds', () => {
    expect(nextCheckSeconds(input({ retryAfterSeconds: 1_000_000 }))).toBe(300);
    expect(nextCheckSeconds(input({ retryAfterSeconds: 301 }))).toBe(300);
  });

  it('lets Retry-After beat the age cap', () => {
    expect(nextCheckSeconds(input({ jobAgeSeconds: 60, retryAfterSeconds: 120 }))).toBe(120);
  });

  it('rounds a fractional Retry-After up', () => {
    expect(nextCheckSeconds(input({ retryAfterSeconds: 20.2 }))).toBe(21);
  });

  it('repairs options that are out of order or not finite', () => {
    expect(pollBounds({ pollInitialSeconds: 500, pollMaxSeconds: 60 })).toEqual({ initial: 60, max: 60 });
    expect(pollBounds({ pollInitialSeconds: Number.NaN, pollMaxSeconds: Number.NaN })).toEqual({
      initial: 15,
      max: 300,
    });
    expect(pollBounds({ pollInitialSeconds: -4, pollMaxSeconds: 0 })).toEqual({ initial: 1, max: 1 });
  });

  describe('with random inputs', () => {
    const random = seededRandom(20_261_130);
    const oddNumbers = [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -1,
      -1e12,
      0,
      0.4,
      1e300,
      Number.MAX_SAFE_INTEGER,
    ];

    function pick(): number {
      const roll = random();
      if (roll < 0.3) return oddNumbers[Math.floor(random() * oddNumbers.length)] ?? Number.NaN;
      if (roll < 0.6) return random() * 100;
      return random() * 10 ** Math.floor(random() * 9);
    }

    it('always returns an integer within the bounds', () => {
      for (let run = 0; run < 20_000; run += 1) {
        const pollMaxSeconds = 1 + Math.floor(random() * 86_400);
        const pollInitialSeconds = 1 + Math.floor(random() * pollMaxSeconds);
        const retryAfterSeconds = random() < 0.3 ? pick() : null;
        const progress = random() < 0.5 ? pick() : null;
        const draw = pick();
        const scheduleInput: ScheduleInput = {
          options: { pollInitialSeconds, pollMaxSeconds },
          attempt: pick(),
          jobAgeSeconds: pick(),
          progressChanged: random() < 0.2,
          progress,
          retryAfterSeconds,
          random: () => (random() < 0.7 ? random() : draw),
        };

        const seconds = nextCheckSeconds(scheduleInput);
        expect(Number.isInteger(seconds), JSON.stringify({ ...scheduleInput, seconds })).toBe(true);
        expect(seconds).toBeGreaterThanOrEqual(1);
        expect(seconds).toBeLessThanOrEqual(pollMaxSeconds);
        if (retryAfterSeconds === null) {
          expect(seconds).toBeGreaterThanOrEqual(pollInitialSeconds);
        }
      }
    });

    it('returns an integer of at least 1 for options that are not valid', () => {
      for (let run = 0; run < 5_000; run += 1) {
        const seconds = nextCheckSeconds({
          options: { pollInitialSeconds: pick(), pollMaxSeconds: pick() },
          attempt: pick(),
          jobAgeSeconds: pick(),
          progressChanged: random() < 0.5,
          progress: pick(),
          retryAfterSeconds: pick(),
          random: pick,
        });

        expect(Number.isInteger(seconds)).toBe(true);
        expect(seconds).toBeGreaterThanOrEqual(1);
        expect(seconds).toBeLessThanOrEqual(86_400);
      }
    });
  });
});
