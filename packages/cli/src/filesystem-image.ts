/**
 * What `moby import` makes of a filesystem tarball, as `docker import` does:
 * an image with that tarball as its one layer (tar or tar.gz, kept as given),
 * a config built from docker's `--change` instructions, and an OCI image
 * layout holding both, written as a tar stream for the image store's import.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { pack } from "tar-stream";
import { CliError } from "./init-client.js";

/** The layer media types of the OCI image spec that a filesystem tarball can be. */
const LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
const LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

/** Node's process.arch in the GOARCH terms of the OCI image spec. */
const GOARCH: Readonly<Record<string, string>> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

/** An OCI platform: os, architecture and, for some architectures, a variant. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** "os/arch[/variant]" as a platform; empty text is this machine's. */
export function parsePlatform(text: string): Platform {
  if (text === "") return { os: process.platform, architecture: GOARCH[process.arch] ?? process.arch, ...(process.arch === "arm64" ? { variant: "v8" } : {}) };
  const parts = text.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !/^[a-z0-9_]+$/.test(part))) {
    throw new CliError(`--platform: "${text}" is not os/arch[/variant], for example linux/amd64`);
  }
  return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] !== undefined ? { variant: parts[2] } : {}) };
}

/** A filesystem tarball described as an image layer. */
export interface FilesystemLayer {
  /** Where the tarball is. */
  path: string;
  /** The media type: tar, or tar+gzip when the file is gzip-compressed. */
  mediaType: string;
  /** The digest of the file's bytes, "sha256:...". */
  digest: string;
  /** The digest of the uncompressed tar, "sha256:..." (the config's diff_id). */
  diffId: string;
  /** The file's size in bytes. */
  size: number;
}

/** The bytes at which a tar header holds its "ustar" magic (POSIX and GNU tar both write it). */
const USTAR_OFFSET = 257;

/**
 * Reads the tarball at path once: its digest and size, and, when it is
 * gzip-compressed, the digest of what it decompresses to. Anything other
 * than a tar or a gzip-compressed tar is refused, naming the file.
 */
export async function describeLayer(path: string, shownAs = path): Promise<FilesystemLayer> {
  const raw = createHash("sha256");
  let size = 0;
  let head = Buffer.alloc(0);
  let gunzip: ReturnType<typeof createGunzip> | undefined;
  const plain = createHash("sha256");
  let plainHead = Buffer.alloc(0);
  let plainDone: Promise<void> | undefined;
  const input = createReadStream(path);
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (size === 0 && chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b) {
        gunzip = createGunzip();
        plainDone = new Promise<void>((resolve, reject) => {
          gunzip!.on("data", (data: Buffer) => {
            plain.update(data);
            if (plainHead.length < 512) plainHead = Buffer.concat([plainHead, data]);
          });
          gunzip!.once("end", resolve);
          gunzip!.once("error", (error) => reject(new CliError(`${shownAs}: not a valid gzip file: ${error.message}`)));
        });
      }
      raw.update(chunk);
      size += chunk.length;
      if (head.length < 512) head = Buffer.concat([head, chunk]);
      if (gunzip !== undefined && !gunzip.write(chunk)) await new Promise((resolve) => gunzip!.once("drain", resolve));
    }
  } catch (error) {
    throw new CliError(`cannot read ${shownAs}: ${(error as Error).message}`);
  }
  gunzip?.end();
  await plainDone;
  const tarHead = gunzip === undefined ? head : plainHead;
  if (size === 0) throw new CliError(`${shownAs} is empty: give a tar archive of a filesystem (tar or tar.gz)`);
  if (tarHead.subarray(USTAR_OFFSET, USTAR_OFFSET + 5).toString("latin1") !== "ustar") {
    throw new CliError(`${shownAs} is not a tar archive${gunzip === undefined ? " (nor gzip-compressed)" : " inside its gzip"}: give a tar archive of a filesystem (tar or tar.gz)`);
  }
  const digest = `sha256:${raw.digest("hex")}`;
  return { path, mediaType: gunzip === undefined ? LAYER_TAR : LAYER_TAR_GZIP, digest, diffId: gunzip === undefined ? digest : `sha256:${plain.digest("hex")}`, size };
}

/** The runtime part of an image config (what --change sets), in the OCI image spec's names. */
export interface RunConfig {
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, Record<string, never>>;
  Volumes?: Record<string, Record<string, never>>;
}

/** The instructions docker import's --change accepts, as this does. */
const CHANGE_INSTRUCTIONS = ["CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "USER", "VOLUME", "WORKDIR"];

/** A JSON array of strings (the exec form of CMD, ENTRYPOINT and VOLUME), or undefined when text is not one. */
function jsonArray(text: string): string[] | undefined {
  if (!text.startsWith("[")) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value;
  } catch {
    // Not JSON: docker then takes the shell form, as this does.
  }
  return undefined;
}

/** key=value pairs (several at once, a value in double quotes when it holds spaces), or the legacy "key value" form of ENV and LABEL. */
function keyValues(instruction: string, text: string): [string, string][] {
  if (!/^[^\s=]+=/.test(text)) {
    const space = text.search(/\s/);
    if (space < 0) throw new CliError(`--change "${instruction} ${text}": ${instruction} needs key=value`);
    return [[text.slice(0, space), text.slice(space).trim()]];
  }
  const pairs: [string, string][] = [];
  const pair = /([^\s=]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)\s*/y;
  while (pair.lastIndex < text.length) {
    const match = pair.exec(text);
    if (match === null) throw new CliError(`--change "${instruction} ${text}": not key=value pairs`);
    pairs.push([match[1]!, match[2]!.startsWith('"') ? unquote(instruction, text, match[2]!) : match[2]!]);
  }
  return pairs;
}

