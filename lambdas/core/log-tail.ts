import type { ManifestRecord } from './manifest';
import { cleanText, cutChars } from './notification';
import type { ArchiveStore } from './ports';

/**
 * The tail of the failing step's log, for the notification of a failed job.
 *
 * The failing step's log is the archived log whose last error marker (`Error`, `ERROR`,
 * `Traceback` or `FAILED`) is nearest its end, counted in lines. On a tie the later log in plan
 * order wins. When no log has a marker, it is the last log in plan order that is not
 * `node_stage_in.log` or `node_stage_out.log`, because a CWL workflow stops at the failing step
 * and the stage logs belong to no step. When only stage logs exist, it is the last of them.
 */

export const LOG_TAIL_LINES = 20;
export const LOG_LINE_MAX_CHARS = 300;
/**
 * Logs larger than this are not read, because the store returns whole objects and the Lambda
 * function's memory is bounded. NOTE: a failing step whose log is larger gets no tail.
 */
export const MAX_LOG_BYTES = 16 * 1024 * 1024;

const errorMarker = /Error|ERROR|Traceback|FAILED/;
const stageLogs = new Set(['node_stage_in.log', 'node_stage_out.log']);

/** The last lines of one archived log. */
export interface LogTail {
  /** Key of the log relative to the job prefix, such as `logs/ndvi.log`. */
  key: string;
  lines: string[];
}

/** Summary of one log after reading it: its tail and the position of its last error marker. */
export interface LogScan {
  key: string;
  /** File name, such as `ndvi.log`. */
  name: string;
  /** Lines after the last line with an error marker (0: the last line), or null without one. */
  markerDistance: number | null;
  tail: string[];
}

/** Narrow logger for problems that do not stop publishing. */
export interface WarningLogger {
  warn(message: string, attributes: Record<string, unknown>): void;
}

/** Returns the file name at the end of a key or URL path, such as `ndvi.log`. */
export function logName(keyOrUrl: string): string {
  const path = keyOrUrl.split(/[?#]/)[0] ?? '';
  const name = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** Reads a log's text into its tail (cleaned lines, each cut) and the position of its last error marker. */
export function scanLog(key: string, text: string): LogScan {
  const lines = cleanText(text).split('\n');
  while (lines.length > 0 && (lines.at(-1) ?? '').trim() === '') lines.pop();

  let markerDistance: number | null = null;
  for (let index = lines.length - 1; index >= 0; index -= 1) {
    if (errorMarker.test(lines[index] ?? '')) {
      markerDistance = lines.length - 1 - index;
      break;
    }
  }
  const tail = lines
    .slice(-LOG_TAIL_LINES)
    .map((line) => cutChars(line.replaceAll('\t', '  ').trimEnd(), LOG_LINE_MAX_CHARS));
  return { key, name: logName(key), markerDistance, tail };
}

/** Picks the failing step's log from scans given in plan order (the rule is in the file header). */
export function selectFailingLog(scans: readonly LogScan[]): LogScan | null {
  let best: LogScan | null = null;
  for (const scan of scans) {
    if (scan.markerDistance === null) continue;
    if (best === null || best.markerDistance === null || scan.markerDistance <= best.markerDistance)
      best = scan;
  }
  if (best !== null) return best;

  const steps = scans.filter((scan) => !stageLogs.has(scan.name));
  return steps.at(-1) ?? scans.at(-1) ?? null;
}

/**
 * Returns the log file names in the order of the `related` text/plain links of a status
 * document, which is the order the workflow wrote them. Anything malformed yields no names.
 */
export function logNamesInLinkOrder(statusDocument: unknown): string[] {
  if (typeof statusDocument !== 'object' || statusDocument === null) return [];
  const links = (statusDocument as { links?: unknown }).links;
  if (!Array.isArray(links)) return [];
  const names: string[] = [];
  for (const link of links) {
    if (typeof link !== 'object' || link === null) continue;
    const { rel, type, href } = link as { rel?: unknown; type?: unknown; href?: unknown };
    if (rel !== 'related' || typeof href !== 'string') continue;
    if (typeof type === 'string' && !type.startsWith('text/plain')) continue;
    names.push(logName(href));
  }
  return names;
}

/**
 * Orders log records by the position of their file name in `namesInOrder`. Records whose name
 * is not there follow the others in their original order.
 */
export function orderLogRecords(
  records: readonly ManifestRecord[],
  namesInOrder: readonly string[],
): ManifestRecord[] {
  const position = new Map<string, number>();
  namesInOrder.forEach((name, index) => {
    if (!position.has(name)) position.set(name, index);
  });
  const rank = (record: ManifestRecord) => position.get(logName(record.key)) ?? namesInOrder.length;
  return records
    .map((record, index) => ({ record, index }))
    .sort((a, b) => rank(a.record) - rank(b.record) || a.index - b.index)
    .map(({ record }) => record);
}

/**
 * Reads the archived logs (records of kind `log` that are archived or skipped, in plan order)
 * and returns the tail of the failing step's log, or null when no log could be read. A log
 * that cannot be read is logged and left out.
 */
export async function readFailingLogTail(
  store: Pick<ArchiveStore, 'getObject'>,
  prefix: string,
  logRecords: readonly ManifestRecord[],
  logger: WarningLogger,
): Promise<LogTail | null> {
  const decoder = new TextDecoder('utf-8');
  const scans: LogScan[] = [];
  for (const record of logRecords) {
    if (record.kind !== 'log' || record.outcome === 'failed') continue;
    if (record.bytes > MAX_LOG_BYTES) {
      logger.warn('log too large for the tail', {
        key: record.key,
        bytes: record.bytes,
        maxBytes: MAX_LOG_BYTES,
      });
      continue;
    }
    try {
      const body = await store.getObject(`${prefix}${record.key}`);
      if (body === null) {
        logger.warn('archived log not found', { key: record.key });
        continue;
      }
      scans.push(scanLog(record.key, decoder.decode(body)));
    } catch (error) {
      logger.warn('archived log not readable', { key: record.key, error });
    }
  }
  const failing = selectFailingLog(scans);
  return failing === null ? null : { key: failing.key, lines: failing.tail };
}
