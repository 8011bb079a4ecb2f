/**
 * Containers whose record names an image and whose spec names no root
 * filesystem: the image store prepares the root filesystem (PrepareRootfs at
 * create) and releases it (ReleaseRootfs at delete), and the image's config
 * fills what the spec leaves unset, as `docker run` does: the entrypoint is
 * put before the spec's args (or the image's Cmd when the spec has none),
 * the image's Env is added under the spec's, WorkingDir and User apply when
 * the spec sets no cwd or user. This runtime never reads the image store's
 * files itself.
 */
import type { JsonObject } from "@bufbuild/protobuf";
import { ImageService } from "@moby-core/image-api/v1";
import type { ImageConfig } from "@moby-core/image-api/v1";
import { Code, ConnectError, FailedPreconditionError, InvalidArgumentError, UnavailableError, dialComponent } from "@moby-core/sdk";
import type { Connection, Logger } from "@moby-core/sdk";
import { resolveUser } from "./user-lookup.js";

/** The image store's side of a container's root filesystem. */
export interface ImageRootfs {
  /** Prepares the root filesystem of a container from image; its path and the image's config. */
  prepare(containerId: string, image: string): Promise<{ path: string; config: ImageConfig | undefined }>;
  /** Releases the root filesystem of a container (nothing when it has none). */
  release(containerId: string): Promise<void>;
}

/** Reaches the image store by its name ($MOBY_ENDPOINT_IMAGE_STORE, else the registry). */
export function imageStoreRootfs(logger: Logger): ImageRootfs & { close(): void } {
  let connection: Connection | undefined;
  const client = async () => {
    try {
      connection ??= await dialComponent("image-store", { dial: { retry: false, timeoutMs: 10_000 } });
    } catch (error) {
      throw new UnavailableError(`the image store cannot be reached: ${(error as Error).message}`);
    }
    return connection.client(ImageService);
  };
  return {
    async prepare(containerId, image) {
      try {
        const prepared = await (await client()).prepareRootfs({ containerId, image });
        return { path: prepared.path, config: prepared.image?.config };
      } catch (error) {
        const code = error instanceof ConnectError ? error.code : Code.Unavailable;
        if (code === Code.NotFound) throw new FailedPreconditionError(`image ${JSON.stringify(image)} is not in the image store: pull it first`);
        throw error instanceof ConnectError ? new ConnectError(`the image store could not prepare the root filesystem: ${error.rawMessage}`, error.code) : error;
      }
    },
    async release(containerId) {
      try {
        await (await client()).releaseRootfs({ containerId });
      } catch (error) {
        logger.warn({ err: error, containerId }, "the image store could not release the container's root filesystem");
      }
    },
    close() {
      connection?.close();
    },
  };
}

/** The PATH a container gets when neither its image nor its spec sets one (docker's). */
export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Whether a spec leaves its root filesystem to the image (no root.path). */
export function wantsImageRootfs(specJson: Uint8Array): boolean {
  try {
    const doc = JSON.parse(Buffer.from(specJson).toString("utf8")) as { root?: { path?: unknown } };
    return doc.root?.path === undefined || doc.root.path === "";
  } catch {
    return false;
  }
}

/** The spec with root.path set to rootfs and the image's config filling what the spec leaves unset. */
export function applyImageConfig(specJson: Uint8Array, rootfs: string, config: ImageConfig | undefined): Uint8Array {
  const doc = JSON.parse(Buffer.from(specJson).toString("utf8")) as JsonObject;
  const root = (doc.root ?? {}) as JsonObject;
  doc.root = { ...root, path: rootfs };
  const proc = (doc.process ?? {}) as JsonObject;
  const args = Array.isArray(proc.args) ? (proc.args as string[]) : [];
  const entrypoint = config?.entrypoint ?? [];
  const finalArgs = [...entrypoint, ...(args.length > 0 ? args : (config?.cmd ?? []))];
  if (finalArgs.length === 0) throw new InvalidArgumentError("spec", "process.args is empty and the image has no Entrypoint or Cmd: give the program to run");
  proc.args = finalArgs;
  const env = Array.isArray(proc.env) ? (proc.env as string[]) : [];
  const named = new Set(env.map((e) => e.split("=")[0]));
  proc.env = [...(config?.env ?? []).filter((e) => !named.has(e.split("=")[0])), ...env];
  if (!(proc.env as string[]).some((e) => e.startsWith("PATH="))) (proc.env as string[]).unshift(DEFAULT_PATH);
  if ((proc.cwd === undefined || proc.cwd === "") && config?.workingDir) proc.cwd = config.workingDir;
  if (proc.cwd === undefined || proc.cwd === "") proc.cwd = "/";
  if (proc.user === undefined && config?.user) {
    try {
      const { uid, gid, additionalGids } = resolveUser(config.user, rootfs);
      proc.user = { uid, gid, ...(additionalGids.length > 0 ? { additionalGids } : {}) };
    } catch (error) {
      throw new FailedPreconditionError(`the image's User: ${(error as Error).message}`);
    }
  }
  doc.process = proc;
  return new TextEncoder().encode(JSON.stringify(doc));
}