/** The text of a double-quoted value, its escapes as JSON's. */
function unquote(instruction: string, text: string, quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    throw new CliError(`--change "${instruction} ${text}": ${quoted} is not a valid quoted value`);
  }
}

/** Applies one docker --change instruction ("CMD [\"sh\"]", "ENV A=1", "WORKDIR /app", ...) to config. */
export function applyChange(config: RunConfig, change: string): void {
  const match = /^\s*(\S+)\s+(.*\S)\s*$/s.exec(change);
  const instruction = match?.[1]?.toUpperCase() ?? change.trim().toUpperCase();
  if (!CHANGE_INSTRUCTIONS.includes(instruction)) {
    throw new CliError(`--change "${change}": ${instruction === "" ? "empty" : `${instruction} is not an instruction import can apply`} (${CHANGE_INSTRUCTIONS.join(", ")})`);
  }
  if (match === null) throw new CliError(`--change "${change}": ${instruction} needs an argument`);
  const text = match[2]!;
  switch (instruction) {
    case "CMD":
      config.Cmd = jsonArray(text) ?? ["/bin/sh", "-c", text];
      return;
    case "ENTRYPOINT":
      config.Entrypoint = jsonArray(text) ?? ["/bin/sh", "-c", text];
      return;
    case "ENV": {
      const env = config.Env ?? [];
      for (const [key, value] of keyValues(instruction, text)) {
        const at = env.findIndex((entry) => entry.split("=", 1)[0] === key);
        if (at >= 0) env[at] = `${key}=${value}`;
        else env.push(`${key}=${value}`);
      }
      config.Env = env;
      return;
    }
    case "LABEL":
      config.Labels = { ...config.Labels, ...Object.fromEntries(keyValues(instruction, text)) };
      return;
    case "EXPOSE":
      for (const port of text.split(/\s+/)) {
        if (!/^\d{1,5}(\/(tcp|udp|sctp))?$/.test(port) || Number(port.split("/")[0]) > 65535) throw new CliError(`--change "${change}": "${port}" is not a port such as 80 or 53/udp`);
        config.ExposedPorts = { ...config.ExposedPorts, [port.includes("/") ? port : `${port}/tcp`]: {} };
      }
      return;
    case "VOLUME":
      for (const volume of jsonArray(text) ?? text.split(/\s+/)) {
        if (!volume.startsWith("/")) throw new CliError(`--change "${change}": "${volume}" is not an absolute path`);
        config.Volumes = { ...config.Volumes, [volume]: {} };
      }
      return;
    case "USER":
      config.User = text;
      return;
    default:
      if (!text.startsWith("/")) throw new CliError(`--change "${change}": WORKDIR must be an absolute path`);
      config.WorkingDir = text;
  }
}

/** What the image's config says besides its layer. */
export interface ImportDescription {
  /** The runtime config, from the --change instructions. */
  config: RunConfig;
  /** The platform the image is for. */
  platform: Platform;
  /** The history entry's comment (docker import's --message); empty: none. */
  message: string;
  /** When the image was made. */
  created: Date;
}

/** The image config (OCI image spec) of a one-layer image, as canonical JSON bytes. */
export function imageConfig(layer: FilesystemLayer, description: ImportDescription): Buffer {
  const created = description.created.toISOString();
  return Buffer.from(
    JSON.stringify({
      created,
      architecture: description.platform.architecture,
      os: description.platform.os,
      ...(description.platform.variant !== undefined ? { variant: description.platform.variant } : {}),
      config: description.config,
      rootfs: { type: "layers", diff_ids: [layer.diffId] },
      history: [{ created, created_by: "moby import", ...(description.message !== "" ? { comment: description.message } : {}) }],
    }),
  );
}

/** "sha256:<hex>" of bytes. */
function sha256(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** A blob's file name in an OCI image layout. */
function blobPath(digest: string): string {
  return `blobs/${digest.replace(":", "/")}`;
}

/**
 * The OCI image layout of the one-layer image, as an uncompressed tar
 * stream: oci-layout, index.json, the config and manifest blobs, and the
 * layer blob read from its file as it is written.
 */
export function layoutArchive(layer: FilesystemLayer, config: Buffer): AsyncIterable<Buffer> {
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256(config), size: config.length },
      layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
    }),
  );
  const index = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha256(manifest), size: manifest.length }] }),
  );
  const archive = pack();
  const files: [string, Buffer][] = [
    ["oci-layout", Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" }))],
    ["index.json", index],
    [blobPath(sha256(config)), config],
    [blobPath(sha256(manifest)), manifest],
  ];
  for (const [name, content] of files) archive.entry({ name, mode: 0o644 }, content);
  const entry = archive.entry({ name: blobPath(layer.digest), size: layer.size, mode: 0o644 }, (error) => {
    if (error) archive.destroy(error);
    else archive.finalize();
  });
  const source = createReadStream(layer.path);
  source.once("error", (error) => archive.destroy(error));
  source.pipe(entry);
  return archive as AsyncIterable<Buffer>; // tar-stream yields Buffers; its types say unknown
}
