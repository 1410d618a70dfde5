import type { Clock } from '../../lambdas/core/ports';

/**
 * A clock that moves only when `advance` is called. The local runtime advances it by each wait the state
 * machine would have made, so a job scripted over hours runs in seconds.
 */
export class VirtualClock implements Clock {
  #now: number;

  constructor(start: number = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`cannot advance the virtual clock by ${seconds} seconds`);
    }
    this.#now += seconds * 1000;
  }
}
