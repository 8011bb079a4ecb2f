/**
 * OCI image layouts (image-spec's image-layout.md): `oci-layout`,
 * `index.json` and content under `blobs/sha256/`. An image is written
 * reproducibly (its config has a fixed creation time, JSON keys in a fixed
 * order), and read back by its reference name, its layers' digests checked
 * as they are unpacked.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { unpackLayer } from "./layer-unpacker.js";
import { writeLayer } from "./reproducible-layer.js";
import type { LayerEntry, WrittenLayer } from "./reproducible-layer.js";

/** The media types a layout written here uses. */
export const MEDIA_TYPES = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
} as const;

/** The annotation that names an image in a layout's index.json. */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

/** How a container from the image runs: the OCI image config's `config` object. */
export interface ImageRunConfig {
  /** The program and its fixed arguments. */
  entrypoint: string[];
  /** Default arguments, after the entrypoint. */
  cmd: string[];
  /** Environment as KEY=value. */
  env: string[];
  /** The directory the process starts in, absolute. */
  workingDir: string;
  /** Free-form labels. */
  labels: Record<string, string>;
}

/** What writeImageLayout wrote. */
export interface WrittenImage {
  /** The digest of the image manifest: the image's identity. */
  manifestDigest: string;
  /** The layers, bottom first. */
  layers: WrittenLayer[];
}

