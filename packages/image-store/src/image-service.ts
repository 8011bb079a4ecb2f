/**
 * The handlers of moby.image.v1.ImageService over an ImageStore: each checks
 * its request (INVALID_ARGUMENT naming the field) before anything changes.
 */
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { ImageService, PullImageResponseSchema } from "@moby-core/image-api/v1";
import type { Image } from "@moby-core/image-api/v1";
import { InvalidArgumentError } from "@moby-core/sdk";
import { PageTokens, matchesFilter, parseFilter } from "@moby-core/sdk/list";
import type { FilterFields } from "@moby-core/sdk/list";
import type { ImageStore } from "./image-store.js";
import { exportImages } from "./archive-export.js";
import { importArchive } from "./archive-import.js";

/** The fields an image filter may name. */
const FIELDS: FilterFields = { exact: ["name", "digest", "config_digest", "platform"], prefixes: ["labels"] };
/** The default and the largest page size of ListImages. */
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
/** The most names one ExportImage takes. */
const MAX_EXPORT_NAMES = 64;

function readField(image: Image, path: string[]): string | undefined {
  const [head, ...rest] = path;
  switch (head) {
    case "name":
      return image.name || undefined;
    case "digest":
      return image.digest || undefined;
    case "config_digest":
      return image.configDigest || undefined;
    case "platform":
      return image.platform || undefined;
    case "labels":
      return image.config?.labels[rest.join(".")];
    default:
      return undefined;
  }
}

/** The ImageService implementation. */
export function imageService(store: ImageStore, tokens: PageTokens): Partial<ServiceImpl<typeof ImageService>> {
  return {
    async *pullImage(request, context) {
      for await (const event of store.pull(request.reference, request.platform, context.signal)) {
        yield "image" in event ? create(PullImageResponseSchema, { kind: { case: "image", value: event.image } }) : create(PullImageResponseSchema, { kind: { case: "progress", value: event.progress } });
      }
    },
    listImages(request) {
      const filter = parseFilter(request.filter, FIELDS);
      const size = request.pageSize === 0 ? DEFAULT_PAGE : Math.min(request.pageSize, MAX_PAGE);
      let after = request.pageToken === "" ? "" : tokens.decode(request.pageToken, request.filter);
      const images: Image[] = [];
      for (;;) {
        const batch = store.db.images(after, 256);
        if (batch.length === 0) return { images, nextPageToken: "" };
        for (const image of batch) {
          after = image.name;
          if (!matchesFilter(filter, (path) => readField(image, path))) continue;
          if (images.length === size) return { images, nextPageToken: tokens.encode(images.at(-1)!.name, request.filter) };
          images.push(image);
        }
      }
    },
    getImage(request) {
      return { image: store.resolve(request.name, "name")[0] };
    },
    tagImage(request) {
      if (request.target === "") throw new InvalidArgumentError("target", "is required");
      return { image: store.tag(request.source, request.target) };
    },
    deleteImage(request) {
      const { untagged, collected } = store.delete(request.name, request.force);
      return { untagged, deletedBlobs: collected.blobs, freedBytes: BigInt(collected.bytes) };
    },
    async prepareRootfs(request) {
      if (request.containerId === "") throw new InvalidArgumentError("container_id", "is required");
      const prepared = await store.prepareRootfs(request.containerId, request.image);
      return { path: prepared.path, image: prepared.image, method: prepared.method };
    },
    async releaseRootfs(request) {
      if (request.containerId === "") throw new InvalidArgumentError("container_id", "is required");
      return { released: await store.releaseRootfs(request.containerId) };
    },
    async importImages(requests, context) {
      return { images: await importArchive(store, requests, context.signal) };
    },
    async *exportImage(request) {
      if (request.names.length === 0 || request.names.length > MAX_EXPORT_NAMES) throw new InvalidArgumentError("names", `must name 1 to ${MAX_EXPORT_NAMES} images`);
      const images = request.names.map((name, i) => store.resolve(name, `names[${i}]`)[0]!);
      for await (const chunk of exportImages(store, images)) yield { chunk };
    },
  };
}
