import type { LogTail } from './log-tail';
import type { OutcomeMessage } from './ports';
import type { ArchiveFailure, Outcome } from './state';

/**
 * The outcome notification: subject, plain-text e-mail body, JSON copy for machine
 * subscribers and SNS message attributes. Pure functions, so every limit is unit-tested.
 */

/** SNS rejects subjects of 100 characters or more. */
export const MAX_SUBJECT_CHARS = 99;

/**
 * SNS rejects messages over 262,144 bytes (256 KiB), counting message, subject and attributes.
 * The SNS notifier sends the text twice (`default`, `email`) and the JSON copy four times
 * (`sqs`, `lambda`, `http`, `https`), each as a JSON string. 2 x 96 KiB + 4 x 12 KiB = 240 KiB
 * leaves 16 KiB for the subject (99 characters), three attributes (256 characters each) and the
 * JSON punctuation.
 */
export const MAX_TEXT_BYTES = 96 * 1024;
/** Budget of the JSON copy, measured after it is serialized and then escaped as a JSON string. */
export const MAX_JSON_BYTES = 12 * 1024;

export const MAX_MESSAGE_LINES = 10;
export const MAX_LISTED_FAILURES = 20;
const MAX_ATTRIBUTE_CHARS = 256;
const MAX_FIELD_CHARS = 200;
const MAX_LINE_CHARS = 300;
const MAX_URL_CHARS = 2_000;

const outcomeWords: Record<Outcome, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  dismissed: 'dismissed',
  timed_out: 'timed out',
  monitor_error: 'monitor error',
};

const headlines: Record<Outcome, string> = {
  succeeded: 'The job succeeded.',
  failed: 'The job failed.',
  dismissed: 'The job was dismissed.',
  timed_out: 'The job timed out, so the monitor stopped waiting for it.',
  monitor_error: 'The monitor could not follow the job to its end.',
};

/** Archive contents of the job, as the notification reports them. */
export interface ArchiveFacts {
  /** Archive location such as `s3://bucket/prefix/ws/job/`, or null when there is none. */
  uri: string | null;
  /** S3 console link to the same location, or null for a directory store. */
  consoleUrl: string | null;
  /** Job files (assets and logs) in the archive, counting those an earlier run archived. */
  filesArchived: number;
  /** Files of `filesArchived` that an earlier run had already archived. */
  filesSkipped: number;
  /** Bytes of the files counted in `filesArchived`. */
  bytesArchived: number;
  filesFailed: number;
  /** The first failures; `filesFailed` has the full count. */
  failures: ArchiveFailure[];
}

/** Error that ended monitoring, by name and message. */
export interface ErrorInfo {
  name: string;
  message: string;
}

/** Facts a notification reports, gathered by the handler. */
export interface NotificationFacts {
  outcome: Outcome;
  /** Explanation of the outcome in one line, or null when the job status is enough. */
  reason: string | null;
  /** Next steps for the reader, or null when none are needed. */
  advice: string | null;
  /** Validated job ID, or null when the execution input was invalid. */
  jobId: string | null;
  /** Validated workspace, or null when the execution input was invalid. */
  workspace: string | null;
  /** Job ID from invalid input, shown quoted in the text body and subject only. */
  untrustedJobId: string | null;
  /** Workspace from invalid input, shown quoted in the text body and subject only. */
  untrustedWorkspace: string | null;
  processId: string | null;
  /** Last job status seen, or null when no check succeeded. */
  status: string | null;
  message: string | null;
  created: string | null;
  started: string | null;
  finished: string | null;
  /** Log links on the final status document, or null when the job did not end. */
  logLinks: number | null;
  archive: ArchiveFacts;
  logTail: LogTail | null;
  error: ErrorInfo | null;
  /** Step Functions execution name, when known. */
  execution: string | null;
  /** Step Functions execution ARN, when known; machine subscribers get it in the JSON copy. */
  executionArn?: string | null;
  /** Step Functions console link to the execution history (or the state machine), when known. */
  stepFunctionsConsoleUrl: string | null;
  publishedAt: string;
}

