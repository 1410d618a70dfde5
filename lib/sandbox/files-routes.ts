import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import type { Clock } from '../../lambdas/core/ports';
import { contentLength, contentStream } from './content';
import {
  catalogDocument,
  itemDocument,
  processingResultsPath,
  resultsCollection,
  type SandboxUrls,
} from './documents';
import {
  type AuthState,
  jsonReply,
  type PlaceholderValues,
  pathSegments,
  type Reply,
  rawReply,
  textReply,
} from './http';
import { findResultItem, type Job, resultsAvailable, takeOverride } from './jobs';
import { catalogAt, resultIndex } from './results';
import type { ScenarioAsset } from './scenario-schema';
import type { ResolvedContent } from './scenarios';

/**
 * The workspace file host: STAC documents and asset files of finished jobs, under
 * `/files/workspaces-eodhp/processing-results/<processId>/`. Like the real host it wants the
 * bearer token and sends a browser without one to a sign-in page on another host.
 */

export interface FilesState {
  urls: SandboxUrls;
  clock: Clock;
  jobs: ReadonlyMap<string, Job>;
  placeholders(job: Job): PlaceholderValues;
}

const notFound = () => textReply(404, 'Not Found\n');

export async function routeFilesRequest(
  state: FilesState,
  request: IncomingMessage,
  auth: AuthState,
): Promise<Reply> {
  const method = request.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    return textReply(405, 'Method Not Allowed\n', 'text/plain; charset=utf-8', { allow: 'GET, HEAD' });
  }
  if (auth === 'none') {
    return signInRedirect(state, request);
  }
  if (auth === 'invalid') {
    return textReply(403, 'Forbidden\n');
  }

  const url = new URL(request.url ?? '/', state.urls.filesOrigin);
  const segments = pathSegments(url.pathname);
  const prefix = pathSegments(processingResultsPath) ?? [];
  if (segments === null || !prefix.every((segment, index) => segments[index] === segment)) {
    return notFound();
  }
  const [processId, second, ...rest] = segments.slice(prefix.length);
  if (processId === undefined || second === undefined) {
    return notFound();
  }
  if (second === 'catalog') {
    return catalogTreeFile(state, processId, rest);
  }
  const [fileName, ...extra] = rest;
  if (fileName === undefined || extra.length > 0) {
    return notFound();
  }
  return assetFile(state, processId, second, fileName);
}

/**
 * Serves a STAC document below `catalog/`: `col_<jobId>.json` is the collection, and in the
 * folder `col_<jobId>/<catalogId>/...` a child catalog is `catalog.json` and an item `<itemId>.json`.
 */
async function catalogTreeFile(state: FilesState, processId: string, parts: string[]): Promise<Reply> {
  const [collectionName, ...rest] = parts;
  const leaf = rest.pop();
  if (collectionName === undefined) {
    return notFound();
  }
  if (leaf === undefined) {
    return collectionFile(state, processId, collectionName);
  }
  const job = jobOfCollection(state, processId, collectionName);
  if (job === undefined || !leaf.endsWith('.json')) {
    return notFound();
  }
  if (leaf === 'catalog.json' && rest.length > 0) {
    return catalogFile(state, job, rest);
  }
  return itemFile(state, job, rest, leaf.slice(0, -'.json'.length));
}

function signInRedirect(state: FilesState, request: IncomingMessage): Reply {
  const target = `${state.urls.foreignOrigin}/sign-in?rd=${encodeURIComponent(`${state.urls.filesOrigin}${request.url ?? '/'}`)}`;
  return textReply(
    302,
    `<html><body><a href="${target}">Sign in</a></body></html>\n`,
    'text/html; charset=utf-8',
    {
      location: target,
    },
  );
}

/** Finds the job of a `col_<jobId>` name, provided it ran the process in the path. */
function jobOfCollection(state: FilesState, processId: string, collectionName: string): Job | undefined {
  if (!collectionName.startsWith('col_')) {
    return undefined;
  }
  const job = state.jobs.get(collectionName.slice('col_'.length));
  return job?.processId === processId ? job : undefined;
}

