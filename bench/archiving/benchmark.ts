import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchConcurrency } from '../../lambdas/core/copy';
import type { AslDefinition, AslState } from '../../lib/definition';
import { synthesizeDefinition } from '../../lib/local/definition';
import { StateName } from '../../lib/state-names';
import { bundleEntries } from '../bundle';
import {
  gnuTimeAvailable,
  lastJsonLine,
  nodeBinary,
  projectRoot,
  runChild,
  startServiceChild,
} from '../child-process';
import { gibibyte, mebibyte, median, ratio, round } from '../stats';
import { type ListedFile, listAssetFiles } from './files';
import type { ProcessReport } from './measure';
import { readScenarioSizes } from './scenario';

/**
 * Archive throughput and memory. The archive step (plan, then every batch) copies the sandbox
 * job's files to s3rver. The baseline is a plain streamed download of the same files to disk,
 * and a plain streamed copy into the same s3rver is a second reference. The sandbox, s3rver
 * and each measured side run in processes of their own, on loopback.
 */

export const throughputRatioTarget = 0.8;
export const peakRssTargetMiB = 256;

/** `ours` is the archive step; the other two are references without any of its checks. */
export type ArchiveSide = 'ours' | 'plainDownload' | 'plainUpload';

export interface ArchiveRun {
  side: ArchiveSide;
  run: number;
  seconds: number;
  bytes: number;
  mebibytesPerSecond: number;
  /** CPU seconds per GiB copied: the measured process, and s3rver for the sides that upload. */
  cpuSecondsPerGiB: { process: number; s3Server: number | null };
  /** Peak RSS of the measured process: GNU time's figure when installed, else its own maxRSS. */
  peakRssMiB: number;
  peakHeapUsedMiB: number;
  peakArrayBuffersMiB: number;
}

export interface ArchiveSideSummary {
  /** Median over the runs. */
  mebibytesPerSecond: number;
  /** Largest over the runs. */
  peakRssMiB: number;
  peakArrayBuffersMiB: number;
  /** Median over the runs. */
  cpuSecondsPerGiB: { process: number; s3Server: number | null };
}

export interface ArchiveResult {
  bytes: number;
  files: number;
  largeFileBytes: number;
  smallFiles: number;
  smallFileBytes: number;
  /** Batches the Map state runs at once, from the synthesized definition. */
  mapConcurrency: number;
  /** Files the references copy at once: the most the archive step copies at once. */
  referenceConcurrency: number;
  runs: ArchiveRun[];
  sides: Record<ArchiveSide, ArchiveSideSummary>;
  /** Median throughput of the archive step divided by that of the plain download. */
  throughputRatio: number | null;
  /** Median throughput of the archive step divided by that of the plain copy to s3rver. */
  throughputRatioToPlainUpload: number | null;
  peakRssMiB: { ours: number; baseline: number; plainUpload: number };
  rssSource: 'GNU time -v' | 'process.resourceUsage().maxRSS';
}

/** Finds the `Archive artifacts` Map state, at any depth, and returns its MaxConcurrency. */
export function archiveMapConcurrency(definition: AslDefinition): number {
  const visit = (states: Record<string, AslState>): number | null => {
    for (const [name, state] of Object.entries(states)) {
      if (name === StateName.archiveArtifacts && state.Type === 'Map') {
        const value = state.MaxConcurrency;
        // Step Functions reads 0 or a missing MaxConcurrency as "no limit".
        return typeof value === 'number' && value > 0 ? value : Number.POSITIVE_INFINITY;
      }
      const nested = [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])];
      for (const child of nested) {
        const found = child === undefined ? null : visit(child.States);
        if (found !== null) return found;
      }
    }
    return null;
  };
  const found = visit(definition.States);
  if (found === null) {
    throw new Error(`the definition has no "${StateName.archiveArtifacts}" Map state`);
  }
  return found;
}

