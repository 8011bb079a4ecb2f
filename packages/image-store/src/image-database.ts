/**
 * The image store's metadata in SQLite (WAL, a full sync on every commit):
 * the image names, each with its encoded Image record; the unpacked layer
 * snapshots, keyed by chain id; and the containers' root filesystems with
 * what they hold on to. A row is written only after the content it names is
 * present, so a kill -9 at any point leaves no row pointing at nothing.
 */
import { dirname } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import type { Database as SqliteDatabase } from "better-sqlite3";
import { ImageSchema } from "@moby-core/image-api/v1";
import type { Image } from "@moby-core/image-api/v1";
import { ensurePrivateDirectory } from "@moby-core/sdk";

/** A layer unpacked into a directory. */
export interface SnapshotRow {
  chainId: string;
  /** The snapshot's directory name under snapshots/. */
  dir: string;
  /** The bytes it takes on disk (file sizes summed). */
  size: number;
}

/** A container's root filesystem. */
export interface RootfsRow {
  containerId: string;
  /** The config digest of the image it was made from. */
  configDigest: string;
  /** The chain ids of the snapshots it stacks, bottom first. */
  chainIds: string[];
  /** The blobs it keeps alive (the image's manifest, config, layers). */
  blobs: string[];
  /** "overlayfs" or "copy". */
  method: string;
}

/** The image store's metadata. */
export class ImageDatabase {
  private readonly db: SqliteDatabase;

  constructor(path: string) {
    ensurePrivateDirectory(dirname(path));
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS images (name TEXT PRIMARY KEY, config_digest TEXT NOT NULL, record BLOB NOT NULL);
      CREATE INDEX IF NOT EXISTS images_config ON images (config_digest);
      CREATE TABLE IF NOT EXISTS snapshots (chain_id TEXT PRIMARY KEY, dir TEXT NOT NULL UNIQUE, size INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS rootfs (container_id TEXT PRIMARY KEY, config_digest TEXT NOT NULL, chain_ids TEXT NOT NULL, blobs TEXT NOT NULL, method TEXT NOT NULL);
    `);
  }

  /** The image of a name, or undefined. */
  image(name: string): Image | undefined {
    const row = this.db.prepare("SELECT record FROM images WHERE name = ?").get(name) as { record: Buffer } | undefined;
    return row ? fromBinary(ImageSchema, row.record) : undefined;
  }

  /** Every name whose image has a config digest starting with prefix ("sha256:..."). */
  imagesByConfig(prefix: string): Image[] {
    const rows = this.db.prepare("SELECT record FROM images WHERE substr(config_digest, 1, ?) = ? ORDER BY name").all(prefix.length, prefix) as { record: Buffer }[];
    return rows.map((row) => fromBinary(ImageSchema, row.record));
  }

  /** Every image, in ascending byte order of name, from after (exclusive). */
  images(after = "", limit = -1): Image[] {
    const rows = this.db.prepare("SELECT record FROM images WHERE name > ? ORDER BY name LIMIT ?").all(after, limit) as { record: Buffer }[];
    return rows.map((row) => fromBinary(ImageSchema, row.record));
  }

  /** Records an image under its name; returns whether the name is new. */
  putImage(image: Image): boolean {
    const existed = this.db.prepare("SELECT 1 FROM images WHERE name = ?").get(image.name) !== undefined;
    this.db.prepare("INSERT INTO images (name, config_digest, record) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET config_digest = excluded.config_digest, record = excluded.record").run(image.name, image.configDigest, toBinary(ImageSchema, image));
    return !existed;
  }

  /** Removes names in one transaction. */
  deleteImages(names: readonly string[]): void {
    const remove = this.db.prepare("DELETE FROM images WHERE name = ?");
    this.db.transaction(() => {
      for (const name of names) remove.run(name);
    })();
  }

  /** The snapshot of a chain id, or undefined. */
  snapshot(chainId: string): SnapshotRow | undefined {
    const row = this.db.prepare("SELECT chain_id, dir, size FROM snapshots WHERE chain_id = ?").get(chainId) as { chain_id: string; dir: string; size: number } | undefined;
    return row ? { chainId: row.chain_id, dir: row.dir, size: row.size } : undefined;
  }

  /** Every snapshot. */
  snapshots(): SnapshotRow[] {
    return (this.db.prepare("SELECT chain_id, dir, size FROM snapshots").all() as { chain_id: string; dir: string; size: number }[]).map((row) => ({ chainId: row.chain_id, dir: row.dir, size: row.size }));
  }

  /** Records a snapshot whose directory is complete. */
  putSnapshot(row: SnapshotRow): void {
    this.db.prepare("INSERT INTO snapshots (chain_id, dir, size) VALUES (?, ?, ?)").run(row.chainId, row.dir, row.size);
  }

  /** Forgets a snapshot (its directory is removed by the caller). */
  deleteSnapshot(chainId: string): void {
    this.db.prepare("DELETE FROM snapshots WHERE chain_id = ?").run(chainId);
  }

  /** The root filesystem of a container, or undefined. */
  rootfs(containerId: string): RootfsRow | undefined {
    const row = this.db.prepare("SELECT * FROM rootfs WHERE container_id = ?").get(containerId) as Record<string, string> | undefined;
    return row ? toRootfs(row) : undefined;
  }

  /** Every root filesystem. */
  rootfsAll(): RootfsRow[] {
    return (this.db.prepare("SELECT * FROM rootfs").all() as Record<string, string>[]).map(toRootfs);
  }

  /** Records a prepared root filesystem. */
  putRootfs(row: RootfsRow): void {
    this.db.prepare("INSERT INTO rootfs (container_id, config_digest, chain_ids, blobs, method) VALUES (?, ?, ?, ?, ?)").run(row.containerId, row.configDigest, JSON.stringify(row.chainIds), JSON.stringify(row.blobs), row.method);
  }

  /** Forgets a root filesystem. */
  deleteRootfs(containerId: string): void {
    this.db.prepare("DELETE FROM rootfs WHERE container_id = ?").run(containerId);
  }

  /** Closes the database. */
  close(): void {
    this.db.close();
  }
}

function toRootfs(row: Record<string, string>): RootfsRow {
  return { containerId: row.container_id!, configDigest: row.config_digest!, chainIds: JSON.parse(row.chain_ids!) as string[], blobs: JSON.parse(row.blobs!) as string[], method: row.method! };
}
