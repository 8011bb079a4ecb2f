/**
 * A container's cgroup on cgroup v2: one directory in the unified
 * hierarchy. Counters are read as containerd's cgroups v2 package reads
 * them, and reported under the same names as v1's (times in nanoseconds;
 * see TaskMetrics for which file each field comes from).
 */
import { existsSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { CgroupVersion, TaskResourcesSchema } from "@moby-core/container-runtime-api/v1";
import type { TaskResources } from "@moby-core/container-runtime-api/v1";
import type { Cgroup, CgroupSample } from "./cgroup.js";
import { parseDeviceKeyed, readCgroupFile, readFlatKeyed, readUint } from "./cgroup-files.js";
import { readProcs } from "./cgroup-v1.js";

/**
 * The cpu.shares a cpu.weight stands for: the inverse of runc's conversion
 * of shares (2..262144) to weight (1..10000), weight = 1 + (shares - 2) *
 * 9999 / 262142, rounded to the nearest share.
 */
export function sharesFromWeight(weight: bigint): bigint {
  if (weight <= 0n) return 0n;
  return 2n + ((weight - 1n) * 262142n + 4999n) / 9999n;
}

/** A cgroup v2 container cgroup. */
export class CgroupV2 implements Cgroup {
  readonly version = CgroupVersion.V2;

  constructor(
    /** The container's directory in the unified hierarchy. */
    readonly dir: string,
  ) {}

  exists(): boolean {
    return existsSync(this.dir);
  }

  sample(): CgroupSample {
    const cpu = readFlatKeyed(this.dir, "cpu.stat");
    const stat = readFlatKeyed(this.dir, "memory.stat");
    const events = readFlatKeyed(this.dir, "memory.events");
    const usage = (
      parseDeviceKeyed(readCgroupFile(this.dir, "io.stat") ?? "").map((line) => ({
        major: line.major,
        minor: line.minor,
        rbytes: line.values.get("rbytes") ?? 0n,
        wbytes: line.values.get("wbytes") ?? 0n,
        rios: line.values.get("rios") ?? 0n,
        wios: line.values.get("wios") ?? 0n,
      }))
    ).sort((a, b) => (a.major !== b.major ? Number(a.major - b.major) : Number(a.minor - b.minor)));
    return {
      cpu: {
        usage: { total: (cpu.get("usage_usec") ?? 0n) * 1000n, kernel: (cpu.get("system_usec") ?? 0n) * 1000n, user: (cpu.get("user_usec") ?? 0n) * 1000n, perCpu: [] },
        throttling: { periods: cpu.get("nr_periods") ?? 0n, throttledPeriods: cpu.get("nr_throttled") ?? 0n, throttledTime: (cpu.get("throttled_usec") ?? 0n) * 1000n },
      },
      memory: {
        usage: {
          limit: readUint(this.dir, "memory.max") ?? 0n,
          usage: readUint(this.dir, "memory.current") ?? 0n,
          max: readUint(this.dir, "memory.peak") ?? 0n,
          failcnt: events.get("max") ?? 0n,
        },
        swap: {
          limit: readUint(this.dir, "memory.swap.max") ?? 0n,
          usage: readUint(this.dir, "memory.swap.current") ?? 0n,
          max: readUint(this.dir, "memory.swap.peak") ?? 0n,
          failcnt: readFlatKeyed(this.dir, "memory.swap.events").get("max") ?? 0n,
        },
        cache: stat.get("file") ?? 0n,
        rss: stat.get("anon") ?? 0n,
        inactiveFile: stat.get("inactive_file") ?? 0n,
        oomKill: events.get("oom_kill") ?? 0n,
        stat: Object.fromEntries(stat),
      },
      pids: { current: readUint(this.dir, "pids.current") ?? 0n, limit: readUint(this.dir, "pids.max") ?? 0n },
      io: { usage },
    };
  }

  resources(): TaskResources {
    // cpu.max is "QUOTA PERIOD", QUOTA "max" when unlimited.
    const [quota, period] = (readCgroupFile(this.dir, "cpu.max") ?? "max 100000").trim().split(/\s+/);
    const memoryLimit = readUint(this.dir, "memory.max");
    const swapLimit = readUint(this.dir, "memory.swap.max");
    const cpus = (readCgroupFile(this.dir, "cpuset.cpus") ?? "").trim();
    const mems = (readCgroupFile(this.dir, "cpuset.mems") ?? "").trim();
    return create(TaskResourcesSchema, {
      cpuShares: sharesFromWeight(readUint(this.dir, "cpu.weight") ?? 0n),
      cpuQuota: quota !== undefined && /^\d+$/.test(quota) ? BigInt(quota) : -1n,
      cpuPeriod: period !== undefined && /^\d+$/.test(period) ? BigInt(period) : 0n,
      cpusetCpus: cpus !== "" ? cpus : (readCgroupFile(this.dir, "cpuset.cpus.effective") ?? "").trim(),
      cpusetMems: mems !== "" ? mems : (readCgroupFile(this.dir, "cpuset.mems.effective") ?? "").trim(),
      memoryLimit: memoryLimit ?? -1n,
      memoryReservation: readUint(this.dir, "memory.low") || -1n,
      // runc writes Docker's memory+swap limit as memory.swap.max = memory_swap - memory_limit.
      memorySwap: memoryLimit !== undefined && swapLimit !== undefined ? memoryLimit + swapLimit : -1n,
      pidsLimit: readUint(this.dir, "pids.max") ?? -1n,
    });
  }

  pids(): number[] {
    return readProcs(this.dir);
  }

  oomKills(): bigint {
    return readFlatKeyed(this.dir, "memory.events").get("oom_kill") ?? 0n;
  }
}
