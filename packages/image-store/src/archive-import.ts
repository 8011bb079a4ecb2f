/**
 * Imports the images of an archive streamed by a client: an OCI image
 * layout (index.json, blobs/sha256/...) or a `docker save` archive
 * (manifest.json with Config, RepoTags and Layers paths), as a tar, plain or
 * gzip. Blobs go to the content store as they stream (a blob under
 * blobs/sha256/<hex> is verified against its name; any other file is stored
 * under the digest of its bytes), then each image's layers are unpacked and
 * its names recorded. What the archive held that no image uses is freed.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { create } from "@bufbuild/protobuf";
import { ImageSchema } from "@moby-core/image-api/v1";
import type { Image, ImportHeader, ImportImagesRequest } from "@moby-core/image-api/v1";
import { InvalidArgumentError } from "@moby-core/sdk";
import { extract } from "tar-stream";
import { digestHex, digestOf, isDigest } from "./digest.js";
import { buildImage, parseConfig, parseIndex, parseManifest } from "./image-content.js";
import { parseReference, recordName } from "./image-reference.js";
import type { ImageStore } from "./image-store.js";
import { DOCKER_LAYER_GZIP, OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST, isIndex } from "./media-types.js";
import { parsePlatform, selectPlatform } from "./platform.js";
import { entryParts } from "@moby-core/oci-image";

/** The most bytes of a small document of an archive (index.json, manifest.json). */
const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;
const DOCUMENTS = new Set(["index.json", "manifest.json", "oci-layout", "repositories"]);

/** The bytes of the archive from the request stream; the header goes to onHeader. */
async function* archiveBytes(requests: AsyncIterable<ImportImagesRequest>, onHeader: (header: ImportHeader) => void): AsyncGenerator<Buffer> {
  let first = true;
  for await (const request of requests) {
    if (request.kind.case === "header") {
      if (!first) throw new InvalidArgumentError("header", "comes only in the first message");
      onHeader(request.kind.value);
    } else if (request.kind.case === "chunk") {
      yield Buffer.from(request.kind.value);
    }
    first = false;
  }
}

