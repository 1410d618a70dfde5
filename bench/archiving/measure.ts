/**
 * The report of each measured archive process: elapsed and CPU time, peak RSS, and peaks of the
 * V8 heap and of ArrayBuffer memory, sampled every 50 ms to show what the RSS is made of.
 */

export interface ProcessReport {
  seconds: number;
  /** User plus system CPU time of this process. */
  cpuSeconds: number;
  bytes: number;
  files: number;
  filesFailed: number;
  /** `process.resourceUsage().maxRSS`, in KiB. */
  maxRssKiB: number;
  peakHeapUsedMiB: number;
  /** Buffers and other ArrayBuffers, live or not yet collected. */
  peakArrayBuffersMiB: number;
}

export interface Measurement {
  /** Prints the report as one JSON line on stdout. */
  finish(counts: Pick<ProcessReport, 'bytes' | 'files' | 'filesFailed'>): void;
}

const mebibyte = 1024 * 1024;

export function startMeasuring(): Measurement {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let peakHeapUsed = 0;
  let peakArrayBuffers = 0;
  const sample = () => {
    const usage = process.memoryUsage();
    peakHeapUsed = Math.max(peakHeapUsed, usage.heapUsed);
    peakArrayBuffers = Math.max(peakArrayBuffers, usage.arrayBuffers);
  };
  const sampler = setInterval(sample, 50);

  return {
    finish(counts) {
      const seconds = (performance.now() - start) / 1000;
      const cpu = process.cpuUsage(cpuStart);
      clearInterval(sampler);
      sample();
      const report: ProcessReport = {
        seconds,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        ...counts,
        maxRssKiB: process.resourceUsage().maxRSS,
        peakHeapUsedMiB: peakHeapUsed / mebibyte,
        peakArrayBuffersMiB: peakArrayBuffers / mebibyte,
      };
      process.stdout.write(`${JSON.stringify(report)}\n`);
    },
  };
}
