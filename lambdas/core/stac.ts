import { mapWithConcurrency } from './concurrency';
import { encodeHrefSegment } from './keys';

/**
 * STAC handling for the archive planner: a walk over `item` and `child` links, the assets of an
 * item, and the rewriting of links and asset hrefs so the archived copy is self-contained.
 * Documents stay plain JSON objects; unknown fields pass through untouched.
 */

export type JsonObject = Record<string, unknown>;

export interface StacLink {
  rel: string;
  href: string;
  type?: string;
  [field: string]: unknown;
}

export type StacKind = 'item' | 'catalog';

/** Name of the archived root document, relative to the `results/` folder. */
export const rootDocumentName = 'collection.json';

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Returns `item` for a STAC Item, `catalog` for a Catalog or Collection, and null otherwise.
 * STAC before 1.0 had no `type` on catalogs, so a typeless document with `links` and
 * `stac_version` counts as a catalog.
 */
export function stacKindOf(document: JsonObject): StacKind | null {
  if (document.type === 'Feature') {
    return 'item';
  }
  if (document.type === 'Catalog' || document.type === 'Collection') {
    return 'catalog';
  }
  if (
    document.type === undefined &&
    typeof document.stac_version === 'string' &&
    Array.isArray(document.links)
  ) {
    return 'catalog';
  }
  return null;
}

/** Returns the links that have a string `rel` and `href`; malformed ones are ignored. */
export function linksOf(document: JsonObject): StacLink[] {
  if (!Array.isArray(document.links)) {
    return [];
  }
  return document.links.filter(
    (link): link is StacLink =>
      isJsonObject(link) && typeof link.rel === 'string' && typeof link.href === 'string',
  );
}

/** Resolves `href` against `baseUrl` and drops the fragment; null when it is not a valid URL. */
export function resolveUrl(href: string, baseUrl: string): string | null {
  try {
    const url = new URL(href, baseUrl);
    url.hash = '';
    return url.href;
  } catch {
    return null;
  }
}

export function isHttpUrl(url: string): boolean {
  return url.startsWith('https://') || url.startsWith('http://');
}

/** Returns the absolute `self` href of a document, or null when it has none. */
export function selfUrlOf(document: JsonObject, documentUrl: string): string | null {
  const self = linksOf(document).find((link) => link.rel.toLowerCase() === 'self');
  return self ? resolveUrl(self.href, documentUrl) : null;
}

/**
 * Returns the URL that relative hrefs in `document` resolve against: its `self` href when it has
 * one, as pystac and STAC Browser do, else the URL it was fetched from. The two differ on EODH,
 * which serves the results document from the API host but gives it a `self` on the workspace
 * file host.
 */
export function baseUrlOf(document: JsonObject, documentUrl: string): string {
  return selfUrlOf(document, documentUrl) ?? documentUrl;
}

/** One asset of an item, with its href resolved. */
export interface StacAsset {
  /** Key in the item's `assets` object, such as `data` or `thumbnail`. */
  name: string;
  href: string;
  /** Absolute URL, or null when `href` is not a valid URL. */
  url: string | null;
  type?: string;
  roles?: string[];
  /** STAC `file:size` in bytes, when a non-negative integer. */
  size?: number;
  /** STAC `file:checksum`, a multihash in hex. */
  checksum?: string;
}

/**
 * Lists an item's assets; assets without a string `href` are reported with `href: ''`.
 * @param baseUrl - what relative hrefs resolve against, from `baseUrlOf`
 */
export function assetsOf(item: JsonObject, baseUrl: string): StacAsset[] {
  if (!isJsonObject(item.assets)) {
    return [];
  }
  return Object.entries(item.assets).map(([name, value]) => {
    const asset = isJsonObject(value) ? value : {};
    const href = typeof asset.href === 'string' ? asset.href : '';
    const entry: StacAsset = { name, href, url: href === '' ? null : resolveUrl(href, baseUrl) };

    if (typeof asset.type === 'string') {
      entry.type = asset.type;
    }
    if (Array.isArray(asset.roles)) {
      entry.roles = asset.roles.filter((role): role is string => typeof role === 'string');
    }
    const size = asset['file:size'];
    if (typeof size === 'number' && Number.isSafeInteger(size) && size >= 0) {
      entry.size = size;
    }
    if (typeof asset['file:checksum'] === 'string') {
      entry.checksum = asset['file:checksum'];
    }
    return entry;
  });
}

// ---------------------------------------------------------------------------------------------
// Walk

export type StacFetchResult = { ok: true; document: JsonObject } | { ok: false; reason: string };

