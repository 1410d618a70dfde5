import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../lambdas/core/ports';
import { contentLength, contentStream } from './content';
import { itemDocument, processingResultsPath, resultsCollection, type SandboxUrls } from './documents';
import {
  type AuthState,
  jsonReply,
  type PlaceholderValues,
  pathSegments,
  type Reply,
  rawReply,
  textReply,
} from './http';
import { type Job, resultItems, resultsAvailable, takeOverride } from './jobs';

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
  const [processId, second, third, fourth, ...extra] = segments.slice(prefix.length);
  if (processId === undefined || second === undefined || third === undefined || extra.length > 0) {
    return notFound();
  }

  if (second === 'catalog' && fourth === undefined) {
    return collectionFile(state, processId, third);
  }
  if (second === 'catalog' && fourth !== undefined) {
    return itemFile(state, processId, third, fourth);
  }
  if (fourth === undefined) {
    return assetFile(state, processId, second, third);
  }
  return notFound();
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

async function itemFile(
  state: FilesState,
  processId: string,
  collectionName: string,
  fileName: string,
): Promise<Reply> {
  const job = jobOfCollection(state, processId, collectionName);
  if (job === undefined || !fileName.endsWith('.json')) {
    return notFound();
  }
  const itemId = fileName.slice(0, -'.json'.length);
  const item = resultItems(job).find((candidate) => candidate.id === itemId);
  if (item === undefined) {
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
  return jsonReply(200, await itemDocument(job, item, state.urls), {
    'content-type': 'application/geo+json',
  });
}

/**
 * Serves an asset. Asset paths carry no job ID, so when several jobs of one process wrote the
 * same item and file, the latest job whose results are available wins, as outputs overwrite
 * each other on EODH.
 */
function assetFile(state: FilesState, processId: string, itemId: string, fileName: string): Reply {
  const now = state.clock.now();
  let fallback: { job: Job; key: string } | undefined;
  let found: { job: Job; key: string } | undefined;
  for (const job of [...state.jobs.values()].reverse()) {
    if (job.processId !== processId) {
      continue;
    }
    const item = resultItems(job).find((candidate) => candidate.id === itemId);
    const key = Object.entries(item?.assets ?? {}).find(([, asset]) => asset.file === fileName)?.[0];
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
  const asset = resultItems(chosen.job).find((candidate) => candidate.id === itemId)?.assets[chosen.key];
  if (found === undefined || content === undefined || asset === undefined) {
    return notFound();
  }
  return {
    kind: 'stream',
    status: 200,
    headers: { 'content-type': asset.type },
    length: contentLength(content),
    open: () => contentStream(content),
  };
}
