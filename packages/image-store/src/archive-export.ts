/**
 * Exports images as one tar that is both an OCI image layout (oci-layout,
 * index.json, blobs/sha256/...) and a `docker save` archive (manifest.json
 * naming the same blobs), streamed in chunks of at most 1 MiB.
 */
import type { Image } from "@moby-core/image-api/v1";
import { pack } from "tar-stream";
import { pipeline } from "node:stream/promises";
import { digestHex } from "./digest.js";
import { familiarName } from "./image-reference.js";
import type { ImageStore } from "./image-store.js";
import { OCI_INDEX, OCI_MANIFEST } from "./media-types.js";


/** The most bytes of one exported chunk. */
export const EXPORT_CHUNK_BYTES = 1024 * 1024;

/** The tar of images, chunk by chunk. */
export async function* exportImages(store: ImageStore, images: Image[]): AsyncGenerator<Uint8Array> {
  const tar = pack();
  const lease = store.leases.acquire();
  const blobs = new Set<string>();
  for (const image of images) {
    for (const digest of [image.manifestDigest, image.configDigest, ...image.layers.map((l) => l.digest)]) {
      lease.add(digest);
      blobs.add(digest);
    }
  }
  const writing = (async () => {
    const add = (name: string, body: Buffer) => new Promise<void>((resolve, reject) => tar.entry({ name, size: body.byteLength, mode: 0o644, mtime: new Date(0) }, body, (error) => (error ? reject(error) : resolve())));
    await add("oci-layout", Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
    for (const digest of blobs) {
      const size = store.content.size(digest);
      const sink = tar.entry({ name: `blobs/sha256/${digestHex(digest)}`, size, mode: 0o644, mtime: new Date(0) });
      await pipeline(store.content.stream(digest), sink);
    }
    const manifests = images.map((image) => {
      const bytes = store.content.read(image.manifestDigest);
      const mediaType = (JSON.parse(bytes.toString("utf8")) as { mediaType?: string }).mediaType ?? OCI_MANIFEST;
      const tag = image.name.includes("@") ? "" : image.name.slice(image.name.lastIndexOf(":") + 1);
      return { mediaType, digest: image.manifestDigest, size: bytes.byteLength, annotations: { "io.containerd.image.name": image.name, ...(tag ? { "org.opencontainers.image.ref.name": tag } : {}) } };
    });
    await add("index.json", Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests })));
    const docker = images.map((image) => ({
      Config: `blobs/sha256/${digestHex(image.configDigest)}`,
      RepoTags: image.name.includes("@") ? [] : [familiarName(image.name)],
      Layers: image.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
    }));
    await add("manifest.json", Buffer.from(JSON.stringify(docker)));
    tar.finalize();
  })();
  writing.catch((error: Error) => tar.destroy(error));
  try {
    for await (const chunk of tar) {
      const bytes = chunk as Buffer;
      for (let offset = 0; offset < bytes.byteLength; offset += EXPORT_CHUNK_BYTES) yield bytes.subarray(offset, offset + EXPORT_CHUNK_BYTES);
    }
    await writing;
  } finally {
    lease.release();
  }
}
