import { readFile, stat } from 'node:fs/promises';
import { UsageError } from './errors';

/**
 * Reads JSON files given on the command line. A syntax error is reported with its line and
 * column, because V8's `JSON.parse` messages give at most a character offset, and none at all
 * for "Unexpected token" errors.
 */

/** Execute request bodies are a few KB; 10 MiB keeps a wrong file (an image) from being loaded. */
const maxJsonFileBytes = 10 * 1024 * 1024;

/** Reads and parses a JSON file, raising `UsageError` with the flag, path, line and column on failure. */
export async function readJsonFile(path: string, flag: string): Promise<unknown> {
  let size: number;
  let text: string;
  try {
    size = (await stat(path)).size;
    if (size > maxJsonFileBytes) {
      throw new UsageError(
        `${flag} file ${path} has ${size} bytes, more than the ${maxJsonFileBytes} accepted`,
      );
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as { code?: unknown }).code;
    throw new UsageError(`${flag} file ${path} cannot be read (${typeof code === 'string' ? code : error})`, {
      cause: error,
    });
  }
  return parseJsonText(text, `${flag} file ${path}`);
}

/** Parses JSON text; `source` names the text in the error message. A leading byte order mark is ignored. */
export function parseJsonText(text: string, source: string): unknown {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (error) {
    const offset = findSyntaxErrorOffset(body);
    const reason = (error as Error).message
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/, .*is not valid JSON$/s, '');
    const where = offset === null ? '' : ` at ${lineAndColumn(body, offset)}`;
    throw new UsageError(`invalid JSON in ${source}${where}: ${reason}`, { cause: error });
  }
}

/** Formats a character offset as "line 3, column 7" (both from 1, columns in code points). */
export function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const column = Array.from(before.slice(lineStart)).length + 1;
  return `line ${line}, column ${column}`;
}

class SyntaxOffset {
  constructor(readonly offset: number) {}
}

/**
 * Returns the offset of the first character that makes `text` invalid JSON (RFC 8259), the text
 * length when it ends too early, or null when the text is valid or nests too deeply to scan.
 */
export function findSyntaxErrorOffset(text: string): number | null {
  let index = 0;
  const fail = (): never => {
    throw new SyntaxOffset(index);
  };
  const skipSpace = () => {
    while (index < text.length && ' \t\n\r'.includes(text.charAt(index))) index += 1;
  };
  const expectWord = (word: string) => {
    for (const char of word) {
      if (text.charAt(index) !== char) fail();
      index += 1;
    }
  };
  const scanString = () => {
    index += 1;
    for (;;) {
      if (index >= text.length) fail();
      const char = text.charAt(index);
      if (char === '"') {
        index += 1;
        return;
      }
      if (char === '\\') {
        index += 1;
        const escaped = text.charAt(index);
        if (escaped === 'u') {
          index += 1;
          for (let digit = 0; digit < 4; digit += 1) {
            if (!/[0-9a-fA-F]/.test(text.charAt(index))) fail();
            index += 1;
          }
        } else if (escaped !== '' && '"\\/bfnrt'.includes(escaped)) {
          index += 1;
        } else {
          fail();
        }
      } else if (char.charCodeAt(0) < 0x20) {
        fail();
      } else {
        index += 1;
      }
    }
  };
  const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const scanNumber = () => {
    numberPattern.lastIndex = index;
    if (!numberPattern.test(text)) fail();
    index = numberPattern.lastIndex;
  };
  const scanValue = (): void => {
    skipSpace();
    const char = text.charAt(index);
    if (char === '{') scanContainer('}', true);
    else if (char === '[') scanContainer(']', false);
    else if (char === '"') scanString();
    else if (char === '-' || (char >= '0' && char <= '9')) scanNumber();
    else if (char === 't') expectWord('true');
    else if (char === 'f') expectWord('false');
    else if (char === 'n') expectWord('null');
    else fail();
  };
  const scanContainer = (close: string, isObject: boolean): void => {
    index += 1;
    skipSpace();
    if (text.charAt(index) === close) {
      index += 1;
      return;
    }
    for (;;) {
      if (isObject) {
        skipSpace();
        if (text.charAt(index) !== '"') fail();
        scanString();
        skipSpace();
        if (text.charAt(index) !== ':') fail();
        index += 1;
      }
      scanValue();
      skipSpace();
      const next = text.charAt(index);
      if (next === ',') {
        index += 1;
      } else if (next === close) {
        index += 1;
        return;
      } else {
        fail();
      }
    }
  };

  try {
    scanValue();
    skipSpace();
    if (index < text.length) fail();
    return null;
  } catch (error) {
    if (error instanceof SyntaxOffset) return Math.min(error.offset, text.length);
    // A RangeError here means the nesting exceeded the call stack: no position to report.
    return null;
  }
}
