import { createHash } from 'node:crypto';
import * as z from 'zod';
import { mapWithConcurrency, type RetryPolicy, retrying } from './concurrency';
import { InvalidInputError } from './errors';
import { assertSafeKey, fileNameFromUrl, joinKey, SegmentAllocator, sanitizeSegment } from './keys';
import { archiveKeys, jobPrefix, type ManifestPart, type ManifestRecord } from './manifest';
import type { ArchiveStore, Clock, GuardedFetch } from './ports';
import {
  assetsOf,
  baseUrlOf,
  isHttpUrl,
  isJsonObject,
  type JsonObject,
  linksOf,
  resolveUrl,
  rewriteCatalog,
  rewriteItem,
  rootDocumentName,
  type StacNode,
  selfUrlOf,
  stacKindOf,
  walkStac,
} from './stac';
import {
  type ArchiveFailure,
  type CheckResult,
  type JobContext,
  type JobStatus,
  jobStatuses,
  type PlanSummary,
} from './state';
import { describeValue, validateJobId, validateWorkspace } from './validation';

/**
 * The archive plan: what `Plan archive` stores itself (status, results and item documents) and
 * the list of files (assets and logs) that the `Archive artifacts` batches copy.
 */

export const defaultBatchSize = 25;

/** Failures listed in summaries; the count covers the rest, so state never grows with the job. */
export const maxReportedFailures = 20;

/**
 * Maximum characters of a failure's URL and reason in a summary. With 20 failures that bounds a
 * summary's failure list at about 16 KB; the manifest keeps the full text.
 */
export const maxSummaryTextChars = 300;

/** Returns a failure for a summary in state, with its URL and reason cut to `maxSummaryTextChars`. */
export function summaryFailure(key: string, url: string, reason: string): ArchiveFailure {
  const cut = (text: string) =>
    text.length <= maxSummaryTextChars ? text : `${text.slice(0, maxSummaryTextChars - 3)}...`;
  return { key, url: cut(url), reason: cut(reason) };
}

/** Maximum STAC level followed; the results document is level 0. */
export const maxStacDepth = 4;

/** Maximum number of STAC documents fetched for one job, the results document included. */
export const maxStacDocuments = 10_000;

/** Maximum size in bytes of a status, results or item document; STAC items are usually a few KB. */
export const maxDocumentBytes = 16 * 1024 * 1024;

/** Documents fetched or stored at the same time. */
const documentConcurrency = 8;

/** STAC documents held in memory at once during the walk. */
const walkChunkSize = 200;

// ---------------------------------------------------------------------------------------------
// Plan document

const planEntrySchema = z.object({
  /** Key relative to the job prefix, such as `results/ndvi-20260601/ndvi.tif`. */
  key: z.string().min(1),
  url: z.string().min(1),
  kind: z.enum(['asset', 'log']),
  batch: z.number().int().nonnegative(),
  /** STAC `file:size`. */
  expectedBytes: z.number().int().nonnegative().optional(),
  /** STAC `file:checksum` as written (a multihash in hex). */
  checksum: z.string().optional(),
  /** STAC asset `type`, or `text/plain` for logs. */
  contentType: z.string().optional(),
  /**
   * Size, digest and type of the copy an earlier run archived under this key from the same URL,
   * read from its manifest parts, so the file is skipped even when it now falls in another batch.
   */
  archived: z
    .object({
      bytes: z.number().int().nonnegative(),
      sha256: z.string().nullable(),
      contentType: z.string().nullable(),
    })
    .optional(),
});

const archivePlanSchema = z.object({
  jobId: z.string(),
  workspace: z.string(),
  createdAt: z.string(),
  batchSize: z.number().int().positive(),
  entries: z.array(planEntrySchema),
});

const batchPlanSchema = z.object({
  jobId: z.string(),
  workspace: z.string(),
  createdAt: z.string(),
  batch: z.number().int().nonnegative(),
  entries: z.array(planEntrySchema),
});

