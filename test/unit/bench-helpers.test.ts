import { describe, expect, it } from 'vitest';
import { archiveMapConcurrency } from '../../bench/archiving/benchmark';
import { parseMaxRssKiB } from '../../bench/child-process';
import { bytesByPackage, packageOfInput } from '../../bench/metafile';
import { formatDuration } from '../../bench/report';
import { median, ratio, seededRandom } from '../../bench/stats';
import type { AslDefinition } from '../../lib/definition';

describe('median', () => {
  it('takes the middle value', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('rejects no values', () => {
    expect(() => median([])).toThrow('cannot take the median of no values');
  });
});

describe('ratio', () => {
  it('divides, or returns null for a zero denominator', () => {
    expect(ratio(3, 4)).toBe(0.75);
    expect(ratio(3, 0)).toBeNull();
  });
});

describe('seededRandom', () => {
  it('repeats for a seed and stays in [0, 1)', () => {
    const first = seededRandom(42);
    const second = seededRandom(42);
    const values = Array.from({ length: 100 }, () => first());
    expect(values).toEqual(Array.from({ length: 100 }, () => second()));
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(seededRandom(43)()).not.toBe(seededRandom(42)());
  });
});

describe('parseMaxRssKiB', () => {
  it('reads GNU time output', () => {
    const report =
      '\tUser time (seconds): 1.20\n\tMaximum resident set size (kbytes): 61540\n\tExit status: 0\n';
    expect(parseMaxRssKiB(report)).toBe(61_540);
  });

  it('returns null without the line', () => {
    expect(parseMaxRssKiB('some other output')).toBeNull();
  });
});

describe('packageOfInput', () => {
  it('names plain, scoped and nested packages', () => {
    expect(packageOfInput('node_modules/zod/v4/core/schemas.js')).toBe('zod');
    expect(packageOfInput('node_modules/@smithy/core/dist-es/index.js')).toBe('@smithy/core');
    expect(packageOfInput('node_modules/a/node_modules/@b/c/x.js')).toBe('@b/c');
    expect(packageOfInput('lambdas/core/plan.ts')).toBe('(project)');
  });
});

describe('bytesByPackage', () => {
  it('sums inputs per package, largest first', () => {
    const shares = bytesByPackage({
      outputs: {
        'index.mjs': {
          bytes: 600,
          inputs: {
            'node_modules/zod/a.js': { bytesInOutput: 100 },
            'node_modules/zod/b.js': { bytesInOutput: 150 },
            'node_modules/undici/c.js': { bytesInOutput: 300 },
            'lambdas/x.ts': { bytesInOutput: 50 },
          },
        },
        'index.mjs.map': { bytes: 900, inputs: {} },
      },
    });
    expect(shares).toEqual([
      { name: 'undici', bytes: 300 },
      { name: 'zod', bytes: 250 },
      { name: '(project)', bytes: 50 },
    ]);
  });
});

describe('formatDuration', () => {
  it('keeps the two largest units', () => {
    expect(formatDuration(83_280)).toBe('23 h 8 min');
    expect(formatDuration(300)).toBe('5 min');
    expect(formatDuration(2_592_000)).toBe('30 d');
    expect(formatDuration(0)).toBe('0 s');
  });
});

describe('archiveMapConcurrency', () => {
  const withMap = (maxConcurrency?: number): AslDefinition => ({
    StartAt: 'Plan archive',
    States: {
      'Plan archive': { Type: 'Task', Next: 'Archive artifacts' },
      'Archive artifacts': {
        Type: 'Map',
        ...(maxConcurrency === undefined ? {} : { MaxConcurrency: maxConcurrency }),
        ItemProcessor: { StartAt: 'Archive batch', States: { 'Archive batch': { Type: 'Task', End: true } } },
        End: true,
      },
    },
  });

  it('reads MaxConcurrency', () => {
    expect(archiveMapConcurrency(withMap(4))).toBe(4);
  });

  it('treats a missing or zero limit as unlimited', () => {
    expect(archiveMapConcurrency(withMap())).toBe(Number.POSITIVE_INFINITY);
    expect(archiveMapConcurrency(withMap(0))).toBe(Number.POSITIVE_INFINITY);
  });

  it('rejects a definition without the Map state', () => {
    expect(() => archiveMapConcurrency({ StartAt: 'A', States: { A: { Type: 'Succeed' } } })).toThrow(
      'the definition has no "Archive artifacts" Map state',
    );
  });
});
