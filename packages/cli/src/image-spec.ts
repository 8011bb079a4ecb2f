/**
 * The container record of `moby run IMAGE [COMMAND...]`: image set, and a
 * spec that leaves to the image what the command line does not say (no
 * root.path, no user or cwd unless given, only the -e entries), which the
 * container-runtime fills from the image's config at create, as docker run
 * does. The COMMAND, when given, replaces the image's Cmd.
 */
import { create } from "@bufbuild/protobuf";
import { ContainerSchema } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { buildOciSpec, packOciSpec } from "@moby-core/container-runtime/oci-spec-builder";
import { RUNTIME_NAME, ociBindMount } from "./container-spec.js";
import type { ContainerOptions } from "./container-spec.js";

/** The record of a container made from image. */
export function imageContainerRecord(options: Omit<ContainerOptions, "rootfs">, image: string): Container {
  const built = buildOciSpec({
    rootfs: "/",
    args: ["placeholder"],
    ...(options.mounts === undefined || options.mounts.length === 0 ? {} : { mounts: options.mounts.map(ociBindMount) }),
  }) as unknown as { root?: unknown; process: Record<string, unknown> };
  delete built.root;
  built.process.args = options.args;
  built.process.env = options.env;
  if (options.workdir === undefined) delete built.process.cwd;
  else built.process.cwd = options.workdir;
  if (options.user === undefined) delete built.process.user;
  else built.process.user = options.user;
  return create(ContainerSchema, {
    id: options.id,
    labels: { ...options.labels },
    image,
    runtime: { name: RUNTIME_NAME },
    spec: packOciSpec(new TextEncoder().encode(JSON.stringify(built))),
  });
}
