import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGuardedFetch } from '../../lambdas/adapters/http';
import { readMonitorConfig } from '../../lambdas/core/config';
import type { ManifestRecord } from '../../lambdas/core/manifest';
import { type LocalRunResult, runLocalMonitor } from '../../lib/local/runtime';
import { definition, recordingNotifier, type ScenarioRun } from './support';

/** Content of `manifest.json`, as the archive tests read it. */
export interface ArchivedManifest {
  jobId: string;
  totals: { archived: number; skipped: number; failed: number; bytes: number };
  records: ManifestRecord[];
}

/** Absolute path of the job's folder in a directory archive. */
export function jobDirectory(run: ScenarioRun): string {
  return join(run.archiveRoot, run.sandbox.workspace, run.job.jobId);
}

export async function readArchivedJson<T>(run: ScenarioRun, key: string): Promise<T> {
  return JSON.parse(await readFile(join(jobDirectory(run), key), 'utf8')) as T;
}

export function readManifest(run: ScenarioRun): Promise<ArchivedManifest> {
  return readArchivedJson<ArchivedManifest>(run, 'manifest.json');
}

/** Records of the job's files (assets and logs), by key. */
export function fileRecords(manifest: ArchivedManifest): Map<string, ManifestRecord> {
  return new Map(
    manifest.records
      .filter((record) => record.kind === 'asset' || record.kind === 'log')
      .map((record) => [record.key, record]),
  );
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Downloads a file from the run's sandbox with its token, as the archive step did. */
export async function downloadSource(run: ScenarioRun, url: string): Promise<Buffer> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${run.sandbox.token}` } });
  if (response.status !== 200) {
    throw new Error(`GET ${url} answered ${response.status}`);
  }
  return Buffer.from(await response.arrayBuffer());
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** What a pystac-style walk of an archived STAC catalog found. */
export interface StacWalk {
  /** Documents reached through `item` and `child` links, relative to the job folder. */
  documents: string[];
  /** Asset files reached, relative to the job folder. */
  assets: string[];
  /** `document -> href` for relative hrefs whose target is missing or outside the job folder. */
  unresolved: string[];
  /** `document rel href` for each absolute href, which points outside the archive. */
  absolute: string[];
}

/**
 * Walks the archived STAC from `results/collection.json` as pystac does when it opens the
 * catalog over `file://` or HTTP: each relative href is joined to its document's URL (Python's
 * `urljoin`), then percent-decoded (`unquote`) into a path. Only `item` and `child` links are
 * followed, each document once.
 */
export async function walkArchivedStac(jobFolder: string): Promise<StacWalk> {
  const walk: StacWalk = { documents: [], assets: [], unresolved: [], absolute: [] };
  const queue = [join(jobFolder, 'results', 'collection.json')];
  const seen = new Set(queue);
  const reached = new Set<string>();

  const resolve = async (documentPath: string, href: string): Promise<string | null> => {
    const url = new URL(href, pathToFileURL(documentPath));
    const target = decodeURIComponent(url.pathname);
    const path = relative(jobFolder, target);
    const inside = path !== '' && !path.startsWith('..') && !isAbsolute(path);
    return inside && (await exists(target)) ? target : null;
  };

  for (let document = queue.shift(); document !== undefined; document = queue.shift()) {
    const name = relative(jobFolder, document);
    walk.documents.push(name);
    const stac = JSON.parse(await readFile(document, 'utf8')) as {
      links?: { rel: string; href: string }[];
      assets?: Record<string, { href: string }>;
    };
    const hrefs: { rel: string; href: string }[] = [
      ...(stac.links ?? []),
      ...Object.values(stac.assets ?? {}).map((asset) => ({ rel: 'asset', href: asset.href })),
    ];

    for (const { rel, href } of hrefs) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) {
        walk.absolute.push(`${name} ${rel} ${href}`);
        continue;
      }
      const target = await resolve(document, href);
      if (target === null) {
        walk.unresolved.push(`${name} -> ${href}`);
        continue;
      }
      if (rel === 'asset' && !reached.has(target)) {
        reached.add(target);
        walk.assets.push(relative(jobFolder, target));
      }
      if ((rel === 'item' || rel === 'child') && !seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  walk.documents.sort();
  walk.assets.sort();
  return walk;
}

/**
 * Monitors the run's job a second time with the same sandbox, store and clock, as a retried
 * or resumed execution would, and returns the new result.
 */
export async function monitorAgain(run: ScenarioRun): Promise<LocalRunResult> {
  const config = readMonitorConfig({
    API_URL: run.sandbox.apiUrl,
    ALLOWED_HOSTS: run.sandbox.allowedHosts.join(','),
    ALLOW_LOOPBACK: 'true',
  });
  const fetch = createGuardedFetch({
    allowedHosts: run.sandbox.allowedHosts,
    allowLoopback: true,
    getToken: async () => run.sandbox.token,
  });
  try {
    return await runLocalMonitor({
      input: {
        jobId: run.job.jobId,
        workspace: run.sandbox.workspace,
        statusUrl: run.job.statusUrl,
        options: { pollInitialSeconds: 1, pollMaxSeconds: 5 },
      },
      executionName: `${run.job.jobId}-again`,
      definition: definition(),
      config,
      fetch,
      store: run.store,
      notifier: recordingNotifier(),
      clock: run.clock,
      random: () => 0.5,
    });
  } finally {
    await fetch.close();
  }
}