function collectionFile(state: FilesState, processId: string, fileName: string): Reply {
  if (!fileName.endsWith('.json')) {
    return notFound();
  }
  const job = jobOfCollection(state, processId, fileName.slice(0, -'.json'.length));
  if (job === undefined || !resultsAvailable(job, state.clock.now())) {
    return notFound();
  }
  return jsonReply(200, resultsCollection(job, state.urls));
}

function catalogFile(state: FilesState, job: Job, path: string[]): Reply {
  const index = resultIndex(job.scenario);
  const catalog = index === null ? undefined : catalogAt(index.root, path);
  if (catalog === undefined || !resultsAvailable(job, state.clock.now())) {
    return notFound();
  }
  return jsonReply(200, catalogDocument(job, catalog, state.urls));
}

async function itemFile(state: FilesState, job: Job, folders: string[], itemId: string): Promise<Reply> {
  const entry = findResultItem(job, itemId);
  const samePath =
    entry !== undefined &&
    entry.catalogPath.length === folders.length &&
    entry.catalogPath.every((id, position) => folders[position] === id);
  if (entry === undefined || !samePath) {
    return notFound();
  }
  const now = state.clock.now();
  const override = takeOverride(job, `item:${itemId}`, now);
  if (override !== undefined) {
    return rawReply(override, state.placeholders(job));
  }
  if (!resultsAvailable(job, now)) {
    return notFound();
  }
  return jsonReply(200, await itemDocument(job, entry.item, state.urls, entry.catalogPath), {
    'content-type': 'application/geo+json',
  });
}

/**
 * Serves an asset. Asset paths carry no job ID, so when several jobs of one process wrote the
 * same item and file, the latest job whose results are available wins, as outputs overwrite
 * each other on EODH.
 */
async function assetFile(
  state: FilesState,
  processId: string,
  itemId: string,
  fileName: string,
): Promise<Reply> {
  const now = state.clock.now();
  let fallback: { job: Job; key: string } | undefined;
  let found: { job: Job; key: string } | undefined;
  for (const job of [...state.jobs.values()].reverse()) {
    if (job.processId !== processId) {
      continue;
    }
    const item = findResultItem(job, itemId)?.item;
    const key = Object.entries(item?.assets ?? {}).find(
      ([, asset]) => asset.content !== undefined && asset.file === fileName,
    )?.[0];
    if (key === undefined) {
      continue;
    }
    fallback ??= { job, key };
    if (resultsAvailable(job, now)) {
      found = { job, key };
      break;
    }
  }

  // A job that has not finished can still have an override for the asset in effect.
  const chosen = found ?? fallback;
  if (chosen === undefined) {
    return notFound();
  }
  const override = takeOverride(chosen.job, `asset:${itemId}/${chosen.key}`, now);
  if (override !== undefined) {
    return rawReply(override, state.placeholders(chosen.job));
  }
  const content = chosen.job.contents.get(`${itemId}/${chosen.key}`);
  const asset = findResultItem(chosen.job, itemId)?.item.assets[chosen.key];
  if (found === undefined || content === undefined || asset === undefined) {
    return notFound();
  }
  return assetReply(content, asset);
}

/**
 * Sends an asset's bytes as the scenario sets: plain with `Content-Length`, chunked without it,
 * or gzip-compressed with `Content-Encoding: gzip`. A compressed body with `Content-Length` is
 * compressed whole in memory first, so keep such assets small.
 */
async function assetReply(content: ResolvedContent, asset: ScenarioAsset): Promise<Reply> {
  const headers: OutgoingHttpHeaders = { 'content-type': asset.type };
  if (asset.contentEncoding !== 'gzip') {
    return {
      kind: 'stream',
      status: 200,
      headers,
      length: asset.chunked ? null : contentLength(content),
      open: () => contentStream(content),
    };
  }

  headers['content-encoding'] = 'gzip';
  if (asset.chunked) {
    return {
      kind: 'stream',
      status: 200,
      headers,
      length: null,
      open: () => {
        const gzip = createGzip();
        pipeline(contentStream(content), gzip, () => {});
        return gzip;
      },
    };
  }
  const chunks: Buffer[] = [];
  for await (const chunk of contentStream(content)) {
    chunks.push(chunk as Buffer);
  }
  return { kind: 'buffer', status: 200, headers, body: gzipSync(Buffer.concat(chunks)) };
}
