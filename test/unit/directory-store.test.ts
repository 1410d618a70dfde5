import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDirectoryStore } from '../../lambdas/adapters/directory-store';
import type { ArchiveStore } from '../../lambdas/core/ports';

let root: string;
let store: ArchiveStore;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'directory-store-'));
  store = createDirectoryStore(root);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Lists every file below `folder` as a path relative to it, temporary files included. */
async function filesBelow(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)))
    .sort();
}

function patternBytes(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let index = 0; index < size; index += 1) {
    bytes[index] = (index * 7 + 3) % 251;
  }
  return bytes;
}

describe('createDirectoryStore', () => {
  it('reports absolute locations', () => {
    const relativeStore = createDirectoryStore('archive');

    expect(store.location).toBe(root);
    expect(store.uriOf('ws/job/')).toBe(path.join(root, 'ws/job/'));
    expect(store.consoleUrlOf('ws/job/')).toBeNull();
    expect(path.isAbsolute(relativeStore.location)).toBe(true);
  });

  it('round-trips objects', async () => {
    await store.putObject('ws/job/status.json', '{"status":"successful"}', {
      contentType: 'application/json',
    });
    await store.putObject('ws/job/results/東京 + 10%.bin', new Uint8Array([0, 1, 2, 255]), {
      contentType: 'application/octet-stream',
    });

    expect(new TextDecoder().decode((await store.getObject('ws/job/status.json')) ?? undefined)).toBe(
      '{"status":"successful"}',
    );
    expect([...((await store.getObject('ws/job/results/東京 + 10%.bin')) ?? [])]).toEqual([0, 1, 2, 255]);
    expect(await readFile(path.join(root, 'ws/job/results/東京 + 10%.bin'))).toEqual(
      Buffer.from([0, 1, 2, 255]),
    );
  });

  it('overwrites an existing object', async () => {
    await store.putObject('k.txt', 'first', { contentType: 'text/plain' });
    await store.putObject('k.txt', 'second', { contentType: 'text/plain' });

    expect(await readFile(path.join(root, 'k.txt'), 'utf8')).toBe('second');
  });

  it('returns null for missing keys', async () => {
    expect(await store.getObject('ws/none.json')).toBeNull();
    expect(await store.head('ws/none.json')).toBeNull();
  });

  it('streams a multi-MiB body', async () => {
    const bytes = patternBytes(5 * 1024 * 1024 + 17);

    const stored = await store.putStream(
      'ws/job/big.bin',
      Readable.from([bytes.subarray(0, 1_000_000), bytes.subarray(1_000_000)]),
      {
        contentType: 'application/octet-stream',
      },
    );

    expect(stored).toEqual({ size: bytes.length });
    const read = await readFile(path.join(root, 'ws/job/big.bin'));
    expect(createHash('sha256').update(read).digest('hex')).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    );
    expect(await store.head('ws/job/big.bin')).toEqual({
      key: 'ws/job/big.bin',
      size: bytes.length,
      sha256: null,
      contentType: null,
    });
  });

  it('streams a web ReadableStream', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('hello '));
        controller.enqueue(new TextEncoder().encode('world'));
        controller.close();
      },
    });

    expect(await store.putStream('w.txt', body, { contentType: 'text/plain' })).toEqual({ size: 11 });
    expect(await readFile(path.join(root, 'w.txt'), 'utf8')).toBe('hello world');
  });

  it('leaves no file when the stream errors', async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 3) {
          controller.error(new Error('connection reset'));
          return;
        }
        sent += 1;
        controller.enqueue(patternBytes(64 * 1024));
      },
    });

    await expect(
      store.putStream('ws/job/cut.bin', body, { contentType: 'application/octet-stream' }),
    ).rejects.toThrow('connection reset');
    expect(await store.head('ws/job/cut.bin')).toBeNull();
    expect(await filesBelow(root)).toEqual([]);
  });

  it('keeps the old object when a replacement fails', async () => {
    await store.putObject('keep.txt', 'original', { contentType: 'text/plain' });
    const failing = new Readable({
      read() {
        this.destroy(new Error('size mismatch'));
      },
    });

    await expect(store.putStream('keep.txt', failing, { contentType: 'text/plain' })).rejects.toThrow(
      'size mismatch',
    );
    expect(await readFile(path.join(root, 'keep.txt'), 'utf8')).toBe('original');
    expect(await filesBelow(root)).toEqual(['keep.txt']);
  });

  it('rejects keys outside the root', async () => {
    for (const key of ['../escape.txt', 'ws/../../escape.txt', '/etc/escape.txt', '', '.']) {
      await expect(store.putObject(key, 'x', { contentType: 'text/plain' }), key).rejects.toThrow(
        /outside the archive directory/,
      );
    }
    await expect(store.getObject('../x')).rejects.toThrow(/outside the archive directory/);
    expect(await readdir(path.dirname(root))).not.toContain('escape.txt');
  });

  it('lists keys by prefix', async () => {
    for (const key of ['ws/job/a.json', 'ws/job/results/b.tif', 'ws/jobber/c.json', 'other/d.json']) {
      await store.putObject(key, 'x', { contentType: 'text/plain' });
    }
    // A temporary file left by a crashed process is not an object.
    await writeFile(path.join(root, 'ws/job/.tmp-0123456789abcdef'), 'partial');

    expect(await store.list('ws/job/')).toEqual(['ws/job/a.json', 'ws/job/results/b.tif']);
    expect(await store.list('ws/job')).toEqual(['ws/job/a.json', 'ws/job/results/b.tif', 'ws/jobber/c.json']);
    expect(await store.list('')).toEqual([
      'other/d.json',
      'ws/job/a.json',
      'ws/job/results/b.tif',
      'ws/jobber/c.json',
    ]);
    expect(await store.list('missing/')).toEqual([]);
  });
});
