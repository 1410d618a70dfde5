import { describe, expect, it } from 'vitest';
import {
  assertSafeKey,
  assertSafeSegment,
  encodeHrefSegment,
  fileNameFromUrl,
  joinKey,
  maxSegmentBytes,
  SegmentAllocator,
  sanitizeSegment,
} from '../../lambdas/core/keys';

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

describe('sanitizeSegment', () => {
  it('keeps spaces, plus, percent and unicode', () => {
    expect(sanitizeSegment('NDVI map + 10%.tif', 'x')).toBe('NDVI map + 10%.tif');
    expect(sanitizeSegment('Ørsted – Nørrebro 東京.tif', 'x')).toBe('Ørsted – Nørrebro 東京.tif');
  });

  it('normalizes to NFC', () => {
    expect(sanitizeSegment('cafe\u0301.tif', 'x')).toBe('caf\u00e9.tif');
  });

  it('replaces separators and control characters', () => {
    expect(sanitizeSegment('a/b\\c\nd\te\u0000f.tif', 'x')).toBe('a_b_c_d_e_f.tif');
    expect(sanitizeSegment('evil\u202egnp.exe', 'x')).toBe('evil_gnp.exe');
    expect(sanitizeSegment('zero\u200bwidth', 'x')).toBe('zero_width');
  });

  it('removes dot runs and leading dots', () => {
    expect(sanitizeSegment('../../etc/passwd', 'x')).toBe('_._etc_passwd');
    expect(sanitizeSegment('.hidden', 'x')).toBe('hidden');
    expect(sanitizeSegment('file..tif', 'x')).toBe('file.tif');
    expect(sanitizeSegment('trailing. ', 'x')).toBe('trailing');
  });

  it('uses the fallback for empty names', () => {
    for (const name of ['', '   ', '.', '..', '...', ' . . ']) {
      expect(sanitizeSegment(name, 'asset')).toBe('asset');
    }
  });

  it('rejects an unsafe fallback', () => {
    expect(() => sanitizeSegment('', '../up')).toThrow(/unsafe archive key segment/);
  });

  it('truncates long names with a hash suffix', () => {
    const long = `${'a'.repeat(296)}.tif`;
    const result = sanitizeSegment(long, 'x');

    expect(utf8Bytes(result)).toBeLessThanOrEqual(maxSegmentBytes);
    expect(result).toMatch(/^a+-[0-9a-f]{8}\.tif$/);
    expect(sanitizeSegment(long, 'x')).toBe(result);
  });

  it('keeps long names that share a beginning distinct', () => {
    const first = sanitizeSegment(`${'b'.repeat(250)}-first.tif`, 'x');
    const second = sanitizeSegment(`${'b'.repeat(250)}-second.tif`, 'x');

    expect(first).not.toBe(second);
    expect(first.slice(0, 150)).toBe(second.slice(0, 150));
  });

  it('cuts multi-byte names on character boundaries', () => {
    for (const character of ['é', '東', '🛰']) {
      const result = sanitizeSegment(`${character.repeat(150)}.json`, 'x');

      expect(utf8Bytes(result)).toBeLessThanOrEqual(maxSegmentBytes);
      expect(Buffer.from(result, 'utf8').toString('utf8')).toBe(result);
      expect(result.startsWith(character.repeat(10))).toBe(true);
      expect(result.endsWith('.json')).toBe(true);
    }
  });

  it('returns safe segments for random input', () => {
    // Deterministic pseudo-random strings drawn from characters that stress the rules.
    const alphabet = [
      '.',
      '/',
      '\\',
      ' ',
      '\n',
      '\u0000',
      '\u007f',
      '\u202e',
      'a',
      'Z',
      '%',
      '+',
      'é',
      '🛰',
      '-',
    ];
    let seed = 42;
    const next = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    for (let round = 0; round < 2_000; round += 1) {
      const length = next() % 260;
      const name = Array.from({ length }, () => alphabet[next() % alphabet.length]).join('');
      const result = sanitizeSegment(name, 'fallback');

      expect(() => assertSafeSegment(result)).not.toThrow();
      expect(utf8Bytes(result)).toBeLessThanOrEqual(maxSegmentBytes);
    }
  });
});