/** Imports an archive; returns the images recorded, in archive order. */
export async function importArchive(store: ImageStore, requests: AsyncIterable<ImportImagesRequest>, signal: AbortSignal): Promise<Image[]> {
  let header: ImportHeader | undefined;
  const source = Readable.from(archiveBytes(requests, (h) => (header = h)));
  const lease = store.leases.acquire();
  const files = new Map<string, string>();
  const documents = new Map<string, Buffer>();
  try {
    const head = await peek(source);
    const tar = extract();
    const piping = head[0] === 0x1f && head[1] === 0x8b ? pipeline(source, createGunzip(), tar, { signal }) : pipeline(source, tar, { signal });
    piping.catch(() => undefined);
    try {
      for await (const entry of tar) {
        const parts = entryParts(entry.header.name, "archive");
        const path = parts.join("/");
        if (entry.header.type !== "file" && entry.header.type !== "contiguous-file") {
          entry.resume();
          continue;
        }
        if (DOCUMENTS.has(path)) {
          const chunks: Buffer[] = [];
          let size = 0;
          for await (const chunk of entry) {
            size += (chunk as Buffer).byteLength;
            if (size > MAX_DOCUMENT_BYTES) throw new InvalidArgumentError("chunk", `${path} in the archive is larger than ${MAX_DOCUMENT_BYTES} bytes`);
            chunks.push(chunk as Buffer);
          }
          documents.set(path, Buffer.concat(chunks));
        } else if (parts.length === 3 && parts[0] === "blobs" && isDigest(`${parts[1]}:${parts[2]}`)) {
          const digest = `${parts[1]}:${parts[2]}`;
          lease.add(digest);
          if (store.content.has(digest)) entry.resume();
          else await store.content.ingest(digest, entry.header.size, entry as AsyncIterable<Uint8Array>, undefined, signal);
          files.set(path, digest);
        } else if (path.endsWith(".tar") || path.endsWith(".json")) {
          const { digest } = await store.content.ingestAny(entry as AsyncIterable<Uint8Array>);
          lease.add(digest);
          files.set(path, digest);
        } else {
          entry.resume();
        }
      }
      await piping;
    } catch (error) {
      if (error instanceof InvalidArgumentError || signal.aborted) throw error;
      throw new InvalidArgumentError("chunk", `the archive is not a readable tar: ${(error as Error).message}`);
    }
    const platform = parsePlatform(header?.platform ?? "", "header.platform");
    const images: Image[] = [];
    if (documents.has("index.json")) {
      for (const entry of parseIndex(documents.get("index.json")!, "index.json")) {
        const annotations = ((JSON.parse(documents.get("index.json")!.toString("utf8")) as { manifests: { digest: string; annotations?: Record<string, string> }[] }).manifests.find((m) => m.digest === entry.digest)?.annotations) ?? {};
        let manifestDigest = entry.digest;
        if (isIndex(entry.mediaType)) manifestDigest = selectPlatform(parseIndex(store.content.read(entry.digest), `index ${entry.digest}`), platform).digest;
        lease.add(entry.digest, manifestDigest);
        const names = [annotations["io.containerd.image.name"] ?? annotations["org.opencontainers.image.ref.name"] ?? ""].filter((n) => n.includes("/") || n.includes(":"));
        images.push(...(await record(store, lease, { digest: entry.digest, mediaType: entry.mediaType, size: entry.size }, manifestDigest, names, header?.name ?? "", signal)));
      }
    } else if (documents.has("manifest.json")) {
      let entries: { Config?: string; RepoTags?: string[] | null; Layers?: string[] }[];
      try {
        entries = JSON.parse(documents.get("manifest.json")!.toString("utf8")) as typeof entries;
      } catch {
        throw new InvalidArgumentError("chunk", "manifest.json of the archive is not JSON");
      }
      for (const [i, entry] of entries.entries()) {
        const config = files.get(entry.Config ?? "");
        if (!config) throw new InvalidArgumentError("chunk", `manifest.json[${i}].Config "${entry.Config}" is not a file of the archive`);
        const layers = (entry.Layers ?? []).map((path) => {
          const digest = files.get(path);
          if (!digest) throw new InvalidArgumentError("chunk", `manifest.json[${i}] names layer "${path}", which is not in the archive`);
          const head = store.content.read(digest).subarray(0, 2);
          return { mediaType: head[0] === 0x1f && head[1] === 0x8b ? DOCKER_LAYER_GZIP : OCI_LAYER_TAR, digest, size: store.content.size(digest) };
        });
        const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: config, size: store.content.size(config) }, layers }));
        const digest = digestOf(manifest);
        lease.add(digest);
        await store.content.writeBytes(digest, manifest);
        images.push(...(await record(store, lease, { digest, mediaType: OCI_MANIFEST, size: manifest.byteLength }, digest, entry.RepoTags ?? [], header?.name ?? "", signal)));
      }
    } else {
      throw new InvalidArgumentError("chunk", "the archive has neither index.json (an OCI image layout) nor manifest.json (docker save)");
    }
    return images;
  } finally {
    lease.release();
    store.collect();
  }
}

/** Unpacks one image of an archive and records it under its names. */
async function record(store: ImageStore, lease: ReturnType<ImageStore["leases"]["acquire"]>, target: { digest: string; mediaType: string; size: number }, manifestDigest: string, names: string[], fallback: string, signal: AbortSignal): Promise<Image[]> {
  if (!store.content.has(manifestDigest)) throw new InvalidArgumentError("chunk", `the archive lacks manifest ${manifestDigest}`);
  const manifestBytes = store.content.read(manifestDigest);
  const manifest = parseManifest(manifestBytes, `manifest ${manifestDigest}`);
  for (const blob of [manifest.config, ...manifest.layers]) {
    if (!store.content.has(blob.digest)) throw new InvalidArgumentError("chunk", `the archive lacks blob ${blob.digest} of manifest ${manifestDigest}`);
  }
  const config = parseConfig(store.content.read(manifest.config.digest), `config ${manifest.config.digest}`);
  const image = buildImage("", target, manifestDigest, manifest, manifestBytes.byteLength, config);
  for (const layer of image.layers) {
    lease.add(layer.digest, layer.chainId);
    await store.snapshots.unpack(layer.chainId, layer.digest, layer.diffId, signal);
  }
  const chosen = names.length > 0 ? names : [fallback || `import-${digestHex(manifest.config.digest).slice(0, 12)}:latest`];
  return chosen.map((name, i) => store.record(create(ImageSchema, { ...image, name: recordName(parseReference(name, names.length > 0 ? `archive name ${i}` : "header.name")) })));
}

/** The first bytes of a stream, put back. */
async function peek(source: Readable): Promise<Buffer> {
  for (;;) {
    const chunk = source.read() as Buffer | null;
    if (chunk !== null) {
      source.unshift(chunk);
      return chunk;
    }
    if (source.readableEnded) return Buffer.alloc(0);
    await new Promise((resolve) => {
      source.once("readable", resolve);
      source.once("end", resolve);
    });
  }
}