/** Composes the subject, text body, JSON copy and attributes of one outcome message. */
export function composeNotification(facts: NotificationFacts): OutcomeMessage {
  return {
    subject: composeSubject(
      facts.outcome,
      facts.processId,
      facts.workspace ?? facts.untrustedWorkspace ?? null,
      facts.jobId ?? facts.untrustedJobId ?? null,
    ),
    text: composeText(facts),
    json: composeJson(facts),
    attributes: {
      outcome: facts.outcome,
      workspace: toAttributeValue(facts.workspace ?? facts.untrustedWorkspace ?? null),
      processId: toAttributeValue(facts.processId),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Subject

/**
 * Composes `[EODH] <process> <outcome> (<workspace>, <first 8 characters of the job ID>)` in
 * printable ASCII, at most 99 characters and never empty. When it is too long the process ID
 * is cut first, then the workspace. The outcome words always stay.
 */
export function composeSubject(
  outcome: Outcome,
  processId: string | null,
  workspace: string | null,
  jobId: string | null,
): string {
  const words = outcomeWords[outcome];
  let process = toPrintableAscii(processId ?? '') || 'job';
  let space = toPrintableAscii(workspace ?? '') || 'unknown';
  const shortId = (toPrintableAscii(jobId ?? '').replaceAll(' ', '') || 'unknown').slice(0, 8);
  const render = () => `[EODH] ${process} ${words} (${space}, ${shortId})`;

  const excess = () => render().length - MAX_SUBJECT_CHARS;
  if (excess() > 0) {
    process = cutAscii(process, Math.max(process.length - excess(), Math.min(process.length, 12)));
  }
  if (excess() > 0) {
    space = cutAscii(space, Math.max(space.length - excess(), Math.min(space.length, 8)));
  }
  return render().slice(0, MAX_SUBJECT_CHARS);
}

const asciiReplacements: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  đ: 'd',
  Đ: 'D',
  ð: 'd',
  Ð: 'D',
  ł: 'l',
  Ł: 'L',
  þ: 'th',
  Þ: 'Th',
  ı: 'i',
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
  '\u2212': '-',
  '\u2044': '/',
};

/**
 * Transliterates text to printable ASCII (0x20-0x7E): accents are dropped (NFKD), common
 * letters and punctuation are replaced, whitespace and control characters become one space,
 * and whatever remains outside ASCII (emoji, scripts without a Latin form) is removed.
 */
export function toPrintableAscii(text: string): string {
  const decomposed = text.toWellFormed().normalize('NFKD').replace(/\p{M}/gu, '');
  let ascii = '';
  for (const char of decomposed) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0x21 && code <= 0x7e) {
      ascii += char;
    } else if (/\s/u.test(char) || code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
      ascii += ' ';
    } else {
      ascii += asciiReplacements[char] ?? '';
    }
  }
  return ascii.replace(/ {2,}/g, ' ').trim();
}

function cutAscii(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  if (maxChars <= 3) return text.slice(0, maxChars);
  return `${text.slice(0, maxChars - 3)}...`;
}

// ---------------------------------------------------------------------------------------------
// Text helpers shared with the log tail

/**
 * Removes what should not reach a plain-text e-mail from untrusted text: ANSI escape sequences,
 * control characters other than newline and tab, bidirectional overrides (which can make text
 * read differently from its bytes) and lone surrogates. CRLF and CR become LF.
 */
export function cleanText(text: string): string {
  return (
    text
      .toWellFormed()
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the ANSI sequences removed here.
      .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g, '')
      .replace(/\r\n?/g, '\n')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed.
      .replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g, '')
  );
}

/** Cuts text to at most `maxChars` code points, ending with "..." when it was cut. */
export function cutChars(text: string, maxChars: number): string {
  const chars = Array.from(text);
  if (chars.length <= maxChars) return text;
  return `${chars.slice(0, Math.max(maxChars - 3, 0)).join('')}...`;
}

/** Returns the first `count` non-empty lines of cleaned text, each cut to `maxChars`. */
export function firstLines(text: string, count: number, maxChars = MAX_LINE_CHARS): string[] {
  return cleanText(text)
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '')
    .slice(0, count)
    .map((line) => cutChars(line, maxChars));
}

/** Cleans a one-line value and cuts it, for field values in the text body. */
function field(value: string, maxChars = MAX_FIELD_CHARS): string {
  return cutChars(cleanText(value).replace(/\s+/g, ' ').trim(), maxChars);
}

/** Quotes a value from invalid input so the reader sees exactly what was sent. */
function quoteUntrusted(value: string): string {
  return JSON.stringify(cutChars(value.toWellFormed(), 100));
}

// ---------------------------------------------------------------------------------------------
// Human forms

