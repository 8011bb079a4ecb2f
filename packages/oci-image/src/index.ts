/**
 * @moby-core/oci-image: OCI images on disk, shared by the image-store and
 * moby-init. Layers are unpacked safely (plain, gzip or zstd; whiteouts in
 * overlayfs form; no entry escapes), in place or on worker threads; layers
 * are written reproducibly, and image layouts are written and read.
 */
export { OPAQUE_LIST, UnsafeEntryError, entryParts, unpackLayer } from "./layer-unpacker.js";
export type { UnpackResult } from "./layer-unpacker.js";
export { LayerUnpackPool } from "./layer-unpack-pool.js";
export { createZstdDecompress, isZstd } from "./zstd-stream.js";
export { layerPath, normalizeEntries, writeLayer } from "./reproducible-layer.js";
export type { LayerEntry, WrittenLayer } from "./reproducible-layer.js";
export { MEDIA_TYPES, REF_NAME_ANNOTATION, readImageLayout, unpackImage, writeImageLayout } from "./image-layout.js";
export type { ImageRunConfig, LayoutImage, WrittenImage } from "./image-layout.js";
