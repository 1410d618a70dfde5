import { contentLength, contentSha256, sha256Multihash } from './content';
import { fillPlaceholders, type PlaceholderValues } from './http';
import { currentEntry, entryLinks, finishingEntry, type Job } from './jobs';
import { type ResultCatalog, resultIndex } from './results';
import { isTerminalStatus, type ScenarioItem } from './scenario-schema';

/**
 * JSON documents shaped like EODH's (ZOO-Project DRU behind OGC API - Processes): status
 * documents, the job list, the results STAC Collection, STAC Items and RFC 7807 exceptions.
 */

export interface SandboxUrls {
  /** Origin of the API server, such as `http://127.0.0.1:40123`. */
  apiUrl: string;
  /** `apiUrl` plus `/api/catalogue/stac/catalogs/user/catalogs/<workspace>`. */
  baseUrl: string;
  filesOrigin: string;
  foreignOrigin: string;
  workspace: string;
}

export type JsonDocument = Record<string, unknown>;

export const acceptedMessage = 'ZOO-Kernel accepted to run your service!';
export const dismissedMessage = 'ZOO-Kernel successfully dismissed your service!';

/** ZOO writes OGC exception types with an `https` prefix where the standard uses `http`. */
export const resultNotReadyType =
  'https://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/result-not-ready';

/** Files-server path prefix under which EODH publishes workflow outputs. */
export const processingResultsPath = '/files/workspaces-eodhp/processing-results';

export function statusUrlOf(urls: SandboxUrls, jobId: string): string {
  return `${urls.baseUrl}/jobs/${encodeURIComponent(jobId)}`;
}

function processFilesUrl(urls: SandboxUrls, processId: string): string {
  return `${urls.filesOrigin}${processingResultsPath}/${encodeURIComponent(processId)}`;
}

export function collectionUrlOf(urls: SandboxUrls, job: Job): string {
  return `${processFilesUrl(urls, job.processId)}/catalog/col_${encodeURIComponent(job.id)}.json`;
}

function catalogFolderUrl(urls: SandboxUrls, job: Job, catalogPath: readonly string[]): string {
  const folders = catalogPath.map((id) => `/${encodeURIComponent(id)}`).join('');
  return `${processFilesUrl(urls, job.processId)}/catalog/col_${encodeURIComponent(job.id)}${folders}`;
}

/** Returns the URL of an item. Items of child catalogs live in their catalog's folder. */
export function itemUrlOf(
  urls: SandboxUrls,
  job: Job,
  itemId: string,
  catalogPath: readonly string[] = [],
): string {
  return `${catalogFolderUrl(urls, job, catalogPath)}/${encodeURIComponent(itemId)}.json`;
}

/** Returns the URL of a child catalog, `catalog.json` in its folder below the collection's folder. */
export function catalogUrlOf(urls: SandboxUrls, job: Job, catalogPath: readonly string[]): string {
  return `${catalogFolderUrl(urls, job, catalogPath)}/catalog.json`;
}

/** Values that `{{name}}` placeholders in raw overrides, asset hrefs and extra links stand for. */
export function placeholderValues(job: Job, urls: SandboxUrls): PlaceholderValues {
  return {
    jobId: job.id,
    processId: job.processId,
    workspace: urls.workspace,
    apiUrl: urls.apiUrl,
    baseUrl: urls.baseUrl,
    statusUrl: statusUrlOf(urls, job.id),
    resultsUrl: `${statusUrlOf(urls, job.id)}/results`,
    filesOrigin: urls.filesOrigin,
    resultsFilesUrl: processFilesUrl(urls, job.processId),
    foreignOrigin: urls.foreignOrigin,
  };
}

/** Asset paths carry no job ID, as on EODH, so a later run with the same item IDs replaces them. */
export function assetUrlOf(urls: SandboxUrls, processId: string, itemId: string, file: string): string {
  return `${processFilesUrl(urls, processId)}/${encodeURIComponent(itemId)}/${encodeURIComponent(file)}`;
}

function isoTime(milliseconds: number): string {
  return new Date(milliseconds).toISOString();
}

function monitorLink(urls: SandboxUrls, job: Job): JsonDocument {
  return {
    title: 'Status location',
    rel: 'monitor',
    type: 'application/json',
    href: statusUrlOf(urls, job.id),
  };
}

function parentLink(urls: SandboxUrls): JsonDocument {
  return {
    title: 'The job list for the current process',
    rel: 'parent',
    type: 'application/json',
    href: `${urls.baseUrl}/jobs`,
  };
}

/**
 * Builds the status document that the execute request returns: running, progress 0, monitor
 * link only. The job reports the same document until its first timeline entry.
 */
export function acceptedDocument(job: Job, urls: SandboxUrls): JsonDocument {
  return {
    id: job.id,
    jobID: job.id,
    type: 'process',
    processID: job.processId,
    created: isoTime(job.submittedAt),
    started: isoTime(job.submittedAt),
    updated: isoTime(job.submittedAt),
    status: 'running',
    message: acceptedMessage,
    progress: 0,
    links: [monitorLink(urls, job)],
  };
}

