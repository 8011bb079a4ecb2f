/**
 * Unpacks one layer (a tar, plain, gzip or zstd) into a snapshot directory in the
 * overlayfs format: an OCI whiteout ".wh.NAME" becomes a 0/0 character
 * device NAME, an opaque marker ".wh..wh..opq" sets trusted.overlay.opaque
 * on its directory (and is listed in the snapshot's opaque file, for the
 * copying fallback). An entry that would land outside the directory (an
 * absolute name, a ".." part, a hard link to such a name, or a path through
 * a symbolic link) is refused. The uncompressed bytes are hashed as they
 * pass: a diff id that differs from the image config's is DATA_LOSS.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, closeSync, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, rmSync, symlinkSync, utimesSync, write, writeSync } from "node:fs";
import { join } from "node:path";
import { Transform } from "node:stream";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";

import { createGunzip } from "node:zlib";
import { Code } from "@connectrpc/connect";
import { ComponentError } from "@moby-core/sdk";
import { extract } from "tar-stream";
import { createZstdDecompress, isZstd } from "./zstd-stream.js";
import type { Header as Headers } from "tar-stream";

const run = promisify(execFile);
/** write(2) on libuv's threads; resolves with the bytes written. */
const writeAsync = (fd: number, buffer: Buffer, offset: number, length: number): Promise<number> =>
  new Promise((resolve, reject) => write(fd, buffer, offset, length, null, (error, bytes) => (error ? reject(error) : resolve(bytes))));

/** The name of the file in a snapshot that lists its opaque directories, one a line. */
export const OPAQUE_LIST = "opaque";
const WHITEOUT_PREFIX = ".wh.";
/**
 * The bytes a layer's input is gathered into before decompressing, and the
 * size of the decompressor's output chunks: each chunk is one hand-off to
 * zlib's thread and one write(2), so few large ones cost far less than the
 * network's many small ones.
 */
const CHUNK_BYTES = 1024 * 1024;
const OPAQUE_MARKER = ".wh..wh..opq";

/** A layer entry that would escape its snapshot: FAILED_PRECONDITION, the layer is not unpacked. */
export class UnsafeEntryError extends ComponentError {
  constructor(message: string) {
    super(Code.FailedPrecondition, message);
  }
}

/** What unpacking a layer found. */
export interface UnpackResult {
  /** The sha256 of the uncompressed tar. */
  diffId: string;
  /** The bytes of the regular files written. */
  size: number;
  /** The opaque directories, relative to the snapshot's root. */
  opaque: string[];
}

/** The parts of an entry name, normalized; UnsafeEntryError for an absolute name or a ".." part. */
export function entryParts(name: string, layer: string): string[] {
  if (name.startsWith("/")) throw new UnsafeEntryError(`layer ${layer}: entry "${name}" is an absolute path`);
  const parts = name.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) throw new UnsafeEntryError(`layer ${layer}: entry "${name}" has a ".." part, which escapes the layer`);
  return parts;
}

/** Makes sure every parent of parts exists under root as a real directory, never through a symbolic link. */
function ensureParents(root: string, parts: string[], name: string, layer: string): void {
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    let stat;
    try {
      stat = lstatSync(dir);
    } catch {
      mkdirSync(dir, { mode: 0o755 });
      continue;
    }
    if (stat.isSymbolicLink()) throw new UnsafeEntryError(`layer ${layer}: entry "${name}" goes through the symbolic link "${parts.slice(0, parts.indexOf(part) + 1).join("/")}"`);
    if (!stat.isDirectory()) {
      rmSync(dir, { force: true });
      mkdirSync(dir, { mode: 0o755 });
    }
  }
}

/** Removes whatever is at path (a file, a link or a tree). */
function clear(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

function applyOwnership(path: string, header: Headers, isLink: boolean): void {
  if (process.getuid?.() !== 0) return;
  if (isLink) lchownSync(path, header.uid ?? 0, header.gid ?? 0);
  else chownSync(path, header.uid ?? 0, header.gid ?? 0);
}

/** Gathers source's chunks into chunks of at least CHUNK_BYTES (the last may be smaller). */
async function* coalesced(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of source) {
    pending.push(chunk);
    bytes += chunk.byteLength;
    if (bytes < CHUNK_BYTES) continue;
    yield pending.length === 1 ? pending[0]! : Buffer.concat(pending, bytes);
    pending = [];
    bytes = 0;
  }
  if (bytes > 0) yield pending.length === 1 ? pending[0]! : Buffer.concat(pending, bytes);
}

/** A chunk of a file at least this large is written by libuv's threads (off the main thread); a smaller one in place. */
const ASYNC_WRITE_BYTES = 64 * 1024;

/**
 * Writes a regular file entry at path with its mode, owner and time, on one
 * descriptor. Large chunks are written on libuv's threads, so copying them
 * into the page cache overlaps the main thread's work (hashing, parsing);
 * the metadata calls and the chunks of small files are made in place, where
 * a thread hand-off per call would cost more than the call.
 */
async function writeRegularFile(entry: AsyncIterable<Buffer>, path: string, header: Headers): Promise<void> {
  const fd = openSync(path, "wx", 0o600);
  try {
    for await (const chunk of entry) {
      let written = 0;
      while (written < chunk.byteLength) {
        const left = chunk.byteLength - written;
        written += left >= ASYNC_WRITE_BYTES ? await writeAsync(fd, chunk, written, left) : writeSync(fd, chunk, written, left);
      }
    }
    if (process.getuid?.() === 0) fchownSync(fd, header.uid ?? 0, header.gid ?? 0);
    fchmodSync(fd, (header.mode ?? 0o644) & 0o7777);
    if (header.mtime) futimesSync(fd, header.mtime, header.mtime);
  } finally {
    closeSync(fd);
  }
}

