/**
 * The root filesystems of contained components: each image unpacked once
 * per run directory under rootfs/<manifest digest>/, by the unpacker the
 * image-store uses (@moby-core/oci-image), into a tmp- directory renamed
 * into place, so a kill -9 leaves at most a tmp- directory, removed at the
 * next preparation. Images that no component names any more are removed.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { readImageLayout, unpackImage } from "@moby-core/oci-image";
import type { ImageRunConfig } from "@moby-core/oci-image";
import type { ContainerSpec } from "../manifest/manifest.js";

/** An image ready to run: its root filesystem and how it runs. */
export interface PreparedImage {
  /** The image manifest's digest. */
  digest: string;
  /** Its name in the layout, or "". */
  refName: string;
  /** The unpacked root filesystem. */
  rootfs: string;
  /** Entrypoint, cmd, env and working directory. */
  config: ImageRunConfig;
}

/** The directory of unpacked images in a run directory. */
export function rootfsRoot(runDir: string): string {
  return join(runDir, "rootfs");
}

/**
 * Unpacks the image of each container spec unless it is unpacked already;
 * returns them in the same order. Throws an Error naming the layout and
 * what is wrong with it.
 */
export async function prepareImages(runDir: string, specs: readonly ContainerSpec[]): Promise<PreparedImage[]> {
  const root = rootfsRoot(runDir);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const prepared: PreparedImage[] = [];
  for (const spec of specs) {
    const image = readImageLayout(spec.image, spec.ref);
    const dir = join(root, image.manifestDigest.slice("sha256:".length, "sha256:".length + 16));
    if (!existsSync(dir)) {
      const tmp = join(root, `tmp-${randomBytes(6).toString("hex")}`);
      mkdirSync(tmp, { mode: 0o755 });
      try {
        await unpackImage(image, tmp);
      } catch (error) {
        rmSync(tmp, { recursive: true, force: true });
        throw new Error(`cannot unpack the image of ${spec.image}: ${(error as Error).message}`);
      }
      renameSync(tmp, dir);
    }
    prepared.push({ digest: image.manifestDigest, refName: image.refName, rootfs: dir, config: image.config });
  }
  const kept = new Set(prepared.map((p) => p.rootfs));
  for (const name of readdirSync(root)) {
    if (!kept.has(join(root, name))) rmSync(join(root, name), { recursive: true, force: true });
  }
  return prepared;
}