/** Formats a duration the way people read it: "42 s", "8 min 07 s", "1 h 02 min", "3 d 04 h". */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const pad = (value: number) => String(value).padStart(2, '0');
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min ${pad(seconds % 60)} s`;
  if (seconds < 86_400)
    return `${Math.floor(seconds / 3_600)} h ${pad(Math.floor((seconds % 3_600) / 60))} min`;
  return `${Math.floor(seconds / 86_400)} d ${pad(Math.floor((seconds % 86_400) / 3_600))} h`;
}

/** Formats a byte count in SI units with one decimal: "512 B", "47.2 MB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  if (bytes < 1_000) return `${Math.max(0, Math.round(bytes))} B`;
  let value = bytes / 1_000;
  let unit = 1;
  // 999.95 would print as "1000.0", so it moves to the next unit.
  while (value >= 999.95 && unit < units.length - 1) {
    value /= 1_000;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Formats an RFC 3339 time as "2026-11-30 09:12:04 UTC". Text that is not a time is returned cleaned. */
export function formatTime(value: string): string {
  const millis = Date.parse(value);
  if (Number.isNaN(millis)) return field(value, 60);
  return `${new Date(millis).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Returns whole seconds from `from` to `to`, or null when either is missing or not a time, or negative. */
export function durationSeconds(from: string | null, to: string | null): number | null {
  if (from === null || to === null) return null;
  const seconds = Math.round((Date.parse(to) - Date.parse(from)) / 1_000);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}

// ---------------------------------------------------------------------------------------------
// Text body

/** One block of the text body. `cut` selects which lines go first when the body is too large. */
interface Section {
  lines: string[];
  /** Index of the first line that may be cut. The lines before it are the section's heading. */
  keep: number;
  cut: 'none' | 'end' | 'start';
  removed: number;
}

function section(lines: string[], cut: Section['cut'] = 'none', keep = 1): Section {
  return { lines, keep, cut, removed: 0 };
}

/** Composes the plain-text e-mail body, at most `MAX_TEXT_BYTES` once escaped as a JSON string. */
export function composeText(facts: NotificationFacts, maxBytes = MAX_TEXT_BYTES): string {
  const sections: Section[] = [
    section(headlineLines(facts)),
    section(factLines(facts)),
    ...errorSections(facts),
    ...messageSections(facts),
    ...archiveSections(facts),
    ...logSections(facts),
  ];
  const adviceLines = facts.advice === null ? [] : firstLines(facts.advice, 10, 500);
  if (adviceLines.length > 0) {
    sections.push(section(['What to do next:', ...adviceLines.map((line) => `  ${line}`)]));
  }
  return fitSections(sections, maxBytes);
}

function headlineLines(facts: NotificationFacts): string[] {
  const lines = [headlines[facts.outcome]];
  if (facts.reason !== null && facts.reason.trim() !== '') lines.push(`Reason: ${field(facts.reason, 500)}`);
  // A failed job's message often names the exception, which is the first thing a reader needs.
  const firstMessageLine = facts.message === null ? undefined : firstLines(facts.message, 1)[0];
  if (facts.outcome === 'failed' && firstMessageLine !== undefined) {
    lines.push(`Status message: ${firstMessageLine.trim()}`);
  }
  return lines;
}

function factLines(facts: NotificationFacts): string[] {
  const lines: string[] = [];
  const add = (label: string, value: string) => lines.push(`${`${label}:`.padEnd(11)} ${value}`);

  if (facts.jobId !== null) add('Job', field(facts.jobId));
  else if (facts.untrustedJobId) add('Job', `${quoteUntrusted(facts.untrustedJobId)} (invalid)`);
  else add('Job', 'unknown');
  if (facts.workspace !== null) add('Workspace', field(facts.workspace));
  else if (facts.untrustedWorkspace)
    add('Workspace', `${quoteUntrusted(facts.untrustedWorkspace)} (invalid)`);
  else add('Workspace', 'unknown');
  add('Process', facts.processId === null ? 'unknown' : field(facts.processId) || 'unknown');
  const status = facts.status === null ? '' : ` (last job status: ${field(facts.status, 40)})`;
  add('Outcome', `${outcomeWords[facts.outcome]}${status}`);

  if (facts.created !== null) add('Created', formatTime(facts.created));
  if (facts.started !== null) add('Started', formatTime(facts.started));
  if (facts.finished !== null) add('Finished', formatTime(facts.finished));
  const start = facts.started ?? facts.created;
  const finished = durationSeconds(start, facts.finished);
  const running = facts.finished === null ? durationSeconds(start, facts.publishedAt) : null;
  if (finished !== null) add('Duration', formatDuration(finished));
  else if (running !== null) add('Duration', `${formatDuration(running)} so far (not finished)`);
  if (facts.execution !== null) add('Execution', field(facts.execution, 300));
  if (facts.stepFunctionsConsoleUrl !== null)
    add('History', field(facts.stepFunctionsConsoleUrl, MAX_URL_CHARS));
  return lines;
}

function errorSections(facts: NotificationFacts): Section[] {
  if (facts.error === null) return [];
  const lines = [`Error: ${field(facts.error.name, 200) || 'unknown'}`];
  for (const line of firstLines(facts.error.message, MAX_MESSAGE_LINES)) lines.push(`  ${line}`);
  return [section(lines, 'end')];
}

function messageSections(facts: NotificationFacts): Section[] {
  if (facts.message === null) return [];
  const lines = firstLines(facts.message, MAX_MESSAGE_LINES);
  if (lines.length === 0) return [];
  return [section(['Last status message:', ...lines.map((line) => `  ${line}`)], 'end')];
}

function archiveSections(facts: NotificationFacts): Section[] {
  const archive = facts.archive;
  const summary = ['Archive:'];
  if (archive.filesArchived > 0 || archive.filesFailed > 0) {
    const earlier = archive.filesSkipped > 0 ? `, ${archive.filesSkipped} of them by an earlier run` : '';
    summary.push(
      `  Files archived: ${archive.filesArchived} (${formatBytes(archive.bytesArchived)})${earlier}`,
    );
  } else {
    summary.push('  No job files were archived.');
  }
  if (archive.uri !== null) summary.push(`  Location: ${field(archive.uri, MAX_URL_CHARS)}`);
  if (archive.consoleUrl !== null) summary.push(`  S3 console: ${field(archive.consoleUrl, MAX_URL_CHARS)}`);
  const sections = [section(summary)];

  if (archive.filesFailed > 0) {
    const failed = [`Files not archived: ${archive.filesFailed}`];
    const listed = archive.failures.slice(0, MAX_LISTED_FAILURES);
    for (const failure of listed) {
      const source = failure.url === '' ? '' : ` (${failure.url})`;
      failed.push(`  - ${field(`${failure.key}: ${failure.reason}${source}`, 500)}`);
    }
    if (archive.filesFailed > listed.length)
      failed.push(`  ... and ${archive.filesFailed - listed.length} more`);
    sections.push(section(failed, 'end'));
  }
  return sections;
}

function logSections(facts: NotificationFacts): Section[] {
  if (facts.logTail !== null) {
    const tail = facts.logTail;
    if (tail.lines.length === 0) return [section([`The log ${field(tail.key, 300)} is empty.`])];
    const heading = `Last ${tail.lines.length} lines of ${field(tail.key, 300)}:`;
    return [section([heading, ...tail.lines.map((line) => `  ${line}`)], 'start')];
  }
  if (facts.logLinks === 0) return [section(['No logs were published by the job.'])];
  if (facts.outcome === 'failed' && facts.logLinks !== null) {
    return [section(['No log tail: none of the job logs was archived and readable.'])];
  }
  return [];
}

function jsonStringBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8');
}

