/**
 * Content digests: "sha256:<64 lowercase hex>", the only algorithm the
 * store accepts, and a hashing stream that checks one while bytes pass.
 */
import { createHash } from "node:crypto";

/** The shape of a digest the store accepts. */
export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** Whether text is a sha256 digest in canonical form. */
export function isDigest(text: string): boolean {
  return DIGEST_PATTERN.test(text);
}

/** The lowercase hex of a digest (what follows "sha256:"). */
export function digestHex(digest: string): string {
  return digest.slice("sha256:".length);
}

/** The sha256 digest of bytes. */
export function digestOf(bytes: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** The OCI chain ids of a list of diff ids, bottom first. */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const parent = out.at(-1);
    out.push(parent === undefined ? diffId : digestOf(`${parent} ${diffId}`));
  }
  return out;
}
