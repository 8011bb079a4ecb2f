/**
 * `moby images` output: a table as docker's (REPOSITORY, TAG, IMAGE ID,
 * CREATED, SIZE) or JSON lines of the Image records.
 */
import { toJson } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { ImageSchema } from "@moby-core/image-api/v1";
import type { Image } from "@moby-core/image-api/v1";
import { formatUptime } from "./uptime.js";

/** The docker-style short form of a name: docker.io/library/ dropped. */
export function familiar(name: string): string {
  return name.replace(/^docker\.io\/library\//, "").replace(/^docker\.io\//, "");
}

/** Splits a name into repository and tag ("<none>" for a digest-only name). */
export function repositoryAndTag(name: string): [string, string] {
  const short = familiar(name);
  const at = short.indexOf("@");
  if (at >= 0) return [short.slice(0, at), "<none>"];
  const colon = short.lastIndexOf(":");
  return colon > short.lastIndexOf("/") ? [short.slice(0, colon), short.slice(colon + 1)] : [short, "latest"];
}

/** A size in docker's units (kB, MB, GB: powers of 1000). */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toPrecision(3)}${units[unit]}`;
}

/** The images as a table, one line each, with a header. */
export function imagesTable(images: Image[], nowMs = Date.now()): string {
  const rows = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]];
  for (const image of images) {
    const [repository, tag] = repositoryAndTag(image.name);
    const created = image.createdAt ? `${formatUptime(Math.max(0, nowMs - timestampMs(image.createdAt)) / 1000)} ago` : "";
    rows.push([repository, tag, image.configDigest.slice("sha256:".length, "sha256:".length + 12), created, humanSize(Number(image.size))]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join("").trimEnd()).join("\n") + "\n";
}

/** The images as JSON lines. */
export function imagesJson(images: Image[]): string {
  return images.map((image) => `${JSON.stringify(toJson(ImageSchema, image))}\n`).join("");
}
