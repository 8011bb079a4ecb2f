/**
 * The media types of the OCI image spec and of Docker's schema 2 that the
 * store reads, and what each one is.
 */

/** An OCI image index. */
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
/** An OCI image manifest. */
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
/** An OCI image config. */
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
/** An OCI layer, plain tar. */
export const OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
/** An OCI layer, gzip compressed. */
export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
/** An OCI layer, zstd compressed (OCI image spec 1.1). */
export const OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
/** A Docker manifest list. */
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
/** A Docker schema 2 manifest. */
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
/** A Docker container config. */
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
/** A Docker layer, gzip compressed. */
export const DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/** A Docker foreign (non-distributable) layer. */
export const DOCKER_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
/** An OCI non-distributable layer, gzip compressed. */
export const OCI_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";

/** What a registry is asked for when resolving a manifest. */
export const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST].join(", ");

/** Whether a media type is an index (OCI index or Docker manifest list). */
export function isIndex(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST;
}

/** Whether a media type is an image manifest. */
export function isManifest(mediaType: string): boolean {
  return mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST;
}

/** Whether the store can unpack a layer of this media type (plain tar, gzip or zstd). */
export function isSupportedLayer(mediaType: string): boolean {
  return [OCI_LAYER_TAR, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, DOCKER_LAYER_GZIP, DOCKER_LAYER_FOREIGN, OCI_LAYER_NONDIST_GZIP, "application/vnd.oci.image.layer.nondistributable.v1.tar"].includes(mediaType);
}
