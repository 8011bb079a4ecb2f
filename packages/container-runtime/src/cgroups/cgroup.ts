/**
 * The cgroup of a process, whichever hierarchy the node runs: cgroup v2 when
 * /sys/fs/cgroup is the unified hierarchy (it has cgroup.controllers), else
 * cgroup v1 with one hierarchy per controller (a v2 mount beside them, as
 * systemd's hybrid mode makes at /sys/fs/cgroup/unified, is not used). A
 * process's directories come from /proc/PID/cgroup and, for v1, where each
 * controller is mounted (/proc/self/mountinfo). Samples read the cgroup
 * files directly, as containerd's cgroups package does: no process is
 * spawned per sample, and a stream of samples of many tasks stays cheap.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CgroupVersion, CpuStatSchema, IoStatSchema, MemoryStatSchema, PidsStatSchema, TaskResources } from "@moby-core/container-runtime-api/v1";
import { CgroupV1, V1_CONTROLLERS } from "./cgroup-v1.js";
import { CgroupV2 } from "./cgroup-v2.js";

/** One sample of a cgroup's counters, as the parts of a TaskMetrics. */
export interface CgroupSample {
  cpu: MessageInitShape<typeof CpuStatSchema>;
  memory: MessageInitShape<typeof MemoryStatSchema>;
  pids: MessageInitShape<typeof PidsStatSchema>;
  io: MessageInitShape<typeof IoStatSchema>;
}

/** The cgroup of one container, read through its files. */
export interface Cgroup {
  /** The hierarchy it is in. */
  readonly version: CgroupVersion;
  /** Tells whether its directory still exists (runc delete removes it). */
  exists(): boolean;
  /** Reads every counter once. */
  sample(): CgroupSample;
  /** Reads its limits, every field set. */
  resources(): TaskResources;
  /** The pids of its processes (cgroup.procs), ascending. */
  pids(): number[];
  /** How many of its processes the OOM killer has killed. */
  oomKills(): bigint;
}

/** Where to find the kernel's files; tests point them elsewhere. */
export interface CgroupRoots {
  /** The cgroup filesystem root, /sys/fs/cgroup. */
  cgroupRoot: string;
  /** procfs, /proc. */
  procRoot: string;
}

/** The kernel's own places. */
export const SYSTEM_ROOTS: CgroupRoots = { cgroupRoot: "/sys/fs/cgroup", procRoot: "/proc" };

/** Tells whether the node runs cgroup v2 (the unified hierarchy at the root). */
export function isUnified(roots: CgroupRoots = SYSTEM_ROOTS): boolean {
  return existsSync(join(roots.cgroupRoot, "cgroup.controllers"));
}

/** One line of /proc/PID/cgroup: the controllers of a hierarchy and the path in it. */
interface Membership {
  controllers: string[];
  path: string;
}

/** Parses /proc/PID/cgroup ("ID:controllers:path" per line). */
export function parseProcCgroup(text: string): Membership[] {
  const found: Membership[] = [];
  for (const line of text.split("\n")) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (match !== null) found.push({ controllers: match[1] === "" ? [] : match[1]!.split(","), path: match[2]! });
  }
  return found;
}

/** A cgroup v1 mount: its root within the hierarchy, where it is mounted, its controllers. */
interface V1Mount {
  root: string;
  mountPoint: string;
  controllers: string[];
}

/** The cgroup v1 mounts of /proc/self/mountinfo. */
export function parseCgroupMounts(mountinfo: string): V1Mount[] {
  const mounts: V1Mount[] = [];
  for (const line of mountinfo.split("\n")) {
    const [before, after] = line.split(" - ");
    if (before === undefined || after === undefined) continue;
    const fields = before.split(" ");
    const [fsType, , superOptions] = after.split(" ");
    if (fsType !== "cgroup" || fields.length < 5) continue;
    const unescape = (path: string) => path.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    const controllers = (superOptions ?? "").split(",").filter((option) => V1_CONTROLLERS.includes(option));
    mounts.push({ root: unescape(fields[3]!), mountPoint: unescape(fields[4]!), controllers });
  }
  return mounts;
}

/**
 * The cgroup of a live process; undefined when the process does not exist
 * (or its cgroup cannot be placed: no v1 controller it is in is mounted).
 */
export function cgroupOfProcess(pid: number, roots: CgroupRoots = SYSTEM_ROOTS): Cgroup | undefined {
  let text: string;
  try {
    text = readFileSync(join(roots.procRoot, String(pid), "cgroup"), "utf8");
  } catch {
    return undefined;
  }
  const memberships = parseProcCgroup(text);
  if (isUnified(roots)) {
    const unified = memberships.find((m) => m.controllers.length === 0 && m.path.startsWith("/"));
    return unified === undefined ? undefined : new CgroupV2(join(roots.cgroupRoot, unified.path));
  }
  const mounts = parseCgroupMounts(readFileSync(join(roots.procRoot, "self", "mountinfo"), "utf8"));
  const dirs = new Map<string, string>();
  for (const membership of memberships) {
    for (const controller of membership.controllers) {
      const mount = mounts.find((m) => m.controllers.includes(controller));
      if (mount === undefined) continue;
      const inside = relative(mount.root, membership.path);
      if (inside.startsWith("..")) continue;
      dirs.set(controller, join(mount.mountPoint, inside));
    }
  }
  return dirs.size === 0 ? undefined : new CgroupV1(dirs);
}