interface StacNodeBase {
  url: string;
  /** 0 for the root document, 1 for what it links to, and so on. */
  depth: number;
  /** URL of the catalog that linked here; null for the root. */
  parentUrl: string | null;
}

export type StacNode =
  | (StacNodeBase & { status: 'fetched'; kind: StacKind; document: JsonObject })
  | (StacNodeBase & { status: 'failed'; reason: string });

export interface StacWalkOptions {
  rootUrl: string;
  /** The root Catalog or Collection, already fetched by the caller. */
  root: JsonObject;
  fetchDocument: (url: string) => Promise<StacFetchResult>;
  /** Maximum level followed; the root is level 0. */
  maxDepth: number;
  /** Maximum number of documents fetched, the root included. */
  maxDocuments: number;
  /** Documents fetched at the same time. */
  concurrency: number;
  /** Documents handed to `onChunk` at once, which bounds memory for catalogs with many items. */
  chunkSize: number;
}

export interface StacWalkStats {
  documents: number;
  /** Links not followed because they lead deeper than `maxDepth`. */
  linksBeyondDepth: number;
  /** Links not followed because `maxDocuments` was reached. */
  linksBeyondLimit: number;
}

interface PendingLink {
  url: string;
  depth: number;
  parentUrl: string;
}

/**
 * Walks a STAC tree breadth first along `item` and `child` links, fetching each URL once.
 * Nodes reach `onChunk` in link order, one chunk at a time, and the walk waits for `onChunk`
 * before fetching more. So a caller that names documents in `onChunk` gets the same names on
 * every run, and it always handles a parent before its children.
 */
export async function walkStac(
  options: StacWalkOptions,
  onChunk: (nodes: StacNode[]) => Promise<void>,
): Promise<StacWalkStats> {
  const stats: StacWalkStats = { documents: 1, linksBeyondDepth: 0, linksBeyondLimit: 0 };
  const seen = new Set<string>([options.rootUrl]);
  const rootSelf = selfUrlOf(options.root, options.rootUrl);
  if (rootSelf) {
    seen.add(rootSelf);
  }

  const rootNode: StacNode = {
    status: 'fetched',
    url: options.rootUrl,
    depth: 0,
    parentUrl: null,
    kind: 'catalog',
    document: options.root,
  };
  await onChunk([rootNode]);

  let level = followedLinks(rootNode, options.maxDepth, seen, stats);
  while (level.length > 0) {
    const nextLevel: PendingLink[] = [];

    for (let start = 0; start < level.length; start += options.chunkSize) {
      const admitted: PendingLink[] = [];
      for (const link of level.slice(start, start + options.chunkSize)) {
        if (stats.documents >= options.maxDocuments) {
          stats.linksBeyondLimit += 1;
        } else {
          stats.documents += 1;
          admitted.push(link);
        }
      }

      const nodes = await mapWithConcurrency(admitted, options.concurrency, (link) =>
        fetchNode(link, options.fetchDocument),
      );
      for (const node of nodes) {
        if (node.status === 'fetched') {
          const self = selfUrlOf(node.document, node.url);
          if (self) {
            seen.add(self);
          }
        }
      }
      await onChunk(nodes);

      for (const node of nodes) {
        nextLevel.push(...followedLinks(node, options.maxDepth, seen, stats));
      }
    }
    level = nextLevel;
  }
  return stats;
}

async function fetchNode(
  link: PendingLink,
  fetchDocument: (url: string) => Promise<StacFetchResult>,
): Promise<StacNode> {
  const base = { url: link.url, depth: link.depth, parentUrl: link.parentUrl };
  const result = await fetchDocument(link.url);
  if (!result.ok) {
    return { ...base, status: 'failed', reason: result.reason };
  }
  const kind = stacKindOf(result.document);
  if (kind === null) {
    const type = typeof result.document.type === 'string' ? ` (type "${result.document.type}")` : '';
    return { ...base, status: 'failed', reason: `not a STAC Item, Catalog or Collection${type}` };
  }
  return { ...base, status: 'fetched', kind, document: result.document };
}

function followedLinks(
  node: StacNode,
  maxDepth: number,
  seen: Set<string>,
  stats: StacWalkStats,
): PendingLink[] {
  if (node.status !== 'fetched' || node.kind !== 'catalog') {
    return [];
  }
  const pending: PendingLink[] = [];
  const baseUrl = baseUrlOf(node.document, node.url);
  for (const link of linksOf(node.document)) {
    const rel = link.rel.toLowerCase();
    if (rel !== 'item' && rel !== 'child') {
      continue;
    }
    const url = resolveUrl(link.href, baseUrl);
    if (url === null || !isHttpUrl(url) || seen.has(url)) {
      continue;
    }
    seen.add(url);
    if (node.depth + 1 > maxDepth) {
      stats.linksBeyondDepth += 1;
    } else {
      pending.push({ url, depth: node.depth + 1, parentUrl: node.url });
    }
  }
  return pending;
}