export type PlanEntry = z.infer<typeof planEntrySchema>;

/** Content of `plan.json`. */
export type ArchivePlan = z.infer<typeof archivePlanSchema>;

/** Content of `plan/batch-<n>.json`: the entries of one batch. */
export type BatchPlan = z.infer<typeof batchPlanSchema>;

/** Parses `plan.json`; throws a ZodError or SyntaxError naming the problem. */
export function parseArchivePlan(text: string): ArchivePlan {
  return archivePlanSchema.parse(JSON.parse(text));
}

/** Parses `plan/batch-<n>.json`; throws a ZodError or SyntaxError naming the problem. */
export function parseBatchPlan(text: string): BatchPlan {
  return batchPlanSchema.parse(JSON.parse(text));
}

/** Returns `[0, 1, ..., n - 1]` for the n batches that `fileCount` files fill. */
export function batchIndices(fileCount: number, batchSize: number): number[] {
  return Array.from({ length: Math.ceil(fileCount / batchSize) }, (_, index) => index);
}

// ---------------------------------------------------------------------------------------------
// Status document links

const resultsRelations = new Set([
  'results',
  'http://www.opengis.net/def/rel/ogc/1.0/results',
  'https://www.opengis.net/def/rel/ogc/1.0/results',
]);

export interface StatusLinks {
  resultsUrl: string | null;
  /** Absolute URLs of the `related` text/plain links, each once, in document order. */
  logUrls: string[];
}

/**
 * Finds the results link (OGC `.../rel/ogc/1.0/results` with either scheme, or plain
 * `results`) and the log links (`related` with a `text/plain` type, which is how ZOO-Project
 * publishes one log per workflow step) of a status document.
 */
export function readStatusLinks(status: JsonObject, statusUrl: string): StatusLinks {
  let resultsUrl: string | null = null;
  const logUrls: string[] = [];

  for (const link of linksOf(status)) {
    const rel = link.rel.toLowerCase();
    const url = resolveUrl(link.href, statusUrl);
    if (url === null) {
      continue;
    }
    if (resultsUrl === null && resultsRelations.has(rel)) {
      resultsUrl = url;
    }
    const type = typeof link.type === 'string' ? link.type.toLowerCase() : '';
    if (rel === 'related' && type.startsWith('text/plain') && !logUrls.includes(url)) {
      logUrls.push(url);
    }
  }
  return { resultsUrl, logUrls };
}

function jobStatusOf(status: JsonObject, check: CheckResult | null): JobStatus {
  const text = typeof status.status === 'string' ? status.status.trim().toLowerCase() : '';
  return (jobStatuses as readonly string[]).includes(text)
    ? (text as JobStatus)
    : (check?.status ?? 'unknown');
}

// ---------------------------------------------------------------------------------------------
// Fetching documents

/** Logger methods the archive code uses; Powertools' Logger fits. */
export interface ArchiveLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
}

/** HTTP statuses worth another attempt: rate limiting and gateway errors. */
export const retryableStatuses: ReadonlySet<number> = new Set([429, 502, 503, 504]);

type DocumentResult =
  | { ok: true; bytes: Uint8Array; retryable: false }
  | {
      ok: false;
      status: number | null;
      reason: string;
      retryable: boolean;
      /** `type` of a JSON error document (RFC 7807 or OGC exception), when the body was one. */
      problemType?: string;
    };

/** Largest error body read to find its `type`; OGC exception documents are a few hundred bytes. */
const maxProblemBytes = 64 * 1024;

