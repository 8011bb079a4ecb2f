/**
 * Images built by tests from /bin/busybox (Debian's busybox-static), with no
 * download: layers as tars made with tar-stream (whiteouts and opaque
 * directories included), OCI manifests, configs and indexes, pushed to a
 * test registry, and `docker save` archives.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import type { ImageRegistry } from "./image-registry.js";

/** One entry of a test layer. */
export interface LayerEntry {
  name: string;
  type?: "file" | "directory" | "symlink";
  content?: Buffer | string;
  linkname?: string;
  mode?: number;
}

/** The sha256 digest of bytes. */
export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** An uncompressed tar of entries. */
export async function tarOf(entries: LayerEntry[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of tar) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    const type = entry.type ?? "file";
    const content = type === "file" ? Buffer.from(entry.content ?? "") : undefined;
    await new Promise<void>((resolve, reject) =>
      tar.entry({ name: entry.name, type, mode: entry.mode ?? (type === "directory" ? 0o755 : 0o644), linkname: entry.linkname, size: content?.byteLength ?? 0, mtime: new Date(1_700_000_000_000) }, content, (error) => (error ? reject(error) : resolve())),
    );
  }
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** The busybox base layer: /bin/busybox and a few applet links. */
export async function busyboxLayer(): Promise<Buffer> {
  const entries: LayerEntry[] = [
    { name: "bin/", type: "directory" },
    { name: "bin/busybox", content: readFileSync("/bin/busybox"), mode: 0o755 },
    ...["sh", "echo", "cat", "ls", "sleep", "true"].map((name) => ({ name: `bin/${name}`, type: "symlink" as const, linkname: "busybox" })),
    { name: "etc/", type: "directory" },
    { name: "etc/hello", content: "one\n" },
    { name: "etc/removed", content: "this file is whited out above\n" },
    { name: "data/", type: "directory" },
    { name: "data/opq/", type: "directory" },
    { name: "data/opq/lower", content: "hidden by the opaque directory above\n" },
    { name: "tmp/", type: "directory", mode: 0o1777 },
  ];
  return tarOf(entries);
}

/** A built image: its blobs by digest, its manifest and config. */
export interface BuiltImage {
  blobs: Map<string, Buffer>;
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  configDigest: string;
  /** The digests of the (compressed) layer blobs, bottom first. */
  layers: string[];
  /** The uncompressed layer tars, bottom first. */
  tars: Buffer[];
}

/** The config's run settings. */
export interface RunConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
}

/** Builds an OCI image of layer tars (gzip compressed, or zstd by the zstd command) for this machine's platform. */
export function buildImage(tars: Buffer[], run: RunConfig = {}, arch = process.arch === "x64" ? "amd64" : process.arch, compression: "gzip" | "zstd" = "gzip"): BuiltImage {
  const blobs = new Map<string, Buffer>();
  const layers = tars.map((tar) => {
    const compressed = compression === "gzip" ? gzipSync(tar) : execFileSync("zstd", ["-q", "-c", "-3"], { input: tar, maxBuffer: 1 << 30 });
    const digest = sha256(compressed);
    blobs.set(digest, compressed);
    return { mediaType: `application/vnd.oci.image.layer.v1.tar+${compression}`, digest, size: compressed.byteLength };
  });
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: "linux", config: run, rootfs: { type: "layers", diff_ids: tars.map((t) => sha256(t)) } }));
  const configDigest = sha256(config);
  blobs.set(configDigest, config);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.byteLength }, layers }),
  );
  return { blobs, manifest, manifestDigest: sha256(manifest), config, configDigest, layers: layers.map((l) => l.digest), tars };
}

/** Pushes an image's blobs and its manifest under tag. */
export async function pushImage(registry: ImageRegistry, repository: string, tag: string, image: BuiltImage, user?: [string, string]): Promise<void> {
  for (const bytes of image.blobs.values()) await registry.pushBlob(repository, bytes, user);
  await registry.pushManifest(repository, tag, "application/vnd.oci.image.manifest.v1+json", image.manifest, user);
}

/**
 * Pushes an index of this machine's image and another platform whose
 * manifest's blobs were never pushed (unusable: pulling it would fail).
 */
export async function pushMultiPlatform(registry: ImageRegistry, repository: string, tag: string, image: BuiltImage): Promise<string> {
  await pushImage(registry, repository, `host-${tag}`, image);
  const otherArch = process.arch === "s390x" ? "ppc64le" : "s390x";
  const other = buildImage([Buffer.from("not a tar: never pushed")], {}, otherArch);
  // The registry accepts a manifest only with its blobs; the layer pushed is gzip of something that is not a tar.
  for (const bytes of other.blobs.values()) await registry.pushBlob(repository, bytes);
  await registry.pushManifest(repository, other.manifestDigest, "application/vnd.oci.image.manifest.v1+json", other.manifest);
  const hostArch = process.arch === "x64" ? "amd64" : process.arch;
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: other.manifestDigest, size: other.manifest.byteLength, platform: { os: "linux", architecture: otherArch } },
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: image.manifestDigest, size: image.manifest.byteLength, platform: { os: "linux", architecture: hostArch } },
      ],
    }),
  );
  await registry.pushManifest(repository, tag, "application/vnd.oci.image.index.v1+json", index);
  return sha256(index);
}

/** A `docker save` archive (legacy layout: <id>/layer.tar, <config hex>.json, manifest.json) of an image under repoTags. */
export async function dockerSaveArchive(image: BuiltImage, repoTags: string[]): Promise<Buffer> {
  const configHex = image.configDigest.slice("sha256:".length);
  const entries: LayerEntry[] = [{ name: `${configHex}.json`, content: image.config }];
  const layerPaths: string[] = [];
  image.tars.forEach((tar, i) => {
    const id = sha256(`${i}${sha256(tar)}`).slice("sha256:".length);
    entries.push({ name: `${id}/`, type: "directory" }, { name: `${id}/VERSION`, content: "1.0" }, { name: `${id}/layer.tar`, content: tar });
    layerPaths.push(`${id}/layer.tar`);
  });
  entries.push({ name: "manifest.json", content: JSON.stringify([{ Config: `${configHex}.json`, RepoTags: repoTags, Layers: layerPaths }]) });
  return tarOf(entries);
}
