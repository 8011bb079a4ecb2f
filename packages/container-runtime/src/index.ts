// The public surface of @moby-core/container-runtime beyond its binary: the
// spec this runtime runs and the helpers that build one.
export { OCI_SPEC_TYPE_URL, MAX_SPEC_JSON_BYTES, checkOciSpec, specJsonFromAny } from "./oci-spec.js";
export type { CheckedSpec } from "./oci-spec.js";
export * from "./oci-spec-builder.js";
export { makeBusyboxRootfs, DEFAULT_BUSYBOX, DEFAULT_APPLETS } from "./busybox-rootfs.js";