/** Reads the `type` of a small JSON error body, or returns undefined; the body is consumed either way. */
async function readProblemType(response: Response): Promise<string | undefined> {
  const contentType = response.headers.get('content-type')?.toLowerCase() ?? '';
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (!contentType.includes('json') || declared > maxProblemBytes) {
    await response.body?.cancel().catch(() => {});
    return undefined;
  }
  try {
    const text = await response.text();
    const document = text.length <= maxProblemBytes ? (JSON.parse(text) as unknown) : undefined;
    return isJsonObject(document) && typeof document.type === 'string' ? document.type : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Returns whether an error document is ZOO-Project's `NoApplicableCode` exception, which EODH's
 * results endpoint returns with status 500 for a job that produced no output at all.
 */
function isNoApplicableCode(problemType: string | undefined): boolean {
  return problemType !== undefined && /(^|\/)NoApplicableCode$/.test(problemType);
}

/**
 * Returns whether a rejected fetch may succeed on retry. Network errors and timeouts may, but a
 * URL that the guard rejects never does.
 */
export function isRetryableFetchError(error: unknown): boolean {
  return !(error instanceof Error && error.name === 'UrlNotAllowedError');
}

export function errorMessageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function fetchDocumentOnce(fetch: GuardedFetch, url: string, accept: string): Promise<DocumentResult> {
  let response: Response;
  try {
    response = await fetch(url, { accept });
  } catch (error) {
    return {
      ok: false,
      status: null,
      reason: errorMessageOf(error),
      retryable: isRetryableFetchError(error),
    };
  }

  if (!response.ok) {
    const problemType = await readProblemType(response);
    return {
      ok: false,
      status: response.status,
      reason: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
      retryable: retryableStatuses.has(response.status),
      ...(problemType === undefined ? {} : { problemType }),
    };
  }

  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxDocumentBytes) {
    await response.body?.cancel().catch(() => {});
    return {
      ok: false,
      status: response.status,
      reason: `larger than ${maxDocumentBytes} bytes`,
      retryable: false,
    };
  }

  const chunks: Uint8Array[] = [];
  let received = 0;
  if (response.body !== null) {
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          break;
        }
        received += value.byteLength;
        if (received > maxDocumentBytes) {
          await reader.cancel().catch(() => {});
          return {
            ok: false,
            status: response.status,
            reason: `larger than ${maxDocumentBytes} bytes`,
            retryable: false,
          };
        }
        chunks.push(value);
      }
    } catch (error) {
      return {
        ok: false,
        status: response.status,
        reason: `reading the body failed: ${errorMessageOf(error)}`,
        retryable: true,
      };
    }
  }
  return { ok: true, bytes: Buffer.concat(chunks), retryable: false };
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Planner

export interface PlannerDependencies {
  fetch: GuardedFetch;
  store: ArchiveStore;
  clock: Clock;
  logger: ArchiveLogger;
  batchSize: number;
  retry: RetryPolicy;
  /** @default `maxStacDepth` and `maxStacDocuments` */
  limits?: { maxDepth?: number; maxDocuments?: number };
}

/**
 * Archives a finished job's documents and plans the copy of its files, in these steps:
 * 1. Re-fetch the status document and store it verbatim.
 * 2. Fetch the results document and walk its STAC tree.
 * 3. Store rewritten copies of every catalog and item.
 * 4. List every asset and log file with its key and batch.
 * 5. Store each batch's entries, `plan.json` and the documents' manifest part.
 *
 * Problems with the job's documents (not found, rejected token, invalid JSON, limits reached)
 * are recorded as failures and the plan goes on with what it has. A `{}` results document and
 * a 500 `NoApplicableCode` response mean that the job produced nothing, which is not a failure.
 * Only store errors throw.
 * The same href shared by several items is copied once per item, so each item's folder is
 * complete on its own.
 */
export async function planArchive(
  dependencies: PlannerDependencies,
  job: JobContext,
  check: CheckResult | null,
): Promise<PlanSummary> {
  const planner = new ArchivePlanner(dependencies, job);
  return planner.run(check);
}

interface PendingItem {
  node: Extract<StacNode, { status: 'fetched' }>;
  name: string;
  parentName: string;
  assetPaths: Map<string, string>;
}

