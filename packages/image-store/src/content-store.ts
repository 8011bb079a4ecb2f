/**
 * The content store: blobs addressed by digest under blobs/sha256/<hex>.
 * Every write streams into a private file under ingest/, is hashed and
 * counted as it arrives, and only a blob whose digest and size match its
 * descriptor is fsynced and renamed into place: a blob that is present is
 * always whole and verified, after kill -9 too (ingest/ is emptied at open).
 * Two writers of one digest share one download (see `fetchOnce`).
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Code } from "@connectrpc/connect";
import { ComponentError } from "@moby-core/sdk";
import { digestHex, isDigest } from "./digest.js";

/** A blob whose bytes differ from its descriptor: DATA_LOSS, nothing kept. */
export class DigestMismatchError extends ComponentError {
  constructor(message: string) {
    super(Code.DataLoss, message);
  }
}

/** The most bytes a blob write gathers before writing them to its file. */
const WRITE_BATCH_BYTES = 1024 * 1024;

/** Called with the bytes received so far while a blob streams in. */
export type ProgressListener = (bytes: number) => void;

interface Download {
  promise: Promise<void>;
  controller: AbortController;
  waiters: number;
  listeners: Set<ProgressListener>;
  received: number;
}

/** Blobs by digest on the local filesystem. */
export class ContentStore {
  private readonly blobsDir: string;
  private readonly ingestDir: string;
  private readonly downloads = new Map<string, Download>();
  /** How many blob downloads started (not joined), per digest: what the tests count. */
  readonly downloadsStarted = new Map<string, number>();

  constructor(readonly root: string) {
    this.blobsDir = join(root, "blobs", "sha256");
    this.ingestDir = join(root, "ingest");
    mkdirSync(this.blobsDir, { recursive: true, mode: 0o700 });
    // What a killed process left half-written is never a blob: start empty.
    rmSync(this.ingestDir, { recursive: true, force: true });
    mkdirSync(this.ingestDir, { recursive: true, mode: 0o700 });
  }

  /** The path of a blob (present or not). */
  path(digest: string): string {
    if (!isDigest(digest)) throw new DigestMismatchError(`"${digest}" is not a sha256 digest`);
    return join(this.blobsDir, digestHex(digest));
  }

  /** Whether a verified blob is present. */
  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  /** The size of a present blob, in bytes. */
  size(digest: string): number {
    return statSync(this.path(digest)).size;
  }

  /** The bytes of a present blob (for small blobs: manifests, configs). */
  read(digest: string): Buffer {
    return readFileSync(this.path(digest));
  }

  /** A stream of a present blob. */
  stream(digest: string): Readable {
    return createReadStream(this.path(digest), { highWaterMark: 1024 * 1024 });
  }

  /** Every digest present. */
  list(): string[] {
    return readdirSync(this.blobsDir).filter((name) => /^[0-9a-f]{64}$/.test(name)).map((hex) => `sha256:${hex}`);
  }

  /** Removes a blob now (the caller made sure nothing uses it); returns its size. */
  remove(digest: string): number {
    const path = this.path(digest);
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {
      return 0;
    }
    rmSync(path, { force: true });
    return size;
  }

  /** Whether a download of digest is in flight. */
  downloading(digest: string): boolean {
    return this.downloads.has(digest);
  }

  /** Writes bytes as a blob of digest; DigestMismatchError when they differ. */
  async writeBytes(digest: string, bytes: Uint8Array): Promise<void> {
    if (this.has(digest)) return;
    await this.ingest(digest, bytes.byteLength, (async function* () {
      yield bytes;
    })());
  }

