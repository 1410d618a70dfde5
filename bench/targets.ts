import { readMonitorConfig } from '../lambdas/core/config';
import { peakRssTargetMiB, throughputRatioTarget } from './archiving/benchmark';
import { bundleTargetBytes } from './cold-start';
import { detectionDelayTargetPercent, transitionRatioTarget } from './cost/benchmark';
import { type BenchResults, completed, type TargetCheck } from './results';
import { mebibyte, round } from './stats';

/** The monitor's default poll settings, which the cost runs use unless a row names its own. */
const defaults = readMonitorConfig({}).defaultOptions;

/** Checks each target of the benchmark against the measured figures, with the shortfall and its cause when missed. */

const notRun = (id: TargetCheck['id'], target: string): TargetCheck => ({
  id,
  target,
  measured: 'not measured',
  met: null,
  note: 'the part that measures this did not run',
});

function formatMiB(bytes: number): string {
  return `${round(bytes / mebibyte, 2)} MiB`;
}

export function evaluateTargets(
  results: Pick<BenchResults, 'cost' | 'archive' | 'coldStart'>,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const cost = completed(results.cost);
  const archive = completed(results.archive);
  const coldStart = completed(results.coldStart);

  const transitionsTarget = `at least ${transitionRatioTarget}x fewer state transitions than the baseline for a 24 h job`;
  const delayTarget = `median detection delay under ${detectionDelayTargetPercent} % of the job's age for a 24 h job`;
  const day = cost?.rows.find((row) => row.label === '24 h');
  if (cost === null || day === undefined) {
    checks.push(notRun('transitions', transitionsTarget), notRun('detectionDelay', delayTarget));
  } else {
    const ratio = day.transitionRatio;
    const met = ratio !== null && ratio >= transitionRatioTarget;
    const meanWait = round(day.jobDurationSeconds / Math.max(1, day.ours.checks));
    const variants = cost.pollMaxVariants
      .map((variant) => `pollMaxSeconds ${variant.pollMaxSeconds} gives ${variant.transitionRatio}x`)
      .join(', ');
    checks.push({
      id: 'transitions',
      target: transitionsTarget,
      measured: `${ratio}x (${day.ours.stateTransitions} against ${day.baseline.stateTransitions})`,
      met,
      note: met
        ? ''
        : `${round(transitionRatioTarget / (ratio ?? 1), 1)}x short. Both machines spend 3 transitions per check, so the ratio follows the mean wait: ` +
          `the schedule draws each wait uniformly between pollInitialSeconds (${defaults.pollInitialSeconds} s) and its ceiling (pollMaxSeconds, ${defaults.pollMaxSeconds} s), ` +
          `which averaged ${meanWait} s here against the baseline's 30 s. ${variants ? `With the same job, ${variants}.` : ''}`,
    });

    const percent = day.ours.detectionDelayPercent;
    const delayMet = percent !== null && percent < detectionDelayTargetPercent;
    checks.push({
      id: 'detectionDelay',
      target: delayTarget,
      measured:
        percent === null
          ? 'the job end was never seen'
          : `${day.ours.detectionDelaySeconds} s, ${percent} % of 24 h`,
      met: delayMet,
      note: delayMet ? '' : 'the monitor noticed the end later than the schedule allows; see the cost table',
    });
  }

  const thirtyTarget = 'the 30-day job completes where the baseline fails';
  const month = cost?.rows.find((row) => row.label === '30 d');
  if (month === undefined) {
    checks.push(notRun('thirtyDayJob', thirtyTarget));
  } else {
    const oursCompletes = month.ours.outcomes.every((outcome) => outcome === 'succeeded');
    const met = oursCompletes && month.baseline.exceedsHistoryLimit;
    checks.push({
      id: 'thirtyDayJob',
      target: thirtyTarget,
      measured:
        `ours: ${month.ours.outcomes.join(', ')} in ${month.ours.executions} executions, at most ${month.ours.maxHistoryEvents} history events each; ` +
        `baseline: ${month.baseline.historyEvents} events needed, ${month.baseline.exceedsHistoryLimit ? 'fails' : 'completes'}`,
      met,
      note: met
        ? ''
        : oursCompletes
          ? 'the baseline did not reach the history limit'
          : 'the monitor did not succeed on every run',
    });
  }

  const throughputTarget = `archive throughput at least ${throughputRatioTarget}x the plain download`;
  const memoryTarget = `archive peak RSS under ${peakRssTargetMiB} MiB`;
  if (archive === null) {
    checks.push(notRun('archiveThroughput', throughputTarget), notRun('archiveMemory', memoryTarget));
  } else {
    const ratio = archive.throughputRatio;
    const met = ratio !== null && ratio >= throughputRatioTarget;
    const { ours, plainDownload, plainUpload } = archive.sides;
    checks.push({
      id: 'archiveThroughput',
      target: throughputTarget,
      measured: `${ratio}x (${ours.mebibytesPerSecond} against ${plainDownload.mebibytesPerSecond} MiB/s)`,
      met,
      note: met
        ? ''
        : `${round(throughputRatioTarget - (ratio ?? 0), 2)} below the target. The S3 stand-in sets the pace: a plain copy into the same s3rver, ` +
          `with no plan, checks or manifest, reached ${plainUpload.mebibytesPerSecond} MiB/s, and the archive step ran at ${archive.throughputRatioToPlainUpload}x of that. ` +
          `s3rver spent ${ours.cpuSecondsPerGiB.s3Server} CPU seconds per GiB, the archive process ${ours.cpuSecondsPerGiB.process} ` +
          `(the plain copy ${plainUpload.cpuSecondsPerGiB.process}, the download ${plainDownload.cpuSecondsPerGiB.process}), ` +
          'all on the same cores as the sandbox that generates the bytes.',
    });

    const peak = archive.peakRssMiB.ours;
    const memoryMet = peak < peakRssTargetMiB;
    checks.push({
      id: 'archiveMemory',
      target: memoryTarget,
      measured: `${peak} MiB (plain download ${archive.peakRssMiB.baseline} MiB, plain copy to s3rver ${archive.peakRssMiB.plainUpload} MiB)`,
      met: memoryMet,
      note: memoryMet
        ? ''
        : `${round(peak - peakRssTargetMiB, 1)} MiB over. The plain copy with the same lib-storage part size and queue peaked at ` +
          `${plainUpload.peakRssMiB} MiB, so the archive step's own checks, plan and manifest add ${round(peak - plainUpload.peakRssMiB, 1)} MiB. ` +
          `ArrayBuffer memory (upload parts and socket buffers, live or not yet collected, because V8 frees them only when it ` +
          `collects garbage) peaked at ${ours.peakArrayBuffersMiB} MiB, ${plainUpload.peakArrayBuffersMiB} MiB in the plain copy. ` +
          `Here one process runs ${archive.mapConcurrency} batches of up to 4 files at once, where Lambda gives each batch its own function.`,
    });
  }

  const bundleTarget = `every handler bundle under ${formatMiB(bundleTargetBytes)}`;
  if (coldStart === null) {
    checks.push(notRun('bundleSize', bundleTarget));
  } else {
    const over = coldStart.handlers.filter((handler) => handler.bundleBytes >= bundleTargetBytes);
    const largest = Math.max(...coldStart.handlers.map((handler) => handler.bundleBytes));
    checks.push({
      id: 'bundleSize',
      target: bundleTarget,
      measured: `largest ${formatMiB(largest)} (${largest} bytes)`,
      met: over.length === 0,
      note:
        over.length === 0
          ? ''
          : over
              .map(
                (handler) =>
                  `${handler.name} is ${handler.bundleBytes - bundleTargetBytes} bytes over ` +
                  `(${round(((handler.bundleBytes - bundleTargetBytes) / bundleTargetBytes) * 100, 1)} %); ` +
                  `largest packages: ${handler.largestPackages
                    .slice(0, 4)
                    .map((share) => `${share.name} ${Math.round(share.bytes / 1024)} KiB`)
                    .join(', ')}`,
              )
              .join('. '),
    });
  }
  return checks;
}