interface PendingCatalog {
  node: Extract<StacNode, { status: 'fetched' }>;
  name: string;
  parentName: string | null;
}

type PlannedFile = Omit<PlanEntry, 'batch'>;

class ArchivePlanner {
  private readonly prefix: string;
  private readonly failures: ArchiveFailure[] = [];
  private failureCount = 0;
  private readonly records: ManifestRecord[] = [];
  /**
   * Start order of each record's document. Documents are written concurrently and finish in any
   * order, so the manifest part is sorted by this to stay the same from run to run.
   */
  private readonly recordOrder = new Map<ManifestRecord, number>();
  private nextRecordOrder = 0;
  private readonly assets: PlannedFile[] = [];
  private readonly logs: PlannedFile[] = [];
  /** Archived name of each STAC document, by fetch URL and `self` href. */
  private readonly names = new Map<string, string>();
  private readonly catalogs: PendingCatalog[] = [];
  private readonly resultNames = new SegmentAllocator();

  constructor(
    private readonly dependencies: PlannerDependencies,
    private readonly job: JobContext,
  ) {
    this.prefix = jobPrefix(job.workspace, job.jobId);
    this.resultNames.reserve('collection', rootDocumentName);
  }

  async run(check: CheckResult | null): Promise<PlanSummary> {
    const { store, clock, batchSize, logger } = this.dependencies;

    const status = await this.archiveStatus(check);
    if (status.resultsUrl === null) {
      this.reportMissingResults(status.jobStatus, 'the status document has no results link');
    } else {
      await this.archiveResults(status.resultsUrl, status.jobStatus);
    }
    this.planLogs(status.logUrls);

    const files = [...this.logs, ...this.assets];
    const earlier = await this.readEarlierRecords();
    const entries: PlanEntry[] = files.map((file, index) => {
      const entry: PlanEntry = { ...file, batch: Math.floor(index / batchSize) };
      const record = earlier.get(file.key);
      if (record !== undefined && record.source === file.url) {
        entry.archived = {
          bytes: record.bytes,
          sha256: typeof record.sha256 === 'string' ? record.sha256 : null,
          contentType: typeof record.contentType === 'string' ? record.contentType : null,
        };
      }
      return entry;
    });
    const plan: ArchivePlan = {
      jobId: this.job.jobId,
      workspace: this.job.workspace,
      createdAt: new Date(clock.now()).toISOString(),
      batchSize,
      entries,
    };
    await this.putBatchPlans(plan);
    await this.put(archiveKeys.plan, JSON.stringify(plan), 'application/json');
    const ordered = [...this.records].sort(
      (left, right) => (this.recordOrder.get(left) ?? 0) - (this.recordOrder.get(right) ?? 0),
    );
    const part: ManifestPart = { part: 'documents', records: ordered };
    await this.put(archiveKeys.documentsPart, JSON.stringify(part), 'application/json');

    const archived = this.records.filter((record) => record.outcome === 'archived');
    const summary: PlanSummary = {
      archiveUri: store.uriOf(this.prefix),
      planKey: `${this.prefix}${archiveKeys.plan}`,
      batches: batchIndices(entries.length, batchSize),
      files: entries.length,
      documentsArchived: archived.length,
      documentBytes: archived.reduce((sum, record) => sum + record.bytes, 0),
      failures: this.failures,
      failureCount: this.failureCount,
    };
    logger.info('archive planned', {
      files: summary.files,
      batches: summary.batches.length,
      documentsArchived: summary.documentsArchived,
      failureCount: summary.failureCount,
    });
    return summary;
  }

  // -- status ----------------------------------------------------------------------------------