/** One image of a layout, as readImageLayout found it. */
export interface LayoutImage {
  /** The digest of its manifest. */
  manifestDigest: string;
  /** Its reference name in index.json, or "" when it has none. */
  refName: string;
  /** How it runs. */
  config: ImageRunConfig;
  /** Its layers, bottom first: the blob file, its digest and the diff id the config lists. */
  layers: { file: string; digest: string; diffId: string }[];
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

function blobPath(layout: string, digest: string): string {
  const [algorithm, hex] = digest.split(":");
  if (algorithm !== "sha256" || hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${layout}: "${digest}" is not a sha256 digest`);
  return join(layout, "blobs", "sha256", hex);
}

/** Writes JSON bytes as a blob; returns its descriptor fields. */
function writeJsonBlob(layout: string, value: unknown): { digest: string; size: number } {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = sha256(bytes);
  writeFileSync(blobPath(layout, digest), bytes);
  return { digest, size: bytes.byteLength };
}

/**
 * Writes an image layout at dir (replacing what is there) holding one image
 * named refName: one gzip layer per entry list, bottom first, and config.
 * The same inputs give the same manifest digest.
 */
export async function writeImageLayout(dir: string, refName: string, layers: readonly (readonly LayerEntry[])[], config: ImageRunConfig): Promise<WrittenImage> {
  const tmp = join(dirname(dir), `.tmp-${randomBytes(6).toString("hex")}`);
  mkdirSync(join(tmp, "blobs", "sha256"), { recursive: true });
  try {
    const written: WrittenLayer[] = [];
    for (const entries of layers) {
      const staging = join(tmp, `layer-${written.length}.tar.gz`);
      const layer = await writeLayer(entries, staging);
      renameSync(staging, blobPath(tmp, layer.digest));
      written.push(layer);
    }
    const imageConfig = {
      created: "1970-01-01T00:00:00Z",
      architecture: process.arch === "x64" ? "amd64" : process.arch,
      os: "linux",
      config: { Entrypoint: config.entrypoint, Cmd: config.cmd, Env: config.env, WorkingDir: config.workingDir, Labels: config.labels },
      rootfs: { type: "layers", diff_ids: written.map((layer) => layer.diffId) },
      history: written.map(() => ({ created: "1970-01-01T00:00:00Z", created_by: "moby-core images" })),
    };
    const configBlob = writeJsonBlob(tmp, imageConfig);
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config: { mediaType: MEDIA_TYPES.config, digest: configBlob.digest, size: configBlob.size },
      layers: written.map((layer) => ({ mediaType: MEDIA_TYPES.layerGzip, digest: layer.digest, size: layer.size })),
    };
    const manifestBlob = writeJsonBlob(tmp, manifest);
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.index,
      manifests: [{ mediaType: MEDIA_TYPES.manifest, digest: manifestBlob.digest, size: manifestBlob.size, annotations: { [REF_NAME_ANNOTATION]: refName } }],
    };
    writeFileSync(join(tmp, "index.json"), JSON.stringify(index));
    writeFileSync(join(tmp, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return { manifestDigest: manifestBlob.digest, layers: written };
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
}

function readJson(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new Error(`${what} ${file} is not a JSON object`);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** Reads the blob of digest, checking its bytes against the digest. */
function readVerifiedBlob(layout: string, digest: string, what: string): Record<string, unknown> {
  const file = blobPath(layout, digest);
  const value = readJson(file, what);
  const actual = sha256(readFileSync(file));
  if (actual !== digest) throw new Error(`${what} ${file} has digest ${actual}, not ${digest}: the layout is corrupt`);
  return value;
}

/**
 * Reads the image named refName (or the only image, when refName is "") of
 * the image layout at dir. Throws an Error naming the file and what is wrong.
 */
export function readImageLayout(dir: string, refName = ""): LayoutImage {
  if (!existsSync(join(dir, "oci-layout"))) throw new Error(`${dir} is not an OCI image layout (no oci-layout file); build it first (npm run images)`);
  const index = readJson(join(dir, "index.json"), "the index");
  const descriptors = (Array.isArray(index.manifests) ? index.manifests : []) as { digest?: string; annotations?: Record<string, string> }[];
  const named = descriptors.map((d) => ({ digest: String(d.digest ?? ""), name: d.annotations?.[REF_NAME_ANNOTATION] ?? "" }));
  const chosen = refName === "" ? (named.length === 1 ? named[0] : undefined) : named.find((d) => d.name === refName);
  if (chosen === undefined) {
    const names = named.map((d) => d.name || d.digest).join(", ") || "none";
    throw new Error(refName === "" ? `${dir} holds ${named.length} images (${names}): name one` : `${dir} has no image named "${refName}" (it has: ${names})`);
  }
  const manifest = readVerifiedBlob(dir, chosen.digest, "the image manifest");
  const configDigest = String((manifest.config as { digest?: string } | undefined)?.digest ?? "");
  const config = readVerifiedBlob(dir, configDigest, "the image config");
  const run = (config.config ?? {}) as Record<string, unknown>;
  const diffIds = stringList((config.rootfs as { diff_ids?: unknown } | undefined)?.diff_ids);
  const layers = (Array.isArray(manifest.layers) ? manifest.layers : []) as { digest?: string }[];
  if (layers.length !== diffIds.length) throw new Error(`${dir}: image ${chosen.digest} lists ${layers.length} layers but ${diffIds.length} diff ids`);
  return {
    manifestDigest: chosen.digest,
    refName: chosen.name,
    config: {
      entrypoint: stringList(run.Entrypoint),
      cmd: stringList(run.Cmd),
      env: stringList(run.Env),
      workingDir: typeof run.WorkingDir === "string" && run.WorkingDir !== "" ? run.WorkingDir : "/",
      labels: (run.Labels ?? {}) as Record<string, string>,
    },
    layers: layers.map((layer, i) => {
      const digest = String(layer.digest ?? "");
      return { file: blobPath(dir, digest), digest, diffId: diffIds[i]! };
    }),
  };
}

/**
 * Unpacks the layers of image, bottom first, into target (an empty
 * directory) with the same unpacker the image-store uses; a layer whose
 * uncompressed digest is not its diff id is an Error.
 */
export async function unpackImage(image: LayoutImage, target: string): Promise<void> {
  for (const layer of image.layers) {
    const result = await unpackLayer(createReadStream(layer.file), target, layer.digest);
    if (result.diffId !== layer.diffId) throw new Error(`layer ${layer.digest}: its uncompressed digest is ${result.diffId}, the image config says ${layer.diffId}`);
  }
}