/** Builds the status document at `now` from the job's timeline. */
export function statusDocument(job: Job, urls: SandboxUrls, now: number): JsonDocument {
  const entry = currentEntry(job, now);
  if (entry === null) {
    return acceptedDocument(job, urls);
  }

  const links = entryLinks(job, entry);
  const statusUrl = statusUrlOf(urls, job.id);
  const finishing = finishingEntry(job, now);
  const document: JsonDocument = {
    id: job.id,
    jobID: job.id,
    type: 'process',
    processID: job.processId,
    created: isoTime(job.submittedAt),
    started: isoTime(job.submittedAt),
  };
  if (finishing !== null) {
    document.finished = isoTime(job.submittedAt + finishing.at * 1000);
  }
  document.updated = isoTime(job.submittedAt + entry.at * 1000);
  document.status = entry.status;
  document.message = entry.message;
  if (!isTerminalStatus(entry.status) && entry.progress !== undefined) {
    document.progress = entry.progress;
  }

  const linkList: JsonDocument[] = [];
  if (links.monitor) {
    linkList.push(monitorLink(urls, job));
  }
  if (links.results) {
    linkList.push({
      title: 'Result location',
      rel: 'http://www.opengis.net/def/rel/ogc/1.0/results',
      type: 'application/json',
      href: `${statusUrl}/results`,
    });
  }
  for (const name of links.logs) {
    linkList.push({
      title: `Tool log ${name}`,
      rel: 'related',
      type: 'text/plain',
      href: `${statusUrl}/${encodeURIComponent(name)}`,
    });
  }
  if (links.parent) {
    linkList.push(parentLink(urls));
  }
  document.links = linkList;
  return document;
}

/** Builds the status document that DELETE returns. */
export function dismissedDocument(job: Job, urls: SandboxUrls, dismissedAt: number): JsonDocument {
  return {
    id: job.id,
    jobID: job.id,
    type: 'process',
    processID: job.processId,
    created: isoTime(job.submittedAt),
    started: isoTime(job.submittedAt),
    finished: isoTime(dismissedAt),
    updated: isoTime(dismissedAt),
    status: 'dismissed',
    message: dismissedMessage,
    links: [parentLink(urls)],
  };
}

/**
 * Builds one page of the job list. `numberTotal` counts only the jobs on this page, as EODH's does, and
 * `next` is present only when more jobs follow.
 */
export function jobListDocument(
  jobs: readonly Job[],
  urls: SandboxUrls,
  now: number,
  limit: number,
  skip: number,
): JsonDocument {
  const page = jobs.slice(skip, skip + limit);
  const pageUrl = (pageSkip: number) => `${urls.baseUrl}/jobs?limit=${limit}&skip=${pageSkip}`;
  const links: JsonDocument[] = [{ rel: 'self', type: 'application/json', href: pageUrl(skip) }];
  if (skip + limit < jobs.length) {
    links.push({ rel: 'next', type: 'application/json', href: pageUrl(skip + limit) });
  }
  if (skip > 0) {
    links.push({ rel: 'prev', type: 'application/json', href: pageUrl(Math.max(0, skip - limit)) });
  }
  return {
    jobs: page.map((job) => statusDocument(job, urls, now)),
    links,
    numberTotal: page.length,
  };
}

/** Returns the item's datetime: the scenario's, else `properties.datetime`, else the submission time. */
function itemDatetime(job: Job, item: ScenarioItem): string {
  const fromProperties = item.properties?.datetime;
  return item.datetime ?? (typeof fromProperties === 'string' ? fromProperties : isoTime(job.submittedAt));
}

/** Builds the results STAC Collection of a successful job. Its `item` links point at the files server. */
export function resultsCollection(job: Job, urls: SandboxUrls): JsonDocument {
  const index = resultIndex(job.scenario);
  if (index === null || typeof job.scenario.results === 'string') {
    return {};
  }
  const items = index.items.map((entry) => entry.item);
  const boxes = items.flatMap((item) => (item.bbox === undefined ? [] : [item.bbox]));
  const bbox =
    boxes.length === 0
      ? [-180, -90, 180, 90]
      : [
          Math.min(...boxes.map((box) => box[0])),
          Math.min(...boxes.map((box) => box[1])),
          Math.max(...boxes.map((box) => box[2])),
          Math.max(...boxes.map((box) => box[3])),
        ];
  const times = items.map((item) => itemDatetime(job, item)).sort();
  const processUrl = processFilesUrl(urls, job.processId);
  const values = placeholderValues(job, urls);

  return {
    type: 'Collection',
    stac_version: '1.0.0',
    id: `col_${job.id}`,
    title: job.scenario.results.title ?? `Result Collection for Job ${job.id}`,
    description: job.scenario.results.description ?? `Outputs of ${job.processId}`,
    license: 'proprietary',
    keywords: ['eoepca'],
    extent: {
      spatial: { bbox: [bbox] },
      temporal: { interval: [[times[0] ?? isoTime(job.submittedAt), times.at(-1) ?? null]] },
    },
    links: [
      { rel: 'root', type: 'application/json', href: `${processUrl}.json` },
      { rel: 'parent', type: 'application/json', href: `${processUrl}/catalog.json` },
      { rel: 'self', type: 'application/json', href: collectionUrlOf(urls, job) },
      ...childLinks(job, index.root, urls),
      ...job.scenario.results.links.map((link) => ({ ...link, href: fillPlaceholders(link.href, values) })),
    ],
  };
}