function toRun(
  side: ArchiveSide,
  run: number,
  report: ProcessReport,
  gnuTimeKiB: number | null,
  s3CpuSeconds: number | null,
): ArchiveRun {
  const gibibytes = report.bytes / gibibyte;
  return {
    side,
    run,
    seconds: round(report.seconds),
    bytes: report.bytes,
    mebibytesPerSecond: round(report.bytes / mebibyte / report.seconds, 1),
    cpuSecondsPerGiB: {
      process: round(report.cpuSeconds / gibibytes),
      s3Server: s3CpuSeconds === null ? null : round(s3CpuSeconds / gibibytes),
    },
    peakRssMiB: round((gnuTimeKiB ?? report.maxRssKiB) / 1024, 1),
    peakHeapUsedMiB: round(report.peakHeapUsedMiB, 1),
    peakArrayBuffersMiB: round(report.peakArrayBuffersMiB, 1),
  };
}

function summarize(runs: readonly ArchiveRun[]): ArchiveSideSummary {
  const s3Values = runs.flatMap((run) =>
    run.cpuSecondsPerGiB.s3Server === null ? [] : [run.cpuSecondsPerGiB.s3Server],
  );
  return {
    mebibytesPerSecond: round(median(runs.map((run) => run.mebibytesPerSecond)), 1),
    peakRssMiB: Math.max(...runs.map((run) => run.peakRssMiB)),
    peakArrayBuffersMiB: Math.max(...runs.map((run) => run.peakArrayBuffersMiB)),
    cpuSecondsPerGiB: {
      process: round(median(runs.map((run) => run.cpuSecondsPerGiB.process))),
      s3Server: s3Values.length === 0 ? null : round(median(s3Values)),
    },
  };
}

interface SandboxInfo {
  apiUrl: string;
  allowedHosts: string[];
  token: string;
  workspace: string;
  jobId: string;
  statusUrl: string;
}

const scriptPath = (name: string) => join(projectRoot, 'bench', 'archiving', name);

export interface ArchiveOptions {
  /** Timed runs of each side; the order of the sides rotates from run to run. */
  runs: number;
  log: (line: string) => void;
}

