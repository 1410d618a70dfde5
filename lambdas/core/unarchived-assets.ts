import { createHash } from 'node:crypto';
import { mapWithConcurrency } from './concurrency';
import type { ManifestRecord } from './manifest';
import type { ArchiveLogger } from './plan';
import type { ArchiveStore } from './ports';
import { isJsonObject, relativeHref } from './stac';

/**
 * `Plan archive` writes each item with relative hrefs to its asset copies before any copy is
 * made. When a copy then fails, that href points at a file the archive does not have, so
 * `Publish outcome` points it back at the source URL, as for every other asset that was not
 * archived. The archived STAC then resolves from the archive alone wherever it can.
 */

/** Item documents rewritten at the same time. */
const itemConcurrency = 8;

/**
 * Returns the archived item document of an asset key, `results/<item>.json` for
 * `results/<item>/<file>`, with the asset's relative href in that document, or null for keys
 * of another shape.
 */
function itemOfAssetKey(key: string): { itemKey: string; href: string } | null {
  const segments = key.split('/');
  const [folder, item, file] = segments;
  if (segments.length !== 3 || folder !== 'results' || item === undefined || file === undefined) {
    return null;
  }
  return { itemKey: `results/${item}.json`, href: relativeHref(`${item}/${file}`) };
}

/**
 * Rewrites the archived item documents whose assets failed to archive, so each such asset's
 * href is its source URL again, and returns `records` with the rewritten items' bytes and
 * SHA-256 updated. An item that cannot be read or parsed is logged and left as it is.
 *
 * @param prefix - the job prefix, such as `demo-ws/<jobId>/`
 */
export async function restoreUnarchivedAssetHrefs(
  store: ArchiveStore,
  prefix: string,
  records: readonly ManifestRecord[],
  logger: Pick<ArchiveLogger, 'warn'>,
): Promise<ManifestRecord[]> {
  const sourcesByItem = new Map<string, Map<string, string>>();
  for (const record of records) {
    if (record.kind !== 'asset' || record.outcome !== 'failed' || record.source === null) {
      continue;
    }
    const asset = itemOfAssetKey(record.key);
    if (asset === null) {
      continue;
    }
    let sources = sourcesByItem.get(asset.itemKey);
    if (sources === undefined) {
      sources = new Map();
      sourcesByItem.set(asset.itemKey, sources);
    }
    sources.set(asset.href, record.source);
  }

  const rewritten = new Map<string, { bytes: number; sha256: string }>();
  await mapWithConcurrency([...sourcesByItem], itemConcurrency, async ([itemKey, sources]) => {
    try {
      const stored = await store.getObject(`${prefix}${itemKey}`);
      if (stored === null) {
        return;
      }
      const item: unknown = JSON.parse(new TextDecoder().decode(stored));
      if (!isJsonObject(item) || !isJsonObject(item.assets)) {
        return;
      }
      let changed = false;
      for (const asset of Object.values(item.assets)) {
        const source =
          isJsonObject(asset) && typeof asset.href === 'string' ? sources.get(asset.href) : undefined;
        if (isJsonObject(asset) && source !== undefined) {
          asset.href = source;
          changed = true;
        }
      }
      if (!changed) {
        return;
      }
      const bytes = new TextEncoder().encode(JSON.stringify(item, null, 2));
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await store.putObject(`${prefix}${itemKey}`, bytes, { contentType: 'application/geo+json', sha256 });
      rewritten.set(itemKey, { bytes: bytes.byteLength, sha256 });
    } catch (error) {
      logger.warn('archived item not rewritten; it keeps relative hrefs to files that failed', {
        key: itemKey,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  });

  return records.map((record) => {
    const update = record.kind === 'item' ? rewritten.get(record.key) : undefined;
    return update === undefined ? record : { ...record, ...update };
  });
}