  private async archiveStatus(
    check: CheckResult | null,
  ): Promise<{ jobStatus: JobStatus; resultsUrl: string | null; logUrls: string[] }> {
    const statusUrl = this.job.statusUrl;
    const fallback = {
      jobStatus: check?.status ?? 'unknown',
      resultsUrl: check?.resultsUrl ?? null,
      logUrls: [],
    };

    const fetched = await this.fetchDocument(statusUrl, 'application/json');
    if (!fetched.ok) {
      const reason =
        fetched.status === 401 || fetched.status === 403
          ? `token rejected or job not found (HTTP ${fetched.status}) while fetching the status document, so no log files were archived`
          : `status document not fetched (${fetched.reason}), so no log files were archived`;
      this.fail(archiveKeys.status, statusUrl, reason, 'status');
      return fallback;
    }

    const document = parseJson(fetched.bytes);
    if (!isJsonObject(document)) {
      this.fail(archiveKeys.status, statusUrl, 'status document is not a JSON object', 'status');
      return fallback;
    }

    await this.putDocument(archiveKeys.status, fetched.bytes, 'application/json', 'status', statusUrl);
    const links = readStatusLinks(document, statusUrl);
    return {
      jobStatus: jobStatusOf(document, check),
      resultsUrl: links.resultsUrl ?? check?.resultsUrl ?? null,
      logUrls: links.logUrls,
    };
  }

  // -- results ---------------------------------------------------------------------------------

  private async archiveResults(resultsUrl: string, jobStatus: JobStatus): Promise<void> {
    const fetched = await this.fetchDocument(resultsUrl, 'application/json');
    if (!fetched.ok) {
      if (fetched.status === 401 || fetched.status === 403) {
        this.fail(
          archiveKeys.collection,
          resultsUrl,
          `token rejected (HTTP ${fetched.status}) while fetching the results document`,
          'results',
        );
      } else if (fetched.status === 500 && isNoApplicableCode(fetched.problemType)) {
        this.dependencies.logger.info('results endpoint reports that the job produced no output', {
          jobStatus,
          reason: `${fetched.reason} ${fetched.problemType}`,
        });
      } else if (fetched.status === 404 || (fetched.status !== null && fetched.status >= 500)) {
        this.reportMissingResults(
          jobStatus,
          `the results document was not found (${fetched.reason})`,
          resultsUrl,
        );
      } else {
        this.fail(
          archiveKeys.collection,
          resultsUrl,
          `results document not fetched (${fetched.reason})`,
          'results',
        );
      }
      return;
    }

    const document = parseJson(fetched.bytes);
    if (!isJsonObject(document)) {
      this.fail(archiveKeys.collection, resultsUrl, 'results document is not a JSON object', 'results');
      return;
    }
    if (Object.keys(document).length === 0) {
      // EODH returns `{}` when a workflow produced no outputs; keep it as the record of that.
      this.dependencies.logger.info('results document is empty', { jobStatus });
      await this.putDocument(
        archiveKeys.collection,
        fetched.bytes,
        'application/json',
        'results',
        resultsUrl,
      );
      return;
    }
    if (stacKindOf(document) !== 'catalog') {
      await this.putDocument(
        archiveKeys.collection,
        fetched.bytes,
        'application/json',
        'results',
        resultsUrl,
      );
      this.fail(
        archiveKeys.collection,
        resultsUrl,
        'results document is not a STAC Catalog or Collection, so it was stored as received and no items were archived',
        null,
      );
      return;
    }

    const maxDepth = this.dependencies.limits?.maxDepth ?? maxStacDepth;
    const maxDocuments = this.dependencies.limits?.maxDocuments ?? maxStacDocuments;
    const stats = await walkStac(
      {
        rootUrl: resultsUrl,
        root: document,
        fetchDocument: async (url) => {
          const item = await this.fetchDocument(url, 'application/geo+json, application/json');
          if (!item.ok) {
            return { ok: false, reason: item.reason };
          }
          const json = parseJson(item.bytes);
          return isJsonObject(json)
            ? { ok: true, document: json }
            : { ok: false, reason: 'not a JSON object' };
        },
        maxDepth,
        maxDocuments,
        concurrency: documentConcurrency,
        chunkSize: walkChunkSize,
      },
      (nodes) => this.handleChunk(nodes),
    );

    if (stats.linksBeyondDepth > 0) {
      this.fail(
        archiveKeys.collection,
        resultsUrl,
        `${stats.linksBeyondDepth} STAC links lead deeper than ${maxDepth} levels below the results document and were not followed`,
        null,
      );
    }
    if (stats.linksBeyondLimit > 0) {
      this.fail(
        archiveKeys.collection,
        resultsUrl,
        `the results contain more than ${maxDocuments} STAC documents, so ${stats.linksBeyondLimit} links were not followed`,
        null,
      );
    }

    await mapWithConcurrency(this.catalogs, documentConcurrency, (catalog) => this.storeCatalog(catalog));
  }

