import { describe, expect, it } from 'vitest';
import type { ArchiveResult, ArchiveSideSummary } from '../../bench/archiving/benchmark';
import type { ColdStartResult, HandlerColdStart } from '../../bench/cold-start';
import type { CostResult, CostRow } from '../../bench/cost/benchmark';
import type { PartRun } from '../../bench/results';
import { evaluateTargets } from '../../bench/targets';

const run: PartRun = { date: '2026-12-04T00:00:00.000Z', durationSeconds: 1 };

function costRow(
  label: string,
  overrides: { ratio: number; oursOutcome?: string; exceeds?: boolean },
): CostRow {
  return {
    label,
    scenario: label,
    jobDurationSeconds: label === '30 d' ? 2_592_000 : 86_400,
    ours: {
      outcomes: [overrides.oursOutcome ?? 'succeeded'],
      stateTransitions: 1_000,
      lambdaInvocations: 330,
      executions: 1,
      checks: 320,
      detectionDelaySeconds: 20,
      detectionDelayPercent: 0.023,
      maxHistoryEvents: 3_000,
      costUsd: 0.025,
    },
    baseline: {
      stateTransitions: overrides.ratio * 1_000,
      lambdaInvocations: 2_882,
      detectionDelaySeconds: 13,
      historyEvents: 25_936,
      exceedsHistoryLimit: overrides.exceeds ?? true,
      failedAtJobAgeSeconds: 83_323,
      measuredStateTransitions: 8_334,
      costUsd: 0.2161,
    },
    transitionRatio: overrides.ratio,
  };
}

function cost(dayRatio: number, monthOutcome = 'succeeded'): CostResult & PartRun {
  return {
    ...run,
    runs: 1,
    startDelaysSeconds: [13],
    usdPerThousandTransitions: 0.025,
    historyEventLimit: 25_000,
    baselineWaitSeconds: 30,
    baselineLongestJob: { checks: 2_777, seconds: 83_280 },
    rows: [costRow('24 h', { ratio: dayRatio }), costRow('30 d', { ratio: 5, oursOutcome: monthOutcome })],
    pollMaxVariants: [
      { pollMaxSeconds: 600, stateTransitions: 900, transitionRatio: 9.6, detectionDelaySeconds: 30 },
    ],
  };
}

function side(mebibytesPerSecond: number, peakRssMiB: number): ArchiveSideSummary {
  return {
    mebibytesPerSecond,
    peakRssMiB,
    peakArrayBuffersMiB: 100,
    cpuSecondsPerGiB: { process: 9, s3Server: 10 },
  };
}

function archive(oursSpeed: number, oursRss: number): ArchiveResult & PartRun {
  return {
    ...run,
    bytes: 2_147_483_148,
    files: 501,
    largeFileBytes: 1_610_612_736,
    smallFiles: 500,
    smallFileBytes: 1_073_741,
    mapConcurrency: 4,
    referenceConcurrency: 16,
    runs: [],
    sides: { ours: side(oursSpeed, oursRss), plainDownload: side(100, 160), plainUpload: side(50, 220) },
    throughputRatio: oursSpeed / 100,
    throughputRatioToPlainUpload: oursSpeed / 50,
    peakRssMiB: { ours: oursRss, baseline: 160, plainUpload: 220 },
    rssSource: 'GNU time -v',
  };
}

function handler(name: HandlerColdStart['name'], bundleBytes: number): HandlerColdStart {
  return {
    name,
    bundleBytes,
    bundleBytesSdkExternal: 600_000,
    initMs: 100,
    initMsSdkExternal: 110,
    initRatio: 0.91,
    sizeRatio: 1.5,
    underTarget: bundleBytes < 1_048_576,
    largestPackages: [{ name: 'undici', bytes: 352_000 }],
  };
}

function coldStart(...handlers: HandlerColdStart[]): ColdStartResult & PartRun {
  return { ...run, runs: 3, targetBytes: 1_048_576, handlers };
}

const byId = (checks: ReturnType<typeof evaluateTargets>) =>
  new Map(checks.map((check) => [check.id, check]));

describe('evaluateTargets', () => {
  it('meets every target', () => {
    const checks = byId(
      evaluateTargets({
        cost: cost(12),
        archive: archive(90, 200),
        coldStart: coldStart(handler('checkStatus', 900_000)),
      }),
    );
    expect([...checks.values()].map((check) => check.met)).toEqual([true, true, true, true, true, true]);
    expect(checks.get('transitions')?.note).toBe('');
  });

  it('explains a missed transition target', () => {
    const check = byId(evaluateTargets({ cost: cost(4.7), archive: null, coldStart: null })).get(
      'transitions',
    );
    expect(check?.met).toBe(false);
    expect(check?.measured).toBe('4.7x (1000 against 4700)');
    expect(check?.note).toContain('2.1x short');
    expect(check?.note).toContain('pollMaxSeconds 600 gives 9.6x');
  });

  it('fails the 30-day target when ours does not succeed', () => {
    const check = byId(evaluateTargets({ cost: cost(12, 'timed_out'), archive: null, coldStart: null })).get(
      'thirtyDayJob',
    );
    expect(check?.met).toBe(false);
    expect(check?.note).toBe('the monitor did not succeed on every run');
  });

  it('reports archive shortfalls', () => {
    const checks = byId(evaluateTargets({ cost: null, archive: archive(30, 300), coldStart: null }));
    expect(checks.get('archiveThroughput')?.met).toBe(false);
    expect(checks.get('archiveThroughput')?.note).toContain('0.5 below the target');
    expect(checks.get('archiveMemory')?.met).toBe(false);
    expect(checks.get('archiveMemory')?.note).toContain('44 MiB over');
  });

  it('names each bundle over 1 MiB', () => {
    const check = byId(
      evaluateTargets({
        cost: null,
        archive: null,
        coldStart: coldStart(handler('checkStatus', 900_000), handler('planArchive', 1_105_338)),
      }),
    ).get('bundleSize');
    expect(check?.met).toBe(false);
    expect(check?.note).toContain('planArchive is 56762 bytes over (5.4 %)');
    expect(check?.note).not.toContain('checkStatus');
  });

  it('marks targets of parts not run', () => {
    const checks = evaluateTargets({ cost: null, archive: null, coldStart: null });
    expect(checks).toHaveLength(6);
    expect(checks.every((check) => check.met === null && check.measured === 'not measured')).toBe(true);
  });
});
