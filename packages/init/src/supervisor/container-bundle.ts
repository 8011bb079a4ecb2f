/**
 * The OCI runtime bundle of a contained component (runc's config.json):
 * the image's root filesystem read-only; its own pid, mount, ipc, uts and
 * (unless the manifest says host) network namespaces; every capability
 * dropped but those the manifest keeps; no new privileges; and of the host
 * only what it may see, bound at the same paths as on the host so the
 * MOBY_* paths it is given work unchanged: its state directory
 * (<run dir>/state/<name>), the directory of its own socket, the socket
 * (or socket directory) of each component it requires, and the mounts the
 * manifest names.
 */
import { dirname, join } from "node:path";
import type { ContainerSpec } from "../manifest/manifest.js";
import type { PreparedImage } from "./contained-rootfs.js";

/** What the bundle is made of. */
export interface BundleInput {
  /** The component's name: the container's hostname. */
  name: string;
  /** Its container section. */
  container: ContainerSpec;
  /** Its unpacked image. */
  image: PreparedImage;
  /** The program and arguments (inside the image). */
  args: string[];
  /** The environment, KEY=value. */
  env: string[];
  /** Its state directory on the host, bound read-write. */
  stateDir: string;
  /** Its own socket's directory, bound read-write. */
  socketDir: string;
  /** The sockets (or their directories) of what it requires, bound read-write (connecting to a socket writes to it). */
  requiredSockets: string[];
}

/** The capabilities a contained component has when its manifest keeps none: none. */
const MASKED_PATHS = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"];
const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

function bind(path: string, readonly: boolean, target = path): Record<string, unknown> {
  return { destination: target, type: "bind", source: path, options: ["rbind", readonly ? "ro" : "rw", "nosuid", "nodev"] };
}

/** The config.json of the bundle, as an object. */
export function bundleConfig(input: BundleInput): Record<string, unknown> {
  const { container } = input;
  const namespaces = ["pid", "mount", "ipc", "uts", ...(container.network === "none" ? ["network"] : [])].map((type) => ({ type }));
  const caps = container.capabilities;
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: input.args,
      env: input.env,
      cwd: input.image.config.workingDir,
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      // Lowering is always allowed: 4096 files (gRPC connections, databases), no core dumps.
      rlimits: [
        { type: "RLIMIT_NOFILE", hard: 4096, soft: 4096 },
        { type: "RLIMIT_CORE", hard: 0, soft: 0 },
      ],
      noNewPrivileges: true,
    },
    root: { path: input.image.rootfs, readonly: true },
    hostname: input.name,
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      { destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777", "size=65536k"] },
      bind(input.stateDir, false),
      bind(input.socketDir, false),
      ...input.requiredSockets.map((socket) => bind(socket, false)),
      ...container.mounts.map((mount) => bind(mount.source, mount.readonly, mount.target)),
    ],
    linux: {
      namespaces,
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  };
}

/** The socket path to bind for a required component's socket: its directory when that is its own, else the socket itself. */
export function requiredSocketMount(socket: string, runDir: string): string {
  return dirname(socket) === runDir ? socket : dirname(socket);
}

/** The state directory of a component in a run directory. */
export function stateDirectory(runDir: string, name: string): string {
  return join(runDir, "state", name);
}
