import { describe, expect, it } from 'vitest';
import { formatElapsed } from '../../lib/local/progress';

describe('formatElapsed', () => {
  it.each([
    [0, '00:00'],
    [59, '00:59'],
    [3_599, '59:59'],
    [3_600, '1:00:00'],
    [86_399, '23:59:59'],
    [86_400, '1d 00:00:00'],
    [30 * 86_400 + 3_725, '30d 01:02:05'],
  ])('formats %i seconds as %s', (seconds, expected) => {
    expect(formatElapsed(seconds)).toBe(expected);
  });
});
