import { constants } from 'node:fs';
import { access, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { archiveKeys, jobPrefix } from '../../lambdas/core/manifest';
import type { ArchiveStore } from '../../lambdas/core/ports';
import { UsageError } from './errors';

/**
 * Checks made before a local run starts, because a job can run for hours and a bad archive
 * target or summary path found at the end would lose its archive or its summary.
 */

/** Fails unless the archive can be written: a directory is created and probed, S3 is listed. */
export async function checkArchiveWritable(store: ArchiveStore, target: string): Promise<void> {
  if (store.location.startsWith('s3://')) {
    try {
      await store.list(archiveKeys.manifestPartsPrefix);
    } catch (error) {
      throw new UsageError(
        `cannot read the archive ${store.location}: ${(error as Error).message}. Check the bucket name, --s3-endpoint and AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID)`,
        { cause: error },
      );
    }
    return;
  }

  const root = resolve(store.location);
  const probe = join(root, `.eodh-monitor-probe-${process.pid}`);
  try {
    await mkdir(root, { recursive: true });
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (error) {
    throw new UsageError(
      `cannot write to the archive directory "${target}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give --archive a writable directory or s3://bucket/prefix`,
      { cause: error },
    );
  }
}

/** Fails unless `file` can be written later: its folder exists and is writable, and it is not a folder. */
export async function checkSummaryPath(file: string): Promise<void> {
  const path = resolve(file);
  const existing = await stat(path).catch(() => null);
  if (existing?.isDirectory()) {
    throw new UsageError(`--summary-json "${file}" is a directory: give a file path`);
  }
  try {
    const folder = await stat(dirname(path));
    if (!folder.isDirectory()) throw new Error(`${dirname(path)} is not a directory`);
    await access(dirname(path), constants.W_OK);
  } catch (error) {
    throw new UsageError(
      `cannot write --summary-json "${file}": its folder ${dirname(path)} does not exist or is not writable`,
      { cause: error },
    );
  }
}

/**
 * Fails when the archive already has this job's `outcome.json`, so a second local run (with a
 * wrong token, say) does not replace the outcome of a job that was monitored to its end. On
 * AWS the execution name does the same: one execution per job ID.
 */
export async function checkNotArchived(store: ArchiveStore, workspace: string, jobId: string): Promise<void> {
  const key = `${jobPrefix(workspace, jobId)}${archiveKeys.outcome}`;
  const existing = await store.head(key);
  if (existing !== null) {
    throw new UsageError(
      `job ${jobId} was already monitored to its end: ${store.uriOf(key)} exists. Add --force to monitor it again (archived files are kept and skipped when unchanged; outcome.json and manifest.json are replaced)`,
    );
  }
}

const flagForVariable: [RegExp, string][] = [
  [/\(set ALLOWED_HOSTS to add one\)/g, '(add --allowed-host <host> to allow one)'],
  [/\(add it to allowedHosts: [^)]*\)/g, '(add --allowed-host <host> to allow one)'],
  [/\bALLOWED_HOSTS\b/g, '--allowed-host'],
  [/\bALLOW_LOOPBACK\b/g, '--allow-loopback'],
  [/\boptions\.pollInitialSeconds\b/g, '--poll-initial-seconds'],
  [/\boptions\.pollMaxSeconds\b/g, '--poll-max-seconds'],
  [/\boptions\.maxJobAgeHours\b/g, '--max-job-age-hours'],
  [/\boptions\.logWaitSeconds\b/g, '--log-wait-seconds'],
  [/\bAPI_URL\b/g, '--api-url'],
];

/**
 * Rewrites a configuration message for the command line, naming the flags the user typed in
 * place of the environment variables the Lambda functions read.
 */
export function messageForFlags(message: string): string {
  let text = message;
  for (const [pattern, flag] of flagForVariable) text = text.replace(pattern, flag);
  if (/scheme http: on (127\.|localhost|\[::1\])/.test(text) && !text.includes('--allow-loopback')) {
    text += '; add --allow-loopback to monitor a sandbox on this machine';
  }
  return text;
}
