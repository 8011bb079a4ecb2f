/**
 * A container's cgroup on cgroup v1: one directory per controller. Counters
 * and limits are read as containerd's cgroups v1 package reads them (its
 * stats/v1 names), from cpuacct, cpu, memory, pids and blkio.
 */
import { existsSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { CgroupVersion, TaskResourcesSchema } from "@moby-core/container-runtime-api/v1";
import type { TaskResources } from "@moby-core/container-runtime-api/v1";
import type { Cgroup, CgroupSample } from "./cgroup.js";
import { parseBlkioV1, readCgroupFile, readFlatKeyed, readInt, readUint } from "./cgroup-files.js";

/** The v1 controllers a sample reads. */
export const V1_CONTROLLERS = ["cpu", "cpuacct", "cpuset", "memory", "pids", "blkio"];

/** Nanoseconds per USER_HZ tick (cpuacct.stat counts ticks; USER_HZ is 100 on Linux). */
const NS_PER_TICK = 10_000_000n;

/** v1 writes "no limit" as the largest page-aligned 63-bit value; anything this large is unlimited. */
const UNLIMITED_FROM = 1n << 62n;

/** A limit as a sample reports it: 0 when unlimited or unknown. */
function limitOrZero(value: bigint | undefined): bigint {
  return value === undefined || value >= UNLIMITED_FROM ? 0n : value;
}

/** A limit as TaskResources reports it: -1 when unlimited or unknown. */
function limitOrMinusOne(value: bigint | undefined): bigint {
  return value === undefined || value < 0n || value >= UNLIMITED_FROM ? -1n : value;
}

/** A cgroup v1 container cgroup. */
export class CgroupV1 implements Cgroup {
  readonly version = CgroupVersion.V1;

  constructor(
    /** The container's directory in each controller's hierarchy. */
    readonly dirs: ReadonlyMap<string, string>,
  ) {}

  private dir(controller: string): string {
    // A controller the process is not in reads as missing files: its counters are 0.
    return this.dirs.get(controller) ?? "/nonexistent";
  }

  exists(): boolean {
    return existsSync(this.dir("pids")) || existsSync(this.dir("memory"));
  }

  sample(): CgroupSample {
    return { cpu: this.cpu(), memory: this.memory(), pids: this.pidsStat(), io: this.io() };
  }

  private cpu(): CgroupSample["cpu"] {
    const acct = this.dir("cpuacct");
    const ticks = readFlatKeyed(acct, "cpuacct.stat");
    const perCpu = (readCgroupFile(acct, "cpuacct.usage_percpu") ?? "").trim().split(/\s+/).filter((v) => /^\d+$/.test(v)).map(BigInt);
    const throttle = readFlatKeyed(this.dir("cpu"), "cpu.stat");
    return {
      usage: {
        total: readUint(acct, "cpuacct.usage") ?? 0n,
        kernel: readUint(acct, "cpuacct.usage_sys") ?? (ticks.get("system") ?? 0n) * NS_PER_TICK,
        user: readUint(acct, "cpuacct.usage_user") ?? (ticks.get("user") ?? 0n) * NS_PER_TICK,
        perCpu,
      },
      throttling: {
        periods: throttle.get("nr_periods") ?? 0n,
        throttledPeriods: throttle.get("nr_throttled") ?? 0n,
        throttledTime: throttle.get("throttled_time") ?? 0n,
      },
    };
  }

  private memory(): CgroupSample["memory"] {
    const dir = this.dir("memory");
    const stat = readFlatKeyed(dir, "memory.stat");
    const entry = (prefix: string) => ({
      limit: limitOrZero(readUint(dir, `${prefix}.limit_in_bytes`)),
      usage: readUint(dir, `${prefix}.usage_in_bytes`) ?? 0n,
      max: readUint(dir, `${prefix}.max_usage_in_bytes`) ?? 0n,
      failcnt: readUint(dir, `${prefix}.failcnt`) ?? 0n,
    });
    return {
      usage: entry("memory"),
      swap: entry("memory.memsw"),
      cache: stat.get("total_cache") ?? stat.get("cache") ?? 0n,
      rss: stat.get("total_rss") ?? stat.get("rss") ?? 0n,
      inactiveFile: stat.get("total_inactive_file") ?? stat.get("inactive_file") ?? 0n,
      oomKill: this.oomKills(),
      stat: Object.fromEntries(stat),
    };
  }

  private pidsStat(): CgroupSample["pids"] {
    const dir = this.dir("pids");
    return { current: readUint(dir, "pids.current") ?? 0n, limit: readUint(dir, "pids.max") ?? 0n };
  }

  private io(): CgroupSample["io"] {
    const dir = this.dir("blkio");
    // The I/O scheduler's counters when it keeps them (CFQ, BFQ), else the throttle layer's, as containerd reads them.
    const pick = (name: string) =>
      [`blkio.${name}`, `blkio.bfq.${name}`, `blkio.throttle.${name}`].map((file) => parseBlkioV1(readCgroupFile(dir, file) ?? "")).find((lines) => lines.length > 0) ?? [];
    const bytes = pick("io_service_bytes_recursive");
    const ops = pick("io_serviced_recursive");
    const devices = new Map<string, { major: bigint; minor: bigint; rbytes: bigint; wbytes: bigint; rios: bigint; wios: bigint }>();
    const device = (major: bigint, minor: bigint) => {
      const key = `${major}:${minor}`;
      let entry = devices.get(key);
      if (entry === undefined) {
        entry = { major, minor, rbytes: 0n, wbytes: 0n, rios: 0n, wios: 0n };
        devices.set(key, entry);
      }
      return entry;
    };
    for (const line of bytes) {
      const entry = device(line.major, line.minor);
      entry.rbytes = line.values.get("Read") ?? 0n;
      entry.wbytes = line.values.get("Write") ?? 0n;
    }
    for (const line of ops) {
      const entry = device(line.major, line.minor);
      entry.rios = line.values.get("Read") ?? 0n;
      entry.wios = line.values.get("Write") ?? 0n;
    }
    const usage = [...devices.values()].sort((a, b) => (a.major !== b.major ? Number(a.major - b.major) : Number(a.minor - b.minor)));
    return { usage };
  }

  resources(): TaskResources {
    const cpu = this.dir("cpu");
    const memory = this.dir("memory");
    const cpuset = this.dir("cpuset");
    return create(TaskResourcesSchema, {
      cpuShares: readUint(cpu, "cpu.shares") ?? 0n,
      cpuQuota: readInt(cpu, "cpu.cfs_quota_us") ?? -1n,
      cpuPeriod: readUint(cpu, "cpu.cfs_period_us") ?? 0n,
      cpusetCpus: (readCgroupFile(cpuset, "cpuset.cpus") ?? "").trim(),
      cpusetMems: (readCgroupFile(cpuset, "cpuset.mems") ?? "").trim(),
      memoryLimit: limitOrMinusOne(readUint(memory, "memory.limit_in_bytes")),
      memoryReservation: limitOrMinusOne(readUint(memory, "memory.soft_limit_in_bytes")),
      memorySwap: limitOrMinusOne(readUint(memory, "memory.memsw.limit_in_bytes")),
      pidsLimit: limitOrMinusOne(readUint(this.dir("pids"), "pids.max")),
    });
  }

  pids(): number[] {
    return readProcs(this.dirs.get("pids") ?? this.dirs.get("memory") ?? this.dir("cpu"));
  }

  oomKills(): bigint {
    return readFlatKeyed(this.dir("memory"), "memory.oom_control").get("oom_kill") ?? 0n;
  }
}

/** The pids in a cgroup directory's cgroup.procs, ascending; none when it is gone. */
export function readProcs(dir: string): number[] {
  const text = readCgroupFile(dir, "cgroup.procs") ?? "";
  return text
    .split("\n")
    .filter((line) => /^\d+$/.test(line.trim()))
    .map(Number)
    .sort((a, b) => a - b);
}