function renderSections(sections: readonly Section[]): string {
  const blocks = sections.map((block) => {
    if (block.removed === 0) return block.lines.join('\n');
    const note = `  (${block.removed} lines left out to keep the message under the 256 KiB SNS limit)`;
    const lines = [...block.lines];
    lines.splice(block.cut === 'start' ? block.keep : lines.length, 0, note);
    return lines.join('\n');
  });
  return `${blocks.join('\n\n')}\n`;
}

/**
 * Renders the sections, removing whole lines from the largest cuttable section until the text
 * fits (the log tail loses its oldest lines, lists lose their last). Only if the fixed lines
 * alone are too large is the text cut, at a code point boundary.
 */
function fitSections(sections: Section[], maxBytes: number): string {
  let text = renderSections(sections);
  while (jsonStringBytes(text) > maxBytes) {
    const candidates = sections.filter((block) => block.cut !== 'none' && block.lines.length > block.keep);
    if (candidates.length === 0) break;
    const largest = candidates.reduce((best, block) =>
      Buffer.byteLength(block.lines.join('\n')) > Buffer.byteLength(best.lines.join('\n')) ? block : best,
    );
    largest.lines.splice(largest.cut === 'start' ? largest.keep : largest.lines.length - 1, 1);
    largest.removed += 1;
    text = renderSections(sections);
  }
  if (jsonStringBytes(text) <= maxBytes) return text;

  const chars = Array.from(text);
  let low = 0;
  let high = chars.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (jsonStringBytes(`${chars.slice(0, middle).join('')}\n...\n`) <= maxBytes) low = middle;
    else high = middle - 1;
  }
  return `${chars.slice(0, low).join('')}\n...\n`;
}

