import { createHash } from 'node:crypto';

/**
 * Safe object-key segments built from names found in STAC documents and URLs. The same key
 * must work as an S3 key and as a relative path in a directory store, so a segment never
 * contains a path separator, a control character, a `..` run or a leading dot.
 */

/**
 * Maximum length of a sanitized segment in UTF-8 bytes. Linux and macOS reject file names over
 * 255 bytes; 200 leaves room for the `-<n>` suffix that distinguishes duplicates.
 */
export const maxSegmentBytes = 200;

/** Hex digits of the SHA-256 suffix that keeps truncated names distinct. */
const hashSuffixLength = 8;

/** Maximum length of the extension kept when a name is truncated, dot included (`.tif`, `.geojson`). */
const maxExtensionLength = 16;

/**
 * Control characters (Unicode category Cc: C0, DEL, C1), format characters (Cf: zero-width
 * and bidirectional marks, which make a name display differently from its bytes) and both path
 * separators.
 */
const unsafeCharacter = /[\p{Cc}\p{Cf}/\\]/u;
const unsafeCharacters = new RegExp(unsafeCharacter.source, 'gu');

/**
 * Turns any string into one safe key segment. Spaces, `+`, `%` and non-ASCII letters are kept so
 * names stay readable. Unsafe characters become `_`, runs of dots collapse to one, and leading
 * dots and surrounding whitespace are removed. Names longer than `maxSegmentBytes` are cut and
 * get a short SHA-256 suffix, so two long names that share a beginning stay distinct.
 *
 * @param name - the name as found (already percent-decoded when it came from a URL)
 * @param fallback - used when nothing is left of `name`; must itself be a safe segment
 */
export function sanitizeSegment(name: string, fallback: string): string {
  let cleaned = name.normalize('NFC').replace(unsafeCharacters, '_');
  cleaned = cleaned.replace(/\.{2,}/g, '.');
  cleaned = cleaned.replace(/^[\s.]+/u, '').replace(/[\s.]+$/u, '');

  if (cleaned === '') {
    assertSafeSegment(fallback);
    return fallback;
  }
  if (utf8Length(cleaned) <= maxSegmentBytes) {
    return cleaned;
  }
  return truncateWithHash(cleaned);
}

function truncateWithHash(name: string): string {
  const hash = createHash('sha256').update(name).digest('hex').slice(0, hashSuffixLength);
  const extension = extensionOf(name);
  const stem = name.slice(0, name.length - extension.length);
  const budget = maxSegmentBytes - utf8Length(extension) - hashSuffixLength - 1;

  // Cut by code point so a surrogate pair or a multi-byte character is never split.
  let truncated = '';
  let truncatedBytes = 0;
  for (const character of stem) {
    const size = utf8Length(character);
    if (truncatedBytes + size > budget) {
      break;
    }
    truncated += character;
    truncatedBytes += size;
  }
  return `${truncated}-${hash}${extension}`;
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) {
    return '';
  }
  const extension = name.slice(dot);
  return extension.length <= maxExtensionLength && /^\.[A-Za-z0-9]+$/.test(extension) ? extension : '';
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Returns the percent-decoded last segment of a URL's path, or an empty string when the path
 * ends with `/`. A malformed escape is kept as written rather than failing the whole plan.
 */
export function fileNameFromUrl(url: string): string {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return '';
  }
  const last = pathname.slice(pathname.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/**
 * Hands out unique segments within one folder of the archive. Names are compared without case
 * because a directory store on macOS or Windows treats `A.tif` and `a.tif` as the same file.
 */
export class SegmentAllocator {
  private readonly taken = new Set<string>();

  /** Marks names as used without handing them out, such as `collection.json`. */
  reserve(...names: string[]): void {
    for (const name of names) {
      this.taken.add(name.toLowerCase());
    }
  }

  /**
   * Returns `name`, or `name-2`, `name-3`, ... (before the extension) when taken, and marks the
   * result as used.
   *
   * @param companions - further names the candidate occupies (an item `x` also occupies
   *   `x.json`); all of them must be free for the candidate to be accepted
   */
  claim(name: string, companions: (candidate: string) => string[] = () => []): string {
    const extension = extensionOf(name);
    const stem = name.slice(0, name.length - extension.length);

    for (let counter = 1; ; counter += 1) {
      const candidate = counter === 1 ? name : `${stem}-${counter}${extension}`;
      const occupied = [candidate, ...companions(candidate)];
      if (occupied.every((entry) => !this.taken.has(entry.toLowerCase()))) {
        this.reserve(...occupied);
        return candidate;
      }
    }
  }
}

/** Throws unless `segment` is what `sanitizeSegment` could return. */
export function assertSafeSegment(segment: string): void {
  const problem = segmentProblem(segment);
  if (problem !== null) {
    throw new Error(`unsafe archive key segment ${JSON.stringify(segment)}: ${problem}`);
  }
}

function segmentProblem(segment: string): string | null {
  if (segment === '') {
    return 'empty';
  }
  if (segment.startsWith('.')) {
    return 'starts with a dot';
  }
  if (segment.includes('..')) {
    return 'contains ".."';
  }
  if (unsafeCharacter.test(segment)) {
    return 'contains a control character or a path separator';
  }
  return null;
}

/** Joins safe segments with `/`, checking each one, so a key can never leave its prefix. */
export function joinKey(...segments: string[]): string {
  for (const segment of segments) {
    assertSafeSegment(segment);
  }
  return segments.join('/');
}

/**
 * Throws unless every `/`-separated segment of `key` is safe. A trailing `/` (a key prefix) is
 * allowed.
 */
export function assertSafeKey(key: string): void {
  const body = key.endsWith('/') ? key.slice(0, -1) : key;
  for (const segment of body.split('/')) {
    const problem = segmentProblem(segment);
    if (problem !== null) {
      throw new Error(
        `unsafe archive key ${JSON.stringify(key)}: segment ${JSON.stringify(segment)} ${problem}`,
      );
    }
  }
}

/**
 * Percent-encodes a key segment for use in a relative STAC href. ASCII characters outside the
 * RFC 3986 path characters (space, `%`, `#`, `?`, ...) are encoded; non-ASCII characters are
 * kept, as IRIs (RFC 3987) allow, so archived hrefs stay readable.
 */
export function encodeHrefSegment(segment: string): string {
  let encoded = '';
  for (const character of segment) {
    const isAscii = character.charCodeAt(0) < 0x80;
    encoded +=
      isAscii && !/^[A-Za-z0-9\-._~!$&'()*+,;=:@]$/.test(character)
        ? encodeURIComponent(character)
        : character;
  }
  return encoded;
}
