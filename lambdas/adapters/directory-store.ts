import { randomBytes } from 'node:crypto';
import { createWriteStream, type Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import type { ArchiveStore, PutOptions, StoredObjectInfo } from '../core/ports';

/**
 * An archive store on the local file system, for local runs: keys are paths below `root`.
 * Every write goes to a temporary file in the target's folder and is renamed into place, so a
 * reader never sees a partial file and a failed write leaves nothing under the key.
 * Content type and SHA-256 are not kept, so `head` reports them as null.
 */

/** Temporary files are `.tmp-<hex>`. Sanitized key segments never start with a dot, so they never collide. */
const temporaryNamePattern = /^\.tmp-[0-9a-f]{16}$/;

/**
 * Creates a directory store rooted at `root` (created on the first write).
 * @param root - absolute or relative to the working directory
 */
export function createDirectoryStore(root: string): ArchiveStore {
  const rootPath = path.resolve(root);

  /** Resolves a key to a path and rejects keys that would leave the root. */
  const pathOf = (key: string): string => {
    const resolved = path.resolve(rootPath, key);
    const relative = path.relative(rootPath, resolved);
    if (key === '' || relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new Error(
        `archive key ${JSON.stringify(key)} resolves outside the archive directory ${rootPath}`,
      );
    }
    return resolved;
  };

  /** Writes through a temporary file in the target's folder, renamed into place on success. */
  const writeAtomically = async (
    key: string,
    write: (temporaryPath: string) => Promise<void>,
  ): Promise<void> => {
    const target = pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    const temporaryPath = path.join(path.dirname(target), `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      await write(temporaryPath);
      await rename(temporaryPath, target);
    } catch (error) {
      await rm(temporaryPath, { force: true });
      throw error;
    }
  };

  return {
    location: rootPath,

    uriOf: (key) => path.join(rootPath, key),

    consoleUrlOf: () => null,

    async putObject(key: string, body: string | Uint8Array, _options: PutOptions): Promise<void> {
      await writeAtomically(key, (temporaryPath) => writeFile(temporaryPath, body));
    },

    async putStream(
      key: string,
      body: NodeJS.ReadableStream | ReadableStream<Uint8Array>,
      _options: PutOptions,
    ): Promise<{ size: number }> {
      const source =
        body instanceof ReadableStream
          ? Readable.fromWeb(body as unknown as NodeWebReadableStream<Uint8Array>)
          : (body as NodeJS.ReadableStream);
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
          size += chunk.length;
          callback(null, chunk);
        },
      });
      await writeAtomically(key, (temporaryPath) =>
        pipeline(source, counter, createWriteStream(temporaryPath)),
      );
      return { size };
    },

    async getObject(key: string): Promise<Uint8Array | null> {
      try {
        return await readFile(pathOf(key));
      } catch (error) {
        if (isNotFound(error)) {
          return null;
        }
        throw error;
      }
    },

    async head(key: string): Promise<StoredObjectInfo | null> {
      try {
        const info = await stat(pathOf(key));
        return info.isFile() ? { key, size: info.size, sha256: null, contentType: null } : null;
      } catch (error) {
        if (isNotFound(error)) {
          return null;
        }
        throw error;
      }
    },

    async list(prefix: string): Promise<string[]> {
      // Walk only the folder that contains the prefix, then match keys as S3 does, by string prefix.
      const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const start = folder === '' ? rootPath : pathOf(folder);
      const keys: string[] = [];
      await collectKeys(rootPath, start, keys);
      return keys.filter((key) => key.startsWith(prefix)).sort();
    },
  };
}

async function collectKeys(rootPath: string, folder: string, keys: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if (isNotFound(error)) {
      return;
    }
    throw error;
  }
  for (const entry of entries) {
    const entryPath = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      await collectKeys(rootPath, entryPath, keys);
    } else if (entry.isFile() && !temporaryNamePattern.test(entry.name)) {
      keys.push(path.relative(rootPath, entryPath).split(path.sep).join('/'));
    }
  }
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