  /** Records why there are no results: a note for a job that did not succeed, a failure otherwise. */
  private reportMissingResults(jobStatus: JobStatus, reason: string, url: string | null = null): void {
    if (jobStatus === 'failed' || jobStatus === 'dismissed') {
      this.dependencies.logger.info('no results for a job that did not succeed', { jobStatus, reason });
      return;
    }
    this.fail(archiveKeys.collection, url ?? this.job.statusUrl, `no results archived: ${reason}`, null);
  }

  /** Names the documents of one chunk in link order, then stores its items concurrently. */
  private async handleChunk(nodes: StacNode[]): Promise<void> {
    const items: PendingItem[] = [];

    for (const node of nodes) {
      if (node.parentUrl === null && node.status === 'fetched') {
        this.nameDocument(node, rootDocumentName);
        this.catalogs.push({ node, name: rootDocumentName, parentName: null });
        continue;
      }
      const parentName = (node.parentUrl !== null && this.names.get(node.parentUrl)) || rootDocumentName;

      if (node.status === 'failed') {
        const placeholder = sanitizeSegment(fileNameFromUrl(node.url), 'document.json');
        this.fail(
          joinKey('results', placeholder),
          node.url,
          `STAC document not archived: ${node.reason}`,
          'item',
        );
        continue;
      }

      const base = this.resultNames.claim(this.documentBaseName(node), (candidate) => [`${candidate}.json`]);
      const name = `${base}.json`;
      this.nameDocument(node, name);
      if (node.kind === 'catalog') {
        this.catalogs.push({ node, name, parentName });
      } else {
        items.push({ node, name, parentName, assetPaths: this.planAssets(node, base) });
      }
    }

    await mapWithConcurrency(items, documentConcurrency, (item) => this.storeItem(item));
  }

  private nameDocument(node: Extract<StacNode, { status: 'fetched' }>, name: string): void {
    this.names.set(node.url, name);
    const self = selfUrlOf(node.document, node.url);
    if (self !== null && !this.names.has(self)) {
      this.names.set(self, name);
    }
  }

  /** Returns the document's `id`, or its file name without `.json`, as a safe segment. */
  private documentBaseName(node: Extract<StacNode, { status: 'fetched' }>): string {
    const fromUrl = fileNameFromUrl(node.url).replace(/\.(geo)?json$/i, '');
    const fallback = sanitizeSegment(fromUrl, node.kind === 'item' ? 'item' : 'catalog');
    const id = node.document.id;
    return typeof id === 'string' ? sanitizeSegment(id, fallback) : fallback;
  }

