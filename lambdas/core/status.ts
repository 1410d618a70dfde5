import { type JobStatus, terminalStatuses } from './state';

/**
 * Tolerant reading of an OGC API - Processes status document (`statusInfo`). Servers differ:
 * ZOO-Project sends `id` next to `jobID`, older deployments use `rel: status` for the monitor
 * link, finished documents drop `progress`, and other servers spell statuses their own way.
 * Every field is optional here. Anything unreadable becomes null or `unknown` instead of an
 * error, so one odd document does not fail the state machine's Choice state.
 */

export const maxMessageLength = 500;
export const maxRawStatusLength = 40;
const maxProcessIdLength = 200;
const maxTimestampLength = 64;

/** Status spellings seen from OGC servers, keyed without case, spaces, `-` or `_`. */
const statusSynonyms: Record<string, JobStatus> = {
  successful: 'successful',
  success: 'successful',
  succeeded: 'successful',
  completed: 'successful',
  complete: 'successful',
  finished: 'successful',
  failed: 'failed',
  error: 'failed',
  failure: 'failed',
  dismissed: 'dismissed',
  canceled: 'dismissed',
  cancelled: 'dismissed',
  accepted: 'accepted',
  queued: 'accepted',
  pending: 'accepted',
  submitted: 'accepted',
  running: 'running',
  inprogress: 'running',
  started: 'running',
  processing: 'running',
  paused: 'paused',
};

/** Maps a status value to the monitor's status set; anything unrecognised is `unknown`. */
export function normalizeStatus(value: unknown): JobStatus {
  if (typeof value !== 'string') return 'unknown';
  const key = value
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '');
  return Object.hasOwn(statusSynonyms, key) ? (statusSynonyms[key] ?? 'unknown') : 'unknown';
}

export function isTerminalStatus(status: JobStatus): boolean {
  return terminalStatuses.includes(status);
}

/**
 * Reads progress as a whole percentage in [0, 100]. Numbers and numeric strings (`"45"`,
 * `"45.5"`, `"45%"`) are rounded and clamped. Anything else, NaN and infinities give null.
 */
export function parseProgress(value: unknown): number | null {
  let number: number;
  if (typeof value === 'number') {
    number = value;
  } else if (typeof value === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*%?\s*$/.test(value)) {
    number = Number.parseFloat(value.replace('%', '').trim());
  } else {
    return null;
  }
  if (!Number.isFinite(number)) return null;
  return Math.min(100, Math.max(0, Math.round(number)));
}

/** Keeps a timestamp as sent when it is a string that parses as a date, else null. */
export function parseTimestamp(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (text === '' || text.length > maxTimestampLength || Number.isNaN(Date.parse(text))) return null;
  return text;
}

/** Cuts text to `maxLength` characters (code points, so no surrogate pair is split), marking the cut with "...". */
export function truncateText(text: string, maxLength: number): string {
  const characters = Array.from(text);
  if (characters.length <= maxLength) return text;
  return `${characters.slice(0, Math.max(0, maxLength - 3)).join('')}...`;
}

function optionalText(value: unknown, maxLength: number): string | null {
  return typeof value === 'string' ? truncateText(value, maxLength) : null;
}

/** A status document reduced to what the monitor uses. */
export interface StatusSnapshot {
  /** `jobID`, or ZOO-Project's `id` when `jobID` is absent. */
  jobId: string | null;
  status: JobStatus;
  rawStatus: string | null;
  progress: number | null;
  message: string | null;
  processId: string | null;
  created: string | null;
  started: string | null;
  finished: string | null;
  updated: string | null;
  /** Absolute URL of the `monitor` (or older `status`) link. */
  monitorUrl: string | null;
  resultsUrl: string | null;
  /** Absolute URLs of `rel: related`, `type: text/plain` links, one per workflow step log. */
  logUrls: string[];
}

export interface StatusLink {
  rel: string;
  href: string;
  type: string | null;
  title: string | null;
}

const resultsRelPattern = /^https?:\/\/(www\.)?opengis\.net\/def\/rel\/ogc\/1\.0\/results$/i;

export function isResultsRel(rel: string): boolean {
  const text = rel.trim();
  return text.toLowerCase() === 'results' || resultsRelPattern.test(text);
}

export function isLogLink(link: StatusLink): boolean {
  return (
    link.rel.trim().toLowerCase() === 'related' &&
    (link.type ?? '').trim().toLowerCase().startsWith('text/plain')
  );
}

/**
 * Reads the `links` array, keeping entries with a string `rel` and an http(s) `href`, which is
 * resolved against `baseUrl` when relative. Malformed entries are skipped.
 */
export function parseLinks(value: unknown, baseUrl?: string): StatusLink[] {
  if (!Array.isArray(value)) return [];
  const links: StatusLink[] = [];
  for (const entry of value) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { rel, href, type, title } = entry as Record<string, unknown>;
    if (typeof rel !== 'string' || typeof href !== 'string') continue;
    let url: URL;
    try {
      url = new URL(href, baseUrl);
    } catch {
      continue;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') continue;
    links.push({
      rel,
      href: url.href,
      type: typeof type === 'string' ? type : null,
      title: typeof title === 'string' ? title : null,
    });
  }
  return links;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reduces a parsed status document to a snapshot. Returns null when the document is not a JSON
 * object (an array, a string, null), which callers treat as a transient bad response.
 * @param baseUrl - the URL the document came from, for resolving relative links
 */
export function parseStatusDocument(document: unknown, baseUrl?: string): StatusSnapshot | null {
  if (!isPlainObject(document)) return null;

  const links = parseLinks(document.links, baseUrl);
  const monitorLink =
    links.find((link) => link.rel.trim().toLowerCase() === 'monitor') ??
    links.find((link) => link.rel.trim().toLowerCase() === 'status');

  const jobIdValue = typeof document.jobID === 'string' ? document.jobID : document.id;
  const processIdValue = typeof document.processID === 'string' ? document.processID : document.processId;
  const rawStatus =
    typeof document.status === 'string' ? truncateText(document.status, maxRawStatusLength) : null;

  return {
    jobId: typeof jobIdValue === 'string' ? jobIdValue : null,
    status: normalizeStatus(document.status),
    rawStatus,
    progress: parseProgress(document.progress),
    message: optionalText(document.message, maxMessageLength),
    processId: optionalText(processIdValue, maxProcessIdLength),
    created: parseTimestamp(document.created),
    started: parseTimestamp(document.started),
    finished: parseTimestamp(document.finished),
    updated: parseTimestamp(document.updated),
    monitorUrl: monitorLink?.href ?? null,
    resultsUrl: links.find((link) => isResultsRel(link.rel))?.href ?? null,
    logUrls: links.filter(isLogLink).map((link) => link.href),
  };
}