// ---------------------------------------------------------------------------------------------
// JSON copy

interface JsonLimits {
  failures: number;
  tailLines: number;
  textChars: number;
}

/** Limits tried in turn until the JSON copy fits `MAX_JSON_BYTES`. */
const jsonLimitSteps: readonly JsonLimits[] = [
  { failures: MAX_LISTED_FAILURES, tailLines: 20, textChars: 2_000 },
  { failures: 5, tailLines: 20, textChars: 1_000 },
  { failures: 5, tailLines: 5, textChars: 300 },
  { failures: 0, tailLines: 0, textChars: 100 },
];

/**
 * Composes the structured copy of the outcome (version 1). Lists and long strings are cut in
 * steps until the copy fits `MAX_JSON_BYTES`. The last resort keeps only the identifying fields.
 */
export function composeJson(facts: NotificationFacts, maxBytes = MAX_JSON_BYTES): Record<string, unknown> {
  for (const limits of jsonLimitSteps) {
    const json = buildJson(facts, limits);
    if (jsonStringBytes(JSON.stringify(json)) <= maxBytes) return json;
  }
  return {
    version: 1,
    outcome: facts.outcome,
    jobId: facts.jobId,
    workspace: facts.workspace,
    truncated: true,
    publishedAt: facts.publishedAt,
  };
}

function buildJson(facts: NotificationFacts, limits: JsonLimits): Record<string, unknown> {
  const cut = (value: string | null, maxChars = limits.textChars) =>
    value === null ? null : cutChars(value.toWellFormed(), maxChars);
  const archive = facts.archive;
  return {
    version: 1,
    outcome: facts.outcome,
    jobId: facts.jobId,
    workspace: facts.workspace,
    processId: cut(facts.processId, MAX_FIELD_CHARS),
    status: cut(facts.status, 40),
    message: cut(facts.message),
    created: cut(facts.created, 40),
    started: cut(facts.started, 40),
    finished: cut(facts.finished, 40),
    durationSeconds: durationSeconds(facts.started ?? facts.created, facts.finished),
    archive: {
      uri: cut(archive.uri, MAX_URL_CHARS),
      consoleUrl: cut(archive.consoleUrl, MAX_URL_CHARS),
      filesArchived: archive.filesArchived,
      filesSkipped: archive.filesSkipped,
      bytesArchived: archive.bytesArchived,
      filesFailed: archive.filesFailed,
      failures: archive.failures.slice(0, limits.failures).map((failure) => ({
        key: cutChars(failure.key, 300),
        url: cutChars(failure.url, Math.min(limits.textChars, 1_000)),
        reason: cutChars(failure.reason, 300),
      })),
    },
    logTail:
      facts.logTail === null || limits.tailLines === 0
        ? null
        : { log: facts.logTail.key, lines: facts.logTail.lines.slice(-limits.tailLines) },
    error:
      facts.error === null
        ? null
        : {
            name: cutChars(facts.error.name, MAX_FIELD_CHARS),
            message: cutChars(facts.error.message, limits.textChars),
          },
    execution: cut(facts.execution, 300),
    executionArn: cut(facts.executionArn ?? null, 2_048),
    publishedAt: facts.publishedAt,
  };
}

// ---------------------------------------------------------------------------------------------
// Attributes

/**
 * Makes an SNS message attribute value. SNS rejects empty values, so an empty one becomes
 * "unknown". Control characters are removed and the value is cut to 256 characters.
 */
export function toAttributeValue(value: string | null): string {
  const cleaned = cleanText(value ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned === '' ? 'unknown' : cutChars(cleaned, MAX_ATTRIBUTE_CHARS);
}