// ---------------------------------------------------------------------------------------------
// Rewriting

/**
 * Archived names of STAC documents relative to `results/` (`collection.json`,
 * `ndvi-20260601.json`), by every absolute URL a document was known under (the URL it was
 * fetched from and its `self` href).
 */
export type ArchivedNames = ReadonlyMap<string, string>;

/** Turns a path relative to `results/` into a relative href: `./<segment>/<segment>`. */
export function relativeHref(path: string): string {
  return `./${path.split('/').map(encodeHrefSegment).join('/')}`;
}

export interface CatalogRewrite {
  documentUrl: string;
  selfName: string;
  /** Archived name of the catalog that linked here, or null for the root document. */
  parentName: string | null;
  names: ArchivedNames;
}

/**
 * Returns a copy of a Catalog or Collection whose `self`, `item` and `child` links point at the
 * archived copies. Child catalogs also get `root` and `parent` pointed inside the archive. The
 * root document keeps `root` and `parent` links to catalogs outside the job's results absolute,
 * because those catalogs belong to the workspace and are not archived. Every other relative
 * href is made absolute so it still points at the source.
 */
export function rewriteCatalog(document: JsonObject, rewrite: CatalogRewrite): JsonObject {
  const isRoot = rewrite.parentName === null;
  return rewriteLinks(document, rewrite.documentUrl, (rel, url) => {
    const archived = url === null ? undefined : rewrite.names.get(url);
    switch (rel) {
      case 'self':
        return rewrite.selfName;
      case 'item':
      case 'child':
        return archived ?? null;
      case 'root':
        return isRoot ? (archived ?? null) : rootDocumentName;
      case 'parent':
        return archived ?? rewrite.parentName;
      default:
        return null;
    }
  });
}

export interface ItemRewrite extends CatalogRewrite {
  parentName: string;
  /** Path relative to `results/` of each archived asset, by asset name. */
  assetPaths: ReadonlyMap<string, string>;
}

/**
 * Returns a copy of an Item whose asset hrefs point at the archived files, whose `self` points
 * at its archived copy, and whose `root`, `parent` and `collection` links point at archived
 * catalogs (`collection.json` when the target was not archived). Assets and links that were not
 * archived keep an absolute href to the source.
 */
export function rewriteItem(document: JsonObject, rewrite: ItemRewrite): JsonObject {
  const rewritten = rewriteLinks(document, rewrite.documentUrl, (rel, url) => {
    const archived = url === null ? undefined : rewrite.names.get(url);
    switch (rel) {
      case 'self':
        return rewrite.selfName;
      case 'root':
        return rootDocumentName;
      case 'parent':
        return archived ?? rewrite.parentName;
      case 'collection':
        return archived ?? rootDocumentName;
      default:
        return null;
    }
  });

  if (isJsonObject(rewritten.assets)) {
    const baseUrl = baseUrlOf(document, rewrite.documentUrl);
    const assets: JsonObject = {};
    for (const [name, value] of Object.entries(rewritten.assets)) {
      const path = rewrite.assetPaths.get(name);
      if (!isJsonObject(value) || typeof value.href !== 'string') {
        assets[name] = value;
      } else if (path !== undefined) {
        assets[name] = { ...value, href: relativeHref(path) };
      } else {
        assets[name] = { ...value, href: resolveUrl(value.href, baseUrl) ?? value.href };
      }
    }
    rewritten.assets = assets;
  }
  return rewritten;
}

/**
 * Copies `document` with each link's href replaced by the archived name `target` returns, or
 * made absolute when `target` returns null.
 */
function rewriteLinks(
  document: JsonObject,
  documentUrl: string,
  target: (rel: string, url: string | null) => string | null,
): JsonObject {
  const copy: JsonObject = { ...document };
  if (!Array.isArray(document.links)) {
    return copy;
  }
  const baseUrl = baseUrlOf(document, documentUrl);
  copy.links = document.links.map((link: unknown) => {
    if (!isJsonObject(link) || typeof link.rel !== 'string' || typeof link.href !== 'string') {
      return link;
    }
    const url = resolveUrl(link.href, baseUrl);
    const name = target(link.rel.toLowerCase(), url);
    return { ...link, href: name === null ? (url ?? link.href) : relativeHref(name) };
  });
  return copy;
}
