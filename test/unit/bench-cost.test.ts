import { describe, expect, it } from 'vitest';
import { transitionCostUsd, usdPerThousandTransitions } from '../../bench/cost/pricing';

describe('transitionCostUsd', () => {
  it('charges $0.025 per 1,000 transitions', () => {
    expect(usdPerThousandTransitions).toBe(0.025);
    expect(transitionCostUsd(1000)).toBeCloseTo(0.025, 10);
    expect(transitionCostUsd(8644)).toBeCloseTo(0.2161, 10);
    expect(transitionCostUsd(0)).toBe(0);
  });

  it('rejects negative and non-finite counts', () => {
    expect(() => transitionCostUsd(-1)).toThrow('invalid transition count -1');
    expect(() => transitionCostUsd(Number.NaN)).toThrow('invalid transition count NaN');
  });
});