  /**
   * Plans a copy of each asset under `results/<item>/`. Assets with the same href share one
   * file; different hrefs with the same file name get `-2`, `-3` suffixes. Returns each archived
   * asset's path relative to `results/`, by asset name.
   */
  private planAssets(node: Extract<StacNode, { status: 'fetched' }>, base: string): Map<string, string> {
    const paths = new Map<string, string>();
    const fileByUrl = new Map<string, string>();
    const fileNames = new SegmentAllocator();

    for (const asset of assetsOf(node.document, baseUrlOf(node.document, node.url))) {
      const assetSegment = sanitizeSegment(asset.name, 'asset');
      if (asset.url === null || !isHttpUrl(asset.url)) {
        const reason =
          asset.href === ''
            ? `asset "${asset.name}" has no href`
            : `asset "${asset.name}" href is not an http(s) URL`;
        this.fail(joinKey('results', base, assetSegment), asset.href, reason, 'asset');
        continue;
      }

      let file = fileByUrl.get(asset.url);
      if (file === undefined) {
        file = fileNames.claim(sanitizeSegment(fileNameFromUrl(asset.url), assetSegment));
        fileByUrl.set(asset.url, file);
        const planned: PlannedFile = { key: joinKey('results', base, file), url: asset.url, kind: 'asset' };
        if (asset.size !== undefined) {
          planned.expectedBytes = asset.size;
        }
        if (asset.checksum !== undefined) {
          planned.checksum = asset.checksum;
        }
        if (asset.type !== undefined) {
          planned.contentType = asset.type;
        }
        this.assets.push(planned);
      }
      paths.set(asset.name, `${base}/${file}`);
    }
    return paths;
  }

  private async storeItem(item: PendingItem): Promise<void> {
    const rewritten = rewriteItem(item.node.document, {
      documentUrl: item.node.url,
      selfName: item.name,
      parentName: item.parentName,
      names: this.names,
      assetPaths: item.assetPaths,
    });
    const bytes = new TextEncoder().encode(JSON.stringify(rewritten, null, 2));
    await this.putDocument(joinKey('results', item.name), bytes, 'application/geo+json', 'item', null);
  }

  private async storeCatalog(catalog: PendingCatalog): Promise<void> {
    const rewritten = rewriteCatalog(catalog.node.document, {
      documentUrl: catalog.node.url,
      selfName: catalog.name,
      parentName: catalog.parentName,
      names: this.names,
    });
    const bytes = new TextEncoder().encode(JSON.stringify(rewritten, null, 2));
    await this.putDocument(joinKey('results', catalog.name), bytes, 'application/json', 'results', null);
  }

  // -- logs ------------------------------------------------------------------------------------

  private planLogs(logUrls: string[]): void {
    const names = new SegmentAllocator();
    logUrls.forEach((url, index) => {
      if (!isHttpUrl(url)) {
        this.fail(joinKey('logs', `log-${index + 1}.log`), url, 'log link is not an http(s) URL', 'log');
        return;
      }
      const name = names.claim(sanitizeSegment(fileNameFromUrl(url), `log-${index + 1}.log`));
      this.logs.push({ key: joinKey('logs', name), url, kind: 'log', contentType: 'text/plain' });
    });
  }