describe('fileNameFromUrl', () => {
  it('decodes the last path segment', () => {
    expect(fileNameFromUrl('https://ws.example.org/files/a/NDVI%20map%2B1.tif?token=x#part')).toBe(
      'NDVI map+1.tif',
    );
    expect(fileNameFromUrl('https://ws.example.org/files/%E6%9D%B1%E4%BA%AC.tif')).toBe('東京.tif');
  });

  it('returns an empty name for a folder URL', () => {
    expect(fileNameFromUrl('https://ws.example.org/files/out/')).toBe('');
    expect(fileNameFromUrl('https://ws.example.org')).toBe('');
  });

  it('keeps a malformed escape as written', () => {
    expect(fileNameFromUrl('https://ws.example.org/files/bad%E0%A4%A.tif')).toBe('bad%E0%A4%A.tif');
  });

  it('decodes an encoded slash that sanitizing then replaces', () => {
    const name = fileNameFromUrl('https://ws.example.org/files/..%2F..%2Fsecret');

    expect(name).toBe('../../secret');
    expect(sanitizeSegment(name, 'x')).toBe('_._secret');
  });

  it('returns an empty name for an invalid URL', () => {
    expect(fileNameFromUrl('not a url')).toBe('');
  });
});

describe('SegmentAllocator', () => {
  it('numbers duplicates before the extension', () => {
    const allocator = new SegmentAllocator();

    expect(allocator.claim('ndvi.tif')).toBe('ndvi.tif');
    expect(allocator.claim('ndvi.tif')).toBe('ndvi-2.tif');
    expect(allocator.claim('ndvi.tif')).toBe('ndvi-3.tif');
    expect(allocator.claim('README')).toBe('README');
    expect(allocator.claim('README')).toBe('README-2');
  });

  it('treats names differing only in case as duplicates', () => {
    const allocator = new SegmentAllocator();

    expect(allocator.claim('Scene.TIF')).toBe('Scene.TIF');
    expect(allocator.claim('scene.tif')).toBe('scene-2.tif');
  });

  it('honours reserved names and companions', () => {
    const allocator = new SegmentAllocator();
    allocator.reserve('collection', 'collection.json');
    const withJson = (candidate: string): string[] => [`${candidate}.json`];

    expect(allocator.claim('collection', withJson)).toBe('collection-2');
    expect(allocator.claim('item', withJson)).toBe('item');
    expect(allocator.claim('item.json', withJson)).toBe('item-2.json');
  });
});

describe('assertSafeKey', () => {
  it('accepts nested keys and prefixes', () => {
    expect(() => assertSafeKey('demo-ws/job-1/results/ndvi 2026/ndvi + 10%.tif')).not.toThrow();
    expect(() => assertSafeKey('demo-ws/job-1/')).not.toThrow();
  });

  it('rejects keys that could leave the prefix', () => {
    for (const key of [
      '../x',
      'a/../b',
      '/abs/x',
      'a//b',
      'a/./b',
      'a/.hidden',
      'a/b\u0000c',
      'a\\..\\b',
      '',
    ]) {
      expect(() => assertSafeKey(key), key).toThrow(/unsafe archive key/);
    }
  });
});

describe('joinKey', () => {
  it('joins safe segments', () => {
    expect(joinKey('results', 'item 1', 'ndvi.tif')).toBe('results/item 1/ndvi.tif');
  });

  it('rejects an unsafe segment', () => {
    expect(() => joinKey('results', '..', 'x')).toThrow(/contains "\.\."|starts with a dot/);
    expect(() => joinKey('results', 'a/b')).toThrow(/path separator/);
  });
});

describe('encodeHrefSegment', () => {
  it('encodes ASCII characters outside the path set', () => {
    expect(encodeHrefSegment('x y%#?.tif')).toBe('x%20y%25%23%3F.tif');
    expect(encodeHrefSegment('a"b<c>d`e')).toBe('a%22b%3Cc%3Ed%60e');
  });

  it('keeps sub-delimiters and unicode', () => {
    expect(encodeHrefSegment("a+b=c&d'e(f)@g:h.tif")).toBe("a+b=c&d'e(f)@g:h.tif");
    expect(encodeHrefSegment('東京 Ø.tif')).toBe('東京%20Ø.tif');
  });

  it('round-trips through URL resolution', () => {
    const name = 'NDVI map + 10% #1?.tif';
    const url = new URL(
      `./item/${encodeHrefSegment(name)}`,
      'https://archive.example.org/results/collection.json',
    );

    expect(decodeURIComponent(url.pathname.split('/').pop() ?? '')).toBe(name);
  });
});