  /**
   * Streams source into the blob of digest, verifying size (when expectedSize
   * is not undefined) and digest before anything is visible; on any error
   * the partial file is removed and nothing is kept.
   */
  async ingest(digest: string, expectedSize: number | undefined, source: AsyncIterable<Uint8Array>, onProgress?: ProgressListener, signal?: AbortSignal): Promise<void> {
    const target = this.path(digest);
    const temp = join(this.ingestDir, `${digestHex(digest).slice(0, 16)}-${randomBytes(6).toString("hex")}`);
    const file = await open(temp, "wx", 0o600);
    const hash = createHash("sha256");
    let received = 0;
    // Chunks from the network are small; they are written in batches of up to WRITE_BATCH_BYTES.
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const batch = pending;
      const bytes = pendingBytes;
      pending = [];
      pendingBytes = 0;
      // One writev(2) of the chunks as they came (libuv finishes partial writes): no copy into one buffer.
      const { bytesWritten } = await file.writev(batch);
      if (bytesWritten !== bytes) throw new Error(`blob ${digest}: ${bytesWritten} of ${bytes} bytes were written to ${temp}`);
    };
    try {
      for await (const chunk of untilAborted(source, signal)) {
        received += chunk.byteLength;
        if (expectedSize !== undefined && received > expectedSize) {
          throw new DigestMismatchError(`blob ${digest}: more than the ${expectedSize} bytes its descriptor says`);
        }
        hash.update(chunk);
        pending.push(chunk);
        pendingBytes += chunk.byteLength;
        if (pendingBytes >= WRITE_BATCH_BYTES) await flush();
        onProgress?.(received);
      }
      await flush();
      signal?.throwIfAborted();
      if (expectedSize !== undefined && received !== expectedSize) {
        throw new DigestMismatchError(`blob ${digest}: ${received} bytes where its descriptor says ${expectedSize}`);
      }
      const actual = `sha256:${hash.digest("hex")}`;
      if (actual !== digest) throw new DigestMismatchError(`blob ${digest}: its bytes have digest ${actual}`);
      await file.sync();
      await file.close();
      renameSync(temp, target);
      await syncDirectory(this.blobsDir);
    } catch (error) {
      await file.close().catch(() => undefined);
      rmSync(temp, { force: true });
      throw error;
    }
  }

  /** Streams source into the store under the digest of its bytes, whatever it is; returns that digest and size. */
  async ingestAny(source: AsyncIterable<Uint8Array>): Promise<{ digest: string; size: number }> {
    const temp = join(this.ingestDir, `any-${randomBytes(8).toString("hex")}`);
    const file = await open(temp, "wx", 0o600);
    const hash = createHash("sha256");
    let size = 0;
    try {
      for await (const chunk of source) {
        size += chunk.byteLength;
        hash.update(chunk);
        await file.write(chunk);
      }
      await file.sync();
      await file.close();
      const digest = `sha256:${hash.digest("hex")}`;
      renameSync(temp, this.path(digest));
      await syncDirectory(this.blobsDir);
      return { digest, size };
    } catch (error) {
      await file.close().catch(() => undefined);
      rmSync(temp, { force: true });
      throw error;
    }
  }

  /**
   * Makes the blob of digest present by running fetch once, however many
   * callers ask for it at the same time: later callers join the download in
   * flight and hear its progress. A caller's signal ends only its own wait;
   * the download is aborted when every caller waiting for it has gone.
   */
  async fetchOnce(digest: string, fetch: (signal: AbortSignal, onProgress: ProgressListener) => Promise<void>, onProgress: ProgressListener | undefined, signal: AbortSignal | undefined): Promise<void> {
    let download = this.downloads.get(digest);
    if (!download) {
      const controller = new AbortController();
      const listeners = new Set<ProgressListener>();
      const started: Download = { promise: Promise.resolve(), controller, waiters: 0, listeners, received: 0 };
      this.downloadsStarted.set(digest, (this.downloadsStarted.get(digest) ?? 0) + 1);
      started.promise = fetch(controller.signal, (bytes) => {
        started.received = bytes;
        for (const listener of listeners) listener(bytes);
      }).finally(() => this.downloads.delete(digest));
      started.promise.catch(() => undefined);
      this.downloads.set(digest, started);
      download = started;
    }
    const joined = download;
    joined.waiters++;
    if (onProgress) joined.listeners.add(onProgress);
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        joined.promise.then(resolve, reject);
        if (signal) {
          onAbort = () => reject(signal.reason);
          if (signal.aborted) onAbort();
          else signal.addEventListener("abort", onAbort, { once: true });
        }
      });
    } finally {
      if (onAbort) signal?.removeEventListener("abort", onAbort);
      if (onProgress) joined.listeners.delete(onProgress);
      joined.waiters--;
      if (joined.waiters === 0 && this.downloads.get(digest) === joined) joined.controller.abort(signal?.reason);
    }
  }
}

/**
 * Iterates source until signal aborts: an abort ends the wait for the next
 * chunk at once (an HTTP body whose connection went quiet never answers), and
 * the source is told to stop.
 */
export async function* untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal | undefined): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    if (!signal) return;
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    if (onAbort) signal?.removeEventListener("abort", onAbort);
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}

/**
 * fsyncs a directory, so a rename in it survives a crash of the machine. On
 * libuv's threads: on ext4 it can wait tens of milliseconds for the journal,
 * which the main thread spends on the other blobs of the pull meanwhile.
 */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