/**
 * Unpacks a layer stream into root (an empty directory). gzip and zstd are
 * detected by their magic bytes; signal stops it. The caller removes root on
 * failure.
 */
export async function unpackLayer(source: Readable, root: string, layer: string, signal?: AbortSignal): Promise<UnpackResult> {
  const hash = createHash("sha256");
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  const tar = extract();
  const opaque: string[] = [];
  let size = 0;
  const directories: { path: string; header: Headers }[] = [];

  const head = await readHead(source);
  const gzip = head.byteLength >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  const compression = gzip ? "gzip" : isZstd(head) ? "zstd" : undefined;
  const decompressor = compression === "gzip" ? createGunzip({ chunkSize: CHUNK_BYTES }) : compression === "zstd" ? createZstdDecompress() : undefined;
  let corrupt: Error | undefined;
  decompressor?.once("error", (error: Error) => (corrupt = error));
  const piping = decompressor === undefined ? pipeline(source, coalesced, hasher, tar, { signal }) : pipeline(source, coalesced, decompressor, hasher, tar, { signal });
  piping.catch(() => undefined);
  try {
    await extractEntries(tar, root, layer, opaque, directories, (bytes) => (size += bytes));
    await piping;
  } catch (error) {
    // The blob's digest was right (checked as it was stored): what it holds is not valid compressed data.
    if (corrupt !== undefined) throw new ComponentError(Code.DataLoss, `layer ${layer}: its ${compression} data is corrupt (${corrupt.message})`);
    throw error;
  }

  // Directories last, deepest first, so entries written into them do not undo their mode and times.
  for (const { path, header } of directories.reverse()) {
    applyOwnership(path, header, false);
    chmodSync(path, (header.mode ?? 0o755) & 0o7777);
    if (header.mtime) utimesSync(path, header.mtime, header.mtime);
  }
  return { diffId: `sha256:${hash.digest("hex")}`, size, opaque };
}

/** Reads the first bytes of a stream without consuming them (they are put back). */
async function readHead(source: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onReadable = () => {
      const chunk = source.read() as Buffer | null;
      if (chunk === null) return;
      cleanup();
      source.unshift(chunk);
      resolve(chunk);
    };
    const onEnd = () => (cleanup(), resolve(Buffer.alloc(0)));
    const onError = (error: Error) => (cleanup(), reject(error));
    const cleanup = () => {
      source.off("readable", onReadable);
      source.off("end", onEnd);
      source.off("error", onError);
    };
    source.on("readable", onReadable);
    source.on("end", onEnd);
    source.on("error", onError);
  });
}

/** Writes each entry of tar under root; records opaque directories and the directories to finish last; counts file bytes. */
async function extractEntries(tar: ReturnType<typeof extract>, root: string, layer: string, opaque: string[], directories: { path: string; header: Headers }[], count: (bytes: number) => void): Promise<void> {
  for await (const entry of tar) {
    const header = entry.header;
    const parts = entryParts(header.name, layer);
    if (parts.length === 0) {
      entry.resume();
      continue;
    }
    const base = parts.at(-1)!;
    const path = join(root, ...parts);
    ensureParents(root, parts, header.name, layer);
    if (base === OPAQUE_MARKER) {
      const dir = join(root, ...parts.slice(0, -1));
      if (process.getuid?.() === 0) await run("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", dir]);
      opaque.push(parts.slice(0, -1).join("/"));
      entry.resume();
      continue;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const hidden = join(root, ...parts.slice(0, -1), base.slice(WHITEOUT_PREFIX.length));
      clear(hidden);
      await run("mknod", ["-m", "0", hidden, "c", "0", "0"]);
      entry.resume();
      continue;
    }
    switch (header.type) {
      case "directory": {
        let isDir = false;
        try {
          isDir = lstatSync(path).isDirectory();
        } catch {
          // made below
        }
        if (!isDir) {
          clear(path);
          mkdirSync(path, { mode: 0o755 });
        }
        directories.push({ path, header });
        entry.resume();
        break;
      }
      case "file":
      case "contiguous-file": {
        clear(path);
        await writeRegularFile(entry as AsyncIterable<Buffer>, path, header);
        count(header.size ?? 0);
        break;
      }
      case "symlink": {
        clear(path);
        symlinkSync(header.linkname ?? "", path);
        applyOwnership(path, header, true);
        if (header.mtime) {
          try {
            lutimesSync(path, header.mtime, header.mtime);
          } catch {
            // a link's time is cosmetic; some filesystems cannot set it
          }
        }
        entry.resume();
        break;
      }
      case "link": {
        const targetParts = entryParts(header.linkname ?? "", layer);
        ensureParents(root, [...targetParts, ""], header.linkname ?? "", layer);
        clear(path);
        try {
          linkSync(join(root, ...targetParts), path);
        } catch (error) {
          throw new UnsafeEntryError(`layer ${layer}: hard link "${header.name}" to "${header.linkname}": ${(error as Error).message}`);
        }
        entry.resume();
        break;
      }
      case "character-device":
      case "block-device":
      case "fifo": {
        clear(path);
        const mode = ((header.mode ?? 0o644) & 0o7777).toString(8);
        const args = header.type === "fifo" ? ["-m", mode, path, "p"] : ["-m", mode, path, header.type === "character-device" ? "c" : "b", String(header.devmajor ?? 0), String(header.devminor ?? 0)];
        await run("mknod", args);
        applyOwnership(path, header, false);
        entry.resume();
        break;
      }
      default:
        entry.resume();
    }
  }
}
