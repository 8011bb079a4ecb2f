/**
 * Image references as docker reads them: "[host[:port]/]path[:tag][@digest]",
 * normalized to a name with a host and a tag or a digest
 * ("busybox" -> "docker.io/library/busybox:latest").
 */
import { InvalidArgumentError } from "@moby-core/sdk";
import { DIGEST_PATTERN } from "./digest.js";

/** The most bytes of a reference. */
export const MAX_REFERENCE_LENGTH = 4096;
/** The registry of a reference without a host. */
export const DEFAULT_REGISTRY = "docker.io";

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?$/;

/** A parsed, normalized reference. */
export interface ImageReference {
  /** The registry host, with its port, for example "docker.io" or "localhost:5000". */
  host: string;
  /** The repository path, for example "library/busybox". */
  repository: string;
  /** The tag; empty when only a digest is given. */
  tag: string;
  /** The digest, "sha256:<hex>"; empty when none is given. */
  digest: string;
}

/** Parses and normalizes a reference; InvalidArgumentError naming field when it breaks a rule. */
export function parseReference(text: string, field: string): ImageReference {
  if (text === "") throw new InvalidArgumentError(field, "is required");
  if (Buffer.byteLength(text) > MAX_REFERENCE_LENGTH) throw new InvalidArgumentError(field, `is longer than ${MAX_REFERENCE_LENGTH} bytes`);
  let rest = text;
  let digest = "";
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_PATTERN.test(digest)) throw new InvalidArgumentError(field, `digest "${digest}" is not sha256:<64 lowercase hex>`);
  }
  let tag = "";
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidArgumentError(field, `tag "${tag}" must be 1 to 128 of [A-Za-z0-9_.-], not starting with "." or "-"`);
  }
  let host = DEFAULT_REGISTRY;
  const parts = rest.split("/");
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase())) {
    host = first;
    parts.shift();
    if (!HOST.test(host)) throw new InvalidArgumentError(field, `registry host "${host}" is not a host name with an optional port`);
  }
  if (host === "index.docker.io" || host === "registry-1.docker.io") host = DEFAULT_REGISTRY;
  if (host === DEFAULT_REGISTRY && parts.length === 1) parts.unshift("library");
  for (const part of parts) {
    if (!PATH_COMPONENT.test(part)) {
      throw new InvalidArgumentError(field, `repository part "${part}" must be lowercase letters and digits joined by ".", "_", "__" or "-"`);
    }
  }
  if (tag === "" && digest === "") tag = "latest";
  return { host, repository: parts.join("/"), tag, digest };
}

/** The normalized name of a reference: host/repository:tag, host/repository@digest, or both. */
export function formatReference(ref: ImageReference): string {
  return `${ref.host}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** The name an image is recorded under: the tag when there is one, else the digest. */
export function recordName(ref: ImageReference): string {
  return ref.tag ? `${ref.host}/${ref.repository}:${ref.tag}` : `${ref.host}/${ref.repository}@${ref.digest}`;
}

/** The short form docker shows: "busybox:latest" for docker.io/library, the full name otherwise. */
export function familiarName(name: string): string {
  if (name.startsWith(`${DEFAULT_REGISTRY}/library/`)) return name.slice(`${DEFAULT_REGISTRY}/library/`.length);
  if (name.startsWith(`${DEFAULT_REGISTRY}/`)) return name.slice(DEFAULT_REGISTRY.length + 1);
  return name;
}
