/**
 * Garbage collection: frees every blob and snapshot that no image name, no
 * container's root filesystem and no lease (a pull or import in progress)
 * uses. It runs after a delete and a release, in one turn of the event loop
 * for its decisions, so a pull cannot take a blob it is removing.
 */
import type { ContentStore } from "./content-store.js";
import type { ImageDatabase } from "./image-database.js";
import type { Leases } from "./leases.js";
import type { Snapshotter } from "./snapshotter.js";

/** What a collection freed. */
export interface Collected {
  /** The digests of the blobs removed. */
  blobs: string[];
  /** The chain ids of the snapshots removed. */
  snapshots: string[];
  /** The bytes freed. */
  bytes: number;
}

/** Frees what nothing references; returns what it freed. */
export function collectGarbage(db: ImageDatabase, content: ContentStore, snapshots: Snapshotter, leases: Leases): Collected {
  const blobs = new Set<string>();
  const chains = new Set<string>();
  for (const image of db.images()) {
    blobs.add(image.digest);
    blobs.add(image.manifestDigest);
    blobs.add(image.configDigest);
    for (const layer of image.layers) {
      blobs.add(layer.digest);
      chains.add(layer.chainId);
    }
  }
  for (const rootfs of db.rootfsAll()) {
    for (const blob of rootfs.blobs) blobs.add(blob);
    for (const chain of rootfs.chainIds) chains.add(chain);
  }
  const out: Collected = { blobs: [], snapshots: [], bytes: 0 };
  for (const row of db.snapshots()) {
    if (chains.has(row.chainId) || leases.has(row.chainId)) continue;
    out.bytes += snapshots.remove(row.chainId);
    out.snapshots.push(row.chainId);
  }
  for (const digest of content.list()) {
    if (blobs.has(digest) || leases.has(digest) || content.downloading(digest)) continue;
    out.bytes += content.remove(digest);
    out.blobs.push(digest);
  }
  return out;
}