/** `child` links to the catalog's child catalogs, then `item` links to its own and its linked items. */
function childLinks(job: Job, catalog: ResultCatalog, urls: SandboxUrls): JsonDocument[] {
  const index = resultIndex(job.scenario);
  const linked = catalog.itemLinks.flatMap((id) => {
    const entry = index?.byId.get(id);
    return entry === undefined ? [] : [itemUrlOf(urls, job, id, entry.catalogPath)];
  });
  return [
    ...catalog.catalogs.map((child) => ({
      rel: 'child',
      type: 'application/json',
      href: catalogUrlOf(urls, job, child.path),
    })),
    ...[...catalog.items.map((item) => itemUrlOf(urls, job, item.id, catalog.path)), ...linked].map(
      (href) => ({ rel: 'item', type: 'application/geo+json', href }),
    ),
  ];
}

/** Builds a child STAC Catalog of a job's results, with `root` and `parent` links up the tree. */
export function catalogDocument(job: Job, catalog: ResultCatalog, urls: SandboxUrls): JsonDocument {
  const parentPath = catalog.path.slice(0, -1);
  return {
    type: 'Catalog',
    stac_version: '1.0.0',
    id: catalog.id,
    title: catalog.title ?? catalog.id,
    description: catalog.description ?? `Outputs of ${job.processId} in ${catalog.id}`,
    links: [
      { rel: 'root', type: 'application/json', href: collectionUrlOf(urls, job) },
      {
        rel: 'parent',
        type: 'application/json',
        href: parentPath.length === 0 ? collectionUrlOf(urls, job) : catalogUrlOf(urls, job, parentPath),
      },
      { rel: 'self', type: 'application/json', href: catalogUrlOf(urls, job, catalog.path) },
      ...childLinks(job, catalog, urls),
    ],
  };
}

/**
 * Builds a STAC Item of a job's results, with `file:size` and `file:checksum` where the scenario
 * sets them. Items of child catalogs also link to their `root` and `parent`.
 */
export async function itemDocument(
  job: Job,
  item: ScenarioItem,
  urls: SandboxUrls,
  catalogPath: readonly string[] = [],
): Promise<JsonDocument> {
  const assets: JsonDocument = {};
  const values = placeholderValues(job, urls);
  let usesFileExtension = false;
  for (const [key, asset] of Object.entries(item.assets)) {
    const content = job.contents.get(`${item.id}/${key}`);
    const document: JsonDocument = {
      href:
        asset.href === undefined
          ? assetUrlOf(urls, job.processId, item.id, asset.file)
          : fillPlaceholders(asset.href, values),
      type: asset.type,
      roles: asset.roles,
    };
    if (asset.title !== undefined) {
      document.title = asset.title;
    }
    const size = asset['file:size'];
    if (size !== undefined && content !== undefined) {
      document['file:size'] = size === true ? contentLength(content) : size;
      usesFileExtension = true;
    }
    const checksum = asset['file:checksum'];
    if (checksum !== undefined && content !== undefined) {
      document['file:checksum'] =
        checksum === true ? sha256Multihash(await contentSha256(content)) : checksum;
      usesFileExtension = true;
    }
    assets[key] = document;
  }

  const [west, south, east, north] = item.bbox ?? [];
  const geometry =
    item.bbox === undefined
      ? null
      : {
          type: 'Polygon',
          coordinates: [
            [
              [west, south],
              [east, south],
              [east, north],
              [west, north],
              [west, south],
            ],
          ],
        };

  const nestedLinks =
    catalogPath.length === 0
      ? []
      : [
          { rel: 'root', type: 'application/json', href: collectionUrlOf(urls, job) },
          { rel: 'parent', type: 'application/json', href: catalogUrlOf(urls, job, catalogPath) },
        ];
  return {
    type: 'Feature',
    stac_version: '1.0.0',
    stac_extensions: usesFileExtension ? ['https://stac-extensions.github.io/file/v2.1.0/schema.json'] : [],
    id: item.id,
    collection: `col_${job.id}`,
    geometry,
    ...(item.bbox === undefined ? {} : { bbox: item.bbox }),
    properties: { ...item.properties, datetime: itemDatetime(job, item) },
    links: [
      ...nestedLinks,
      { rel: 'collection', type: 'application/json', href: collectionUrlOf(urls, job) },
      { rel: 'self', type: 'application/geo+json', href: itemUrlOf(urls, job, item.id, catalogPath) },
    ],
    assets,
  };
}

/** Builds an RFC 7807 problem document. */
export function problemDocument(
  status: number,
  title: string,
  detail: string,
  type = 'about:blank',
): JsonDocument {
  return { type, title, status, detail };
}
