/**
 * Reading the JSON documents of an image: index, manifest and config, each
 * checked for the fields the store relies on (a document that lacks them is
 * DATA_LOSS naming what is wrong), and the Image record built from them.
 */
import { create } from "@bufbuild/protobuf";
import { ImageConfigSchema, ImageSchema, LayerSchema } from "@moby-core/image-api/v1";
import type { Image } from "@moby-core/image-api/v1";
import { Code } from "@connectrpc/connect";
import { ComponentError } from "@moby-core/sdk";
import { chainIds, isDigest } from "./digest.js";
import { isSupportedLayer } from "./media-types.js";
import type { IndexEntry } from "./platform.js";

/** A content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** The parts of a manifest the store uses. */
export interface Manifest {
  config: Descriptor;
  layers: Descriptor[];
}

/** The parts of an image config the store uses. */
export interface ConfigDocument {
  diffIds: string[];
  config: Image["config"];
}

function bad(what: string, message: string): ComponentError {
  return new ComponentError(Code.DataLoss, `${what}: ${message}`);
}

function parseJson(bytes: Uint8Array, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(bytes).toString("utf8")) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw bad(what, "is not a JSON object");
}

function descriptor(value: unknown, what: string): Descriptor {
  const d = value as Partial<Descriptor> | null;
  if (typeof d !== "object" || d === null || typeof d.digest !== "string" || !isDigest(d.digest) || typeof d.size !== "number" || d.size < 0) {
    throw bad(what, "is not a descriptor with a sha256 digest and a size");
  }
  return { mediaType: typeof d.mediaType === "string" ? d.mediaType : "", digest: d.digest, size: d.size };
}

/** The manifests of an index. */
export function parseIndex(bytes: Uint8Array, what: string): IndexEntry[] {
  const doc = parseJson(bytes, what);
  if (!Array.isArray(doc.manifests)) throw bad(what, "has no manifests list");
  return doc.manifests.map((m: unknown, i) => ({ ...descriptor(m, `${what} manifests[${i}]`), platform: (m as { platform?: IndexEntry["platform"] }).platform }));
}

/** The config and layers of a manifest; FAILED_PRECONDITION for a layer kind the store cannot unpack. */
export function parseManifest(bytes: Uint8Array, what: string): Manifest {
  const doc = parseJson(bytes, what);
  const config = descriptor(doc.config, `${what} config`);
  if (!Array.isArray(doc.layers)) throw bad(what, "has no layers list");
  const layers = doc.layers.map((l: unknown, i) => descriptor(l, `${what} layers[${i}]`));
  for (const layer of layers) {
    if (!isSupportedLayer(layer.mediaType)) throw new ComponentError(Code.FailedPrecondition, `${what}: layer ${layer.digest} has media type "${layer.mediaType}"; only tar, tar+gzip and tar+zstd layers are supported`);
  }
  return { config, layers };
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);

/** The diff ids and run configuration of an image config. */
export function parseConfig(bytes: Uint8Array, what: string): ConfigDocument & { platform: string } {
  const doc = parseJson(bytes, what);
  const rootfs = doc.rootfs as { diff_ids?: unknown } | undefined;
  const diffIds = strings(rootfs?.diff_ids);
  if (diffIds.some((d) => !isDigest(d))) throw bad(what, "rootfs.diff_ids holds something that is not a sha256 digest");
  const c = (doc.config ?? {}) as Record<string, unknown>;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries((c.Labels ?? {}) as Record<string, unknown>)) if (typeof v === "string") labels[k] = v;
  const os = typeof doc.os === "string" ? doc.os : "";
  const architecture = typeof doc.architecture === "string" ? doc.architecture : "";
  const variant = typeof doc.variant === "string" ? doc.variant : "";
  return {
    diffIds,
    platform: `${os}/${architecture}${variant ? `/${variant}` : ""}`,
    config: create(ImageConfigSchema, {
      entrypoint: strings(c.Entrypoint),
      cmd: strings(c.Cmd),
      env: strings(c.Env),
      workingDir: typeof c.WorkingDir === "string" ? c.WorkingDir : "",
      user: typeof c.User === "string" ? c.User : "",
      labels,
      stopSignal: typeof c.StopSignal === "string" ? c.StopSignal : "",
      os,
      architecture,
    }),
  };
}

/** The Image record of a name from its documents. */
export function buildImage(name: string, target: Descriptor, manifestDigest: string, manifest: Manifest, manifestSize: number, config: ReturnType<typeof parseConfig>): Image {
  if (config.diffIds.length !== manifest.layers.length) {
    throw bad(`config ${manifest.config.digest}`, `has ${config.diffIds.length} diff ids for ${manifest.layers.length} layers`);
  }
  const chains = chainIds(config.diffIds);
  return create(ImageSchema, {
    name,
    digest: target.digest,
    mediaType: target.mediaType,
    manifestDigest,
    platform: config.platform,
    configDigest: manifest.config.digest,
    config: config.config,
    size: BigInt(manifestSize + manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0)),
    layers: manifest.layers.map((l, i) => create(LayerSchema, { digest: l.digest, size: BigInt(l.size), mediaType: l.mediaType, diffId: config.diffIds[i]!, chainId: chains[i]! })),
  });
}