export async function runArchiveBenchmark(options: ArchiveOptions): Promise<ArchiveResult> {
  const workDir = await mkdtemp(join(tmpdir(), 'eodh-bench-archive-'));
  try {
    return await runInDirectory(workDir, options);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Runs the archive benchmark with its bundles, file list and copies under `workDir`. */
async function runInDirectory(workDir: string, options: ArchiveOptions): Promise<ArchiveResult> {
  const sizes = readScenarioSizes(process.env);
  const mapConcurrency = archiveMapConcurrency(synthesizeDefinition().definition);
  const referenceConcurrency = mapConcurrency * batchConcurrency;

  // The measured processes run bundled, as the handlers run on Lambda, so none carries the
  // TypeScript loader (about 16 MiB of RSS with tsx) or unminified module code.
  options.log("archive: bundling the measured processes with the functions' esbuild options");
  const bundles = bundleEntries(
    {
      ours: 'bench/archiving/archive-process.ts',
      plainDownload: 'bench/archiving/download-process.ts',
      plainUpload: 'bench/archiving/upload-process.ts',
    },
    join(workDir, 'bundles'),
  );

  options.log('archive: starting the sandbox');
  const sandbox = await startServiceChild<SandboxInfo>(scriptPath('sandbox-process.ts'), { ...process.env });
  try {
    const { info } = sandbox;
    options.log('archive: listing the job files (the sandbox hashes each file once, here)');
    const files: ListedFile[] = await listAssetFiles(info.statusUrl, info.token);
    const totalBytes = files.reduce((sum, file) => sum + file.bytes, 0);
    const fileList = join(workDir, 'files.json');
    await writeFile(fileList, JSON.stringify(files));

    const plainEnv = {
      BENCH_FILE_LIST: fileList,
      BENCH_TOKEN: info.token,
      BENCH_CONCURRENCY: String(referenceConcurrency),
    };
    const oursEnv = {
      API_URL: info.apiUrl,
      ALLOWED_HOSTS: info.allowedHosts.join(','),
      ALLOW_LOOPBACK: 'true',
      EODH_TOKEN: info.token,
      BENCH_JOB_ID: info.jobId,
      BENCH_WORKSPACE: info.workspace,
      BENCH_STATUS_URL: info.statusUrl,
      BENCH_MAP_CONCURRENCY: String(mapConcurrency),
    };

    /** Runs one side; the sides that upload get a fresh s3rver, so nothing is skipped as already archived. */
    const runSide = async (side: ArchiveSide, run: number): Promise<ArchiveRun> => {
      const scratch = await mkdtemp(join(workDir, `${side}-`));
      const s3 =
        side === 'plainDownload'
          ? null
          : await startServiceChild<{ endpoint: string; bucket: string }>(scriptPath('s3-process.ts'), {
              ...process.env,
              BENCH_S3_DIRECTORY: scratch,
              BENCH_S3_BUCKET: 'bench-archive',
            });
      let s3CpuSeconds: number | null = null;
      try {
        const s3Env =
          s3 === null ? {} : { BENCH_S3_ENDPOINT: s3.info.endpoint, BENCH_S3_BUCKET: s3.info.bucket };
        const sideEnv = side === 'ours' ? oursEnv : { ...plainEnv, BENCH_OUT_DIR: scratch };
        const result = await runChild(nodeBinary, [bundles[side]], {
          env: { PATH: process.env.PATH, ...sideEnv, ...s3Env },
          measureRss: true,
        });
        if (s3 !== null) {
          const final = (await s3.stop()) as { cpuSeconds?: number } | null;
          s3CpuSeconds = final?.cpuSeconds ?? null;
        }
        return toRun(side, run, lastJsonLine<ProcessReport>(result.stdout), result.maxRssKiB, s3CpuSeconds);
      } finally {
        await s3?.stop();
        await rm(scratch, { recursive: true, force: true });
      }
    };

    const sides: ArchiveSide[] = ['plainDownload', 'ours', 'plainUpload'];
    const runs: ArchiveRun[] = [];
    for (let run = 1; run <= options.runs; run += 1) {
      // Rotating the order spreads drift in machine load over the sides.
      const order = sides.map((_, index) => sides[(index + run - 1) % sides.length] as ArchiveSide);
      for (const side of order) {
        const result = await runSide(side, run);
        options.log(
          `archive: run ${run} ${side}: ${result.mebibytesPerSecond} MiB/s, peak RSS ${result.peakRssMiB} MiB`,
        );
        if (result.bytes !== totalBytes) {
          throw new Error(`${side} copied ${result.bytes} of ${totalBytes} bytes`);
        }
        runs.push(result);
      }
    }

    const summaries = {
      ours: summarize(runs.filter((run) => run.side === 'ours')),
      plainDownload: summarize(runs.filter((run) => run.side === 'plainDownload')),
      plainUpload: summarize(runs.filter((run) => run.side === 'plainUpload')),
    };
    const throughputRatio = ratio(
      summaries.ours.mebibytesPerSecond,
      summaries.plainDownload.mebibytesPerSecond,
    );
    const toPlainUpload = ratio(summaries.ours.mebibytesPerSecond, summaries.plainUpload.mebibytesPerSecond);

    return {
      bytes: totalBytes,
      files: files.length,
      largeFileBytes: sizes.largeFileBytes,
      smallFiles: sizes.smallFileCount,
      smallFileBytes: sizes.smallFileBytes,
      mapConcurrency,
      referenceConcurrency,
      runs,
      sides: summaries,
      throughputRatio: throughputRatio === null ? null : round(throughputRatio),
      throughputRatioToPlainUpload: toPlainUpload === null ? null : round(toPlainUpload),
      peakRssMiB: {
        ours: summaries.ours.peakRssMiB,
        baseline: summaries.plainDownload.peakRssMiB,
        plainUpload: summaries.plainUpload.peakRssMiB,
      },
      rssSource: gnuTimeAvailable() ? 'GNU time -v' : 'process.resourceUsage().maxRSS',
    };
  } finally {
    await sandbox.stop();
  }
}
