/**
 * Snapshots: each layer unpacked once, under snapshots/<dir>/fs, keyed by
 * its chain id. A layer is unpacked into a tmp- directory and renamed into
 * place before its row is written, so a kill -9 leaves at most a directory
 * without a row, which the next open removes. Two pulls of one layer share
 * one unpack.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Code } from "@connectrpc/connect";
import { ComponentError } from "@moby-core/sdk";
import type { ContentStore } from "./content-store.js";
import { digestHex } from "./digest.js";
import type { ImageDatabase } from "./image-database.js";
import { PULL_CONCURRENCY } from "./image-puller.js";
import { LayerUnpackPool, OPAQUE_LIST } from "@moby-core/oci-image";

/** Unpacked layers on disk. */
export class Snapshotter {
  /** The directory holding every snapshot. */
  readonly root: string;
  private readonly inFlight = new Map<string, Promise<void>>();
  /**
   * Layers are unpacked on worker threads, leaving the main thread to the downloads and the RPCs; as many as a pull
   * downloads at once, so no layer's download waits for a worker.
   */
  private readonly unpackers = new LayerUnpackPool(PULL_CONCURRENCY);

  constructor(
    root: string,
    private readonly db: ImageDatabase,
    private readonly content: ContentStore,
  ) {
    this.root = join(root, "snapshots");
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const known = new Set(db.snapshots().map((row) => row.dir));
    for (const dir of readdirSync(this.root)) {
      if (!known.has(dir)) rmSync(join(this.root, dir), { recursive: true, force: true });
    }
  }

  /** The fs directory of a snapshot, relative to root (short, for overlayfs's option size limit). */
  relativeFs(chainId: string): string {
    const row = this.db.snapshot(chainId);
    if (!row) throw new ComponentError(Code.Internal, `snapshot ${chainId} is missing`);
    return `${row.dir}/fs`;
  }

  /** The opaque directories of a snapshot. */
  opaque(chainId: string): string[] {
    const path = join(this.root, this.relativeFs(chainId), "..", OPAQUE_LIST);
    return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : [];
  }

  /** Whether the snapshot of chainId is present. */
  has(chainId: string): boolean {
    return this.db.snapshot(chainId) !== undefined;
  }

  /** Unpacks the layer blob into the snapshot of chainId unless it is present; DATA_LOSS when its diff id differs. */
  async unpack(chainId: string, blob: string, diffId: string, signal?: AbortSignal): Promise<void> {
    if (this.has(chainId)) return;
    let running = this.inFlight.get(chainId);
    if (!running) running = this.track(chainId, this.unpackNow(chainId, blob, () => this.content.stream(blob), diffId, Promise.resolve(), signal));
    await running;
  }

  /** Whether the snapshot of chainId is being unpacked. */
  unpacking(chainId: string): boolean {
    return this.inFlight.has(chainId);
  }

  /**
   * Unpacks the layer blob from source, its bytes as they are downloaded,
   * into the snapshot of chainId; the snapshot is recorded only once verified
   * (the blob's digest and size checked) resolves, and nothing is kept when
   * it rejects. Callers of `unpack` for chainId join it meanwhile.
   */
  unpackFrom(chainId: string, blob: string, diffId: string, source: Readable, verified: Promise<void>, signal?: AbortSignal): Promise<void> {
    if (this.inFlight.has(chainId) || this.has(chainId)) throw new ComponentError(Code.Internal, `snapshot ${chainId} is present or being unpacked`);
    return this.track(chainId, this.unpackNow(chainId, blob, () => source, diffId, verified, signal));
  }

  /** Keeps running in the in-flight unpacks until it settles. */
  private track(chainId: string, running: Promise<void>): Promise<void> {
    const tracked = running.finally(() => this.inFlight.delete(chainId));
    this.inFlight.set(chainId, tracked);
    return tracked;
  }

  private async unpackNow(chainId: string, blob: string, source: () => Readable, diffId: string, verified: Promise<void>, signal?: AbortSignal): Promise<void> {
    const tmp = join(this.root, `tmp-${randomBytes(6).toString("hex")}`);
    mkdirSync(join(tmp, "fs"), { recursive: true, mode: 0o755 });
    try {
      const result = await this.unpackers.unpack(source(), join(tmp, "fs"), blob, signal);
      // A blob whose bytes turn out wrong makes no snapshot, whatever they unpacked into.
      await verified;
      if (result.diffId !== diffId) throw new ComponentError(Code.DataLoss, `layer ${blob}: its uncompressed digest is ${result.diffId}, the image config says ${diffId}`);
      writeFileSync(join(tmp, OPAQUE_LIST), result.opaque.map((dir) => `${dir}\n`).join(""));
      let dir = digestHex(chainId).slice(0, 12);
      while (existsSync(join(this.root, dir))) dir = `${digestHex(chainId).slice(0, 12)}${randomBytes(2).toString("hex")}`;
      renameSync(tmp, join(this.root, dir));
      this.db.putSnapshot({ chainId, dir, size: result.size });
    } catch (error) {
      rmSync(tmp, { recursive: true, force: true });
      throw error;
    }
  }

  /** Removes a snapshot; returns the bytes it held. */
  remove(chainId: string): number {
    const row = this.db.snapshot(chainId);
    if (!row) return 0;
    this.db.deleteSnapshot(chainId);
    rmSync(join(this.root, row.dir), { recursive: true, force: true });
    return row.size;
  }
}
