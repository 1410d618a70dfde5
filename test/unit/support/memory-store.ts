import type { ArchiveStore, PutOptions, StoredObjectInfo } from '../../../lambdas/core/ports';

/** One object held by the memory store. */
export interface MemoryObject {
  body: Uint8Array;
  contentType: string;
  sha256: string | null;
}

export interface MemoryStore extends ArchiveStore {
  /** Stored objects by key, for assertions. */
  readonly objects: Map<string, MemoryObject>;
  /** Returns an object's body as UTF-8 text, or throws when the key is missing. */
  text(key: string): string;
}

export interface MemoryStoreOptions {
  /** @default 'memory://archive/' */
  location?: string;
  /**
   * Base of the console links `consoleUrlOf` returns, followed by the key.
   * @default null, so `consoleUrlOf` returns null as a directory store does
   */
  consoleUrlBase?: string | null;
}

/** Creates an in-memory `ArchiveStore` for tests. Keys are stored exactly as given. */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const location = options.location ?? 'memory://archive/';
  const consoleUrlBase = options.consoleUrlBase ?? null;
  const objects = new Map<string, MemoryObject>();

  const store = (key: string, body: Uint8Array, put: PutOptions) => {
    objects.set(key, { body, contentType: put.contentType, sha256: put.sha256 ?? null });
  };

  return {
    objects,
    location,
    uriOf: (key) => `${location}${key}`,
    consoleUrlOf: (key) => (consoleUrlBase === null ? null : `${consoleUrlBase}${key}`),

    async putObject(key, body, put) {
      store(key, typeof body === 'string' ? new TextEncoder().encode(body) : Uint8Array.from(body), put);
    },

    async putStream(key, body, put) {
      const chunks: Uint8Array[] = [];
      // Reading to the end before storing means a stream that errors leaves nothing behind.
      for await (const chunk of body) {
        chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : Uint8Array.from(chunk));
      }
      const joined = Buffer.concat(chunks);
      store(key, new Uint8Array(joined), put);
      return { size: joined.byteLength };
    },

    async getObject(key) {
      const object = objects.get(key);
      return object === undefined ? null : Uint8Array.from(object.body);
    },

    async head(key): Promise<StoredObjectInfo | null> {
      const object = objects.get(key);
      if (object === undefined) return null;
      return { key, size: object.body.byteLength, sha256: object.sha256, contentType: object.contentType };
    },

    async list(prefix) {
      return [...objects.keys()].filter((key) => key.startsWith(prefix)).sort();
    },

    text(key) {
      const object = objects.get(key);
      if (object === undefined) throw new Error(`no object at key "${key}"`);
      return new TextDecoder().decode(object.body);
    },
  };
}
