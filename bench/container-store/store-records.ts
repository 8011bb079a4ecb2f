/**
 * The records the container-store benchmarks create: small and realistic,
 * as a container engine would store them. A 64-hex id (as docker's), two
 * labels, an image reference, runtime.name "runc", and a spec Any holding an
 * OCI runtime config.json of about 1 KiB.
 */
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { OciSpecSchema } from "@moby-core/container-runtime-api/v1";
import { ContainerSchema } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";

/** The id of the i-th container of a population: 64 hex digits, as a docker container id. */
export function populationId(i: number): string {
  return createHash("sha256").update(`moby-bench-container-${i}`).digest("hex");
}

/** A new unique id, for creates after the population (prefix keeps runners and runs apart). */
export function freshId(prefix: string, n: number): string {
  return createHash("sha256").update(`moby-bench-fresh-${prefix}-${n}`).digest("hex");
}

/** An OCI runtime config.json of about 1 KiB, for the container with this id. */
function ociConfig(id: string, app: string): string {
  return JSON.stringify({
    ociVersion: "1.1.0",
    process: {
      terminal: false,
      user: { uid: 101, gid: 101 },
      args: ["nginx", "-g", "daemon off;"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NGINX_VERSION=1.27.3", `HOSTNAME=${id.slice(0, 12)}`, `APP=${app}`],
      cwd: "/",
      capabilities: {
        bounding: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE", "CAP_KILL"],
      },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1048576, soft: 1048576 }],
      noNewPrivileges: true,
    },
    root: { path: `/var/lib/moby/rootfs/${id}`, readonly: false },
    hostname: id.slice(0, 12),
    mounts: [
      { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    ],
    linux: {
      namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      maskedPaths: ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/sys"],
    },
  });
}

/** The labels' app values cycle through this many names. */
const APPS = 50;

/** The container with this id (the n-th made by its maker), ready for CreateContainer. */
export function benchContainer(id: string, n: number): Container {
  const app = `web-${n % APPS}`;
  return create(ContainerSchema, {
    id,
    labels: { app, "io.moby.bench/tier": n % 2 === 0 ? "frontend" : "backend" },
    image: "docker.io/library/nginx:1.27.3",
    runtime: { name: "runc" },
    spec: anyPack(OciSpecSchema, create(OciSpecSchema, { json: new TextEncoder().encode(ociConfig(id, app)) })),
  });
}

/** The size of one record's spec value, in bytes, for the report. */
export const SPEC_BYTES = benchContainer(populationId(0), 0).spec!.value.byteLength;
