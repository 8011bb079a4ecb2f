/**
 * Builds OCI runtime specs for this runtime: a default Linux container like
 * the one `runc spec` writes (its own pid, ipc, uts, mount and network
 * namespaces, the standard /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue and
 * /sys mounts, a default capability set, masked and read-only paths), with
 * no terminal unless asked, and the program, environment, working directory and rootfs
 * of the options. Used by `moby run --rootfs DIR -- cmd` and by the tests.
 */
import { resolve } from "node:path";
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import type { Any } from "@bufbuild/protobuf/wkt";
import { OciSpecSchema } from "@moby-core/container-runtime-api/v1";

/** The OCI runtime-spec version the built specs declare. */
export const OCI_VERSION = "1.0.2";

/** The default environment: a PATH and TERM, as `runc spec` sets them. */
export const DEFAULT_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"];

/** The default capabilities: those containerd and Docker give a container. */
export const DEFAULT_CAPABILITIES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** The paths masked from the container (as `runc spec`). */
export const DEFAULT_MASKED_PATHS = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  "/proc/scsi",
];

/** The paths mounted read-only in the container (as `runc spec`). */
export const DEFAULT_READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/** A mount of an OCI spec. */
export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

/** The resource limits of an OCI spec (runtime-spec config-linux.md, linux.resources), those `docker run` sets. */
export interface OciLinuxResources {
  /** Bytes; -1 for no limit. swap is memory plus swap. */
  memory?: { limit?: number; reservation?: number; swap?: number };
  /** shares: relative weight; quota and period: µs; cpus and mems: lists such as "0-2,4". */
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  /** The most processes and threads; -1 for no limit. */
  pids?: { limit: number };
}

/** The part of an OCI runtime spec this builder writes. */
export interface OciRuntimeSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    consoleSize?: { height: number; width: number };
    user: { uid: number; gid: number; additionalGids?: number[]; username?: string };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    rlimits: { type: string; hard: number; soft: number }[];
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    cgroupsPath?: string;
    resources: { devices: { allow: boolean; access: string }[] } & OciLinuxResources;
    namespaces: { type: string }[];
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

/** What to run and where. */
export interface OciSpecOptions {
  /** The rootfs directory on the node; made absolute. */
  rootfs: string;
  /** The program and its arguments. */
  args: string[];
  /** Environment entries "NAME=VALUE"; each replaces the default entry of the same NAME. */
  env?: string[];
  /** The working directory inside the container; default "/". */
  cwd?: string;
  /** The container's hostname; default "moby". */
  hostname?: string;
  /** The user to run as; default root (0:0). A username (docker's --user NAME[:GROUP]) is resolved by CreateTask in the rootfs. */
  user?: { uid: number; gid: number; additionalGids?: number[]; username?: string };
  /** Mount the rootfs read-only; default false. */
  readonlyRootfs?: boolean;
  /** The container's cgroup path (linux.cgroupsPath); default runc's choice. */
  cgroupsPath?: string;
  /** Extra mounts, after the standard ones. */
  mounts?: OciMount[];
  /** The namespaces the container gets; default pid, network, ipc, uts and mount. */
  namespaces?: string[];
  /** Resource limits (memory, CPU, pids); default none. */
  resources?: OciLinuxResources;
  /** Run the process on a pseudo-terminal (process.terminal); default false. */
  terminal?: boolean;
  /** The terminal's first size, with terminal (process.consoleSize). */
  consoleSize?: { height: number; width: number };
}

/** The namespaces of a default container. */
export const DEFAULT_NAMESPACES = ["pid", "network", "ipc", "uts", "mount"];

/** Merges environment entries: a later entry replaces an earlier one of the same NAME. */
export function mergeEnv(base: string[], overrides: string[]): string[] {
  const name = (entry: string) => entry.slice(0, Math.max(0, entry.indexOf("=")));
  const out = [...base];
  for (const entry of overrides) {
    const index = out.findIndex((existing) => name(existing) === name(entry));
    if (index >= 0) out[index] = entry;
    else out.push(entry);
  }
  return out;
}

/** The standard mounts of a Linux container. */
export function defaultMounts(): OciMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc" },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
  ];
}

/** Builds the spec of a default Linux container running options.args in options.rootfs. */
export function buildOciSpec(options: OciSpecOptions): OciRuntimeSpec {
  if (options.args.length === 0) throw new Error("args: give the program to run");
  const capabilities = [...DEFAULT_CAPABILITIES];
  const spec: OciRuntimeSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: options.terminal ?? false,
      ...(options.terminal === true && options.consoleSize !== undefined ? { consoleSize: options.consoleSize } : {}),
      user: options.user ?? { uid: 0, gid: 0 },
      args: [...options.args],
      env: mergeEnv(DEFAULT_ENV, options.env ?? []),
      cwd: options.cwd ?? "/",
      capabilities: { bounding: capabilities, effective: [...capabilities], permitted: [...capabilities] },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: resolve(options.rootfs), readonly: options.readonlyRootfs ?? false },
    hostname: options.hostname ?? "moby",
    mounts: [...defaultMounts(), ...(options.mounts ?? [])],
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }], ...options.resources },
      namespaces: (options.namespaces ?? DEFAULT_NAMESPACES).map((type) => ({ type })),
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
  if (options.cgroupsPath !== undefined) spec.linux.cgroupsPath = options.cgroupsPath;
  return spec;
}

/** The spec as config.json bytes. */
export function ociSpecJson(spec: OciRuntimeSpec | OciSpecOptions): Uint8Array {
  const document = "ociVersion" in spec ? spec : buildOciSpec(spec);
  return new TextEncoder().encode(JSON.stringify(document, null, 2));
}

/** The spec packed as a container record's spec (an Any holding an OciSpec). */
export function packOciSpec(spec: OciRuntimeSpec | OciSpecOptions | Uint8Array): Any {
  const json = spec instanceof Uint8Array ? spec : ociSpecJson(spec);
  return anyPack(OciSpecSchema, create(OciSpecSchema, { json }));
}