  /**
   * Returns the archived and skipped file records of earlier runs' batch parts, by key. A part
   * that cannot be read is logged and left out, which only means its files are copied again.
   */
  private async readEarlierRecords(): Promise<Map<string, ManifestRecord>> {
    const { store, logger } = this.dependencies;
    const partKeys = (await store.list(`${this.prefix}${archiveKeys.manifestPartsPrefix}`)).filter(
      (key) => key.endsWith('.json') && !key.endsWith(archiveKeys.documentsPart),
    );
    const records = new Map<string, ManifestRecord>();
    await mapWithConcurrency(partKeys, documentConcurrency, async (key) => {
      try {
        const bytes = await store.getObject(key);
        const part = JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array())) as Partial<ManifestPart>;
        for (const record of Array.isArray(part.records) ? part.records : []) {
          const known = typeof record?.key === 'string' && Number.isSafeInteger(record.bytes);
          if (known && (record.outcome === 'archived' || record.outcome === 'skipped')) {
            records.set(record.key, record);
          }
        }
      } catch (error) {
        logger.warn('earlier manifest part is invalid, its files are copied again', {
          key,
          error: errorMessageOf(error),
        });
      }
    });
    return records;
  }

  /**
   * Stores each batch's entries as `plan/batch-<n>.json`, so a batch reads a few KB instead of
   * the whole plan (about 15 MB for 10,000 files). `plan.json` stays the full listing.
   */
  private async putBatchPlans(plan: ArchivePlan): Promise<void> {
    const batches: PlanEntry[][] = batchIndices(plan.entries.length, plan.batchSize).map(() => []);
    for (const entry of plan.entries) {
      batches[entry.batch]?.push(entry);
    }
    await mapWithConcurrency(batches, documentConcurrency, (entries, batch) => {
      const batchPlan: BatchPlan = {
        jobId: plan.jobId,
        workspace: plan.workspace,
        createdAt: plan.createdAt,
        batch,
        entries,
      };
      return this.put(archiveKeys.batchPlan(batch), JSON.stringify(batchPlan), 'application/json');
    });
  }

  // -- helpers ---------------------------------------------------------------------------------

  private fetchDocument(url: string, accept: string): Promise<DocumentResult> {
    return retrying(this.dependencies.retry, () => fetchDocumentOnce(this.dependencies.fetch, url, accept));
  }

  /** Stores `body` under the job prefix and returns its SHA-256. */
  private async put(key: string, body: string | Uint8Array, contentType: string): Promise<string> {
    assertSafeKey(key);
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    const sha256 = sha256Hex(bytes);
    await this.dependencies.store.putObject(`${this.prefix}${key}`, bytes, { contentType, sha256 });
    return sha256;
  }

  private async putDocument(
    key: string,
    bytes: Uint8Array,
    contentType: string,
    kind: ManifestRecord['kind'],
    source: string | null,
  ): Promise<void> {
    const order = this.nextRecordOrder++;
    const sha256 = await this.put(key, bytes, contentType);
    const record: ManifestRecord = {
      key,
      source,
      kind,
      bytes: bytes.byteLength,
      sha256,
      contentType,
      outcome: 'archived',
    };
    this.records.push(record);
    this.recordOrder.set(record, order);
  }

  /**
   * Records a planning failure in the summary and, when `kind` is set, as a failed manifest
   * record. Only the first `maxReportedFailures` are logged and listed; all are counted.
   */
  private fail(key: string, url: string, reason: string, kind: ManifestRecord['kind'] | null): void {
    this.failureCount += 1;
    if (this.failures.length < maxReportedFailures) {
      this.failures.push(summaryFailure(key, url, reason));
      this.dependencies.logger.warn('archive planning failure', { key, url, reason });
    }
    if (kind !== null) {
      const record: ManifestRecord = {
        key,
        source: url,
        kind,
        bytes: 0,
        sha256: null,
        contentType: null,
        outcome: 'failed',
        reason,
      };
      this.records.push(record);
      this.recordOrder.set(record, this.nextRecordOrder++);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Input

/**
 * Checks the fields of `job` that the archive steps use and throws `InvalidInputError` naming
 * the first invalid one. Other fields pass through unchecked.
 *
 * @param field - path of `value` in the input, for messages
 */
export function validateArchiveJob(value: unknown, field = 'job'): JobContext {
  if (!isJsonObject(value)) {
    throw new InvalidInputError(field, `invalid ${field} ${describeValue(value)}: expected an object`);
  }
  validateJobId(value.jobId, `${field}.jobId`);
  validateWorkspace(value.workspace, `${field}.workspace`);
  const statusUrl = value.statusUrl;
  if (typeof statusUrl !== 'string' || !URL.canParse(statusUrl) || !isHttpUrl(new URL(statusUrl).href)) {
    throw new InvalidInputError(
      `${field}.statusUrl`,
      `invalid ${field}.statusUrl ${describeValue(statusUrl)}: expected an absolute http(s) URL`,
    );
  }
  return value as unknown as JobContext;
}
