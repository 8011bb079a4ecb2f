/**
 * A layer written so that the same files always give the same bytes, hence
 * the same digest: entries sorted by path, every parent directory listed,
 * modification times 0, owner 0:0 with no user or group names, modes
 * reduced to 0755 or 0644 (0755 for directories and executables), and gzip
 * with no name and a zero time in its header.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { pack } from "tar-stream";
import type { Pack } from "tar-stream";

/** One entry of a layer: a file copied from the host, a directory or a symbolic link. */
export type LayerEntry =
  | { type: "file"; path: string; source: string; executable: boolean; size: number }
  | { type: "directory"; path: string }
  | { type: "symlink"; path: string; target: string };

/** A layer blob as written: its digest (gzip), diff id (tar) and compressed size. */
export interface WrittenLayer {
  /** sha256 of the gzip bytes, "sha256:<hex>". */
  digest: string;
  /** sha256 of the uncompressed tar, "sha256:<hex>". */
  diffId: string;
  /** The gzip bytes. */
  size: number;
  /** The uncompressed tar bytes. */
  tarSize: number;
}

/** The fixed time of every entry, so that a build does not depend on when files were touched. */
const EPOCH = new Date(0);

/** A path relative to the layer root: no leading "/", no "." or ".." parts, no empty parts; Error otherwise. */
export function layerPath(path: string): string {
  const parts = path.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.length === 0 || parts.includes("..")) throw new Error(`layer entry "${path}" is not a path inside the layer`);
  return parts.join("/");
}

/** The entries, normalized, each parent directory added, sorted by path, a path twice an Error. */
export function normalizeEntries(entries: readonly LayerEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  for (const entry of entries) {
    const path = layerPath(entry.path);
    const existing = byPath.get(path);
    if (existing !== undefined && !(existing.type === "directory" && entry.type === "directory")) {
      throw new Error(`layer entry "${path}" is listed twice`);
    }
    byPath.set(path, { ...entry, path });
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const known = byPath.get(parent);
      if (known !== undefined && known.type !== "directory") throw new Error(`layer entry "${path}" is under "${parent}", which is not a directory`);
      if (known === undefined) byPath.set(parent, { type: "directory", path: parent });
    }
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A pass-through stream that hashes and counts what goes through it. */
function measuring(): { stream: Transform; digest: () => string; bytes: () => number } {
  const hash = createHash("sha256");
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      callback(null, chunk);
    },
  });
  return { stream, digest: () => `sha256:${hash.digest("hex")}`, bytes: () => bytes };
}

/** Adds one entry to the tar; a file is streamed from its source, which must still have the size listed. */
async function addEntry(tar: Pack, entry: LayerEntry): Promise<void> {
  const common = { name: entry.path, mtime: EPOCH, uid: 0, gid: 0, uname: "", gname: "" };
  switch (entry.type) {
    case "directory":
      await new Promise<void>((resolve, reject) => tar.entry({ ...common, type: "directory", mode: 0o755 }, (error) => (error ? reject(error) : resolve())));
      return;
    case "symlink":
      await new Promise<void>((resolve, reject) =>
        tar.entry({ ...common, type: "symlink", mode: 0o777, linkname: entry.target }, (error) => (error ? reject(error) : resolve())),
      );
      return;
    case "file": {
      const sink = tar.entry({ ...common, type: "file", mode: entry.executable ? 0o755 : 0o644, size: entry.size });
      await pipeline(createReadStream(entry.source), sink);
    }
  }
}

/** Writes entries as a reproducible tar+gzip layer to file (created or replaced). */
export async function writeLayer(entries: readonly LayerEntry[], file: string): Promise<WrittenLayer> {
  const sorted = normalizeEntries(entries);
  const tar = pack();
  const uncompressed = measuring();
  const compressed = measuring();
  const writing = pipeline(tar, uncompressed.stream, createGzip({ level: 6 }), compressed.stream, createWriteStream(file));
  try {
    for (const entry of sorted) await addEntry(tar, entry);
    tar.finalize();
  } catch (error) {
    tar.destroy(error as Error);
    await writing.catch(() => undefined);
    throw error;
  }
  await writing;
  return { digest: compressed.digest(), diffId: uncompressed.digest(), size: compressed.bytes(), tarSize: uncompressed.bytes() };
}
