/**
 * The rules of UpdateTaskRequest.resources (TaskResources in
 * task_metrics.proto), checked before anything changes, and the `runc
 * update` flags that apply them. The ranges are Docker's (`docker update`)
 * and the kernel's: a value outside one is INVALID_ARGUMENT naming its
 * field, not a runc failure.
 */
import { InvalidArgumentError } from "@moby-core/sdk";
import type { TaskResources } from "@moby-core/container-runtime-api/v1";

/** The smallest memory limit, in bytes (Docker's: 6 MiB). */
export const MIN_MEMORY_BYTES = 6n * 1024n * 1024n;
/** The CPU shares range (the kernel's cpu.shares range). */
export const MIN_CPU_SHARES = 2n;
export const MAX_CPU_SHARES = 262144n;
/** The CFS period range, in µs (the kernel's). */
export const MIN_CPU_PERIOD_US = 1000n;
export const MAX_CPU_PERIOD_US = 1_000_000n;
/** The smallest CFS quota, in µs (the kernel's). */
export const MIN_CPU_QUOTA_US = 1000n;
/** The longest cpuset list, in bytes. */
const MAX_CPUSET_BYTES = 1024;

function field(name: string): string {
  return `resources.${name}`;
}

/** A limit that is -1 (none) or at least min; the flag value. */
function limit(name: string, value: bigint, min: bigint, unit: string): string {
  if (value === -1n || value >= min) return String(value);
  throw new InvalidArgumentError(field(name), `${value} is not a limit: give ${min} ${unit} or more, or -1 for none`);
}

/** A cpuset list in the kernel's format: "0-2,4". */
function cpuset(name: string, value: string): string {
  if (value.length > MAX_CPUSET_BYTES || !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value)) {
    throw new InvalidArgumentError(field(name), `${JSON.stringify(value.slice(0, 64))} is not a list of numbers and ranges such as "0-2,4"`);
  }
  for (const range of value.split(",")) {
    const [low, high] = range.split("-").map(Number);
    if (high !== undefined && high < low!) throw new InvalidArgumentError(field(name), `the range ${JSON.stringify(range)} goes down`);
  }
  return value;
}

/**
 * Checks the limits to change and returns the `runc update` flags that set
 * them: INVALID_ARGUMENT naming the field for a value outside its range, or
 * naming "resources" when nothing is set.
 */
export function runcUpdateFlags(resources: TaskResources | undefined): string[] {
  const flags: string[] = [];
  const r = resources;
  if (r?.cpuShares !== undefined) {
    if (r.cpuShares < MIN_CPU_SHARES || r.cpuShares > MAX_CPU_SHARES) {
      throw new InvalidArgumentError(field("cpu_shares"), `${r.cpuShares} is outside ${MIN_CPU_SHARES} to ${MAX_CPU_SHARES}`);
    }
    flags.push("--cpu-share", String(r.cpuShares));
  }
  if (r?.cpuPeriod !== undefined) {
    if (r.cpuPeriod < MIN_CPU_PERIOD_US || r.cpuPeriod > MAX_CPU_PERIOD_US) {
      throw new InvalidArgumentError(field("cpu_period"), `${r.cpuPeriod} µs is outside ${MIN_CPU_PERIOD_US} (1 ms) to ${MAX_CPU_PERIOD_US} (1 s)`);
    }
    flags.push("--cpu-period", String(r.cpuPeriod));
  }
  if (r?.cpuQuota !== undefined) flags.push("--cpu-quota", limit("cpu_quota", r.cpuQuota, MIN_CPU_QUOTA_US, "µs"));
  if (r?.cpusetCpus !== undefined) flags.push("--cpuset-cpus", cpuset("cpuset_cpus", r.cpusetCpus));
  if (r?.cpusetMems !== undefined) flags.push("--cpuset-mems", cpuset("cpuset_mems", r.cpusetMems));
  if (r?.memoryLimit !== undefined) flags.push("--memory", limit("memory_limit", r.memoryLimit, MIN_MEMORY_BYTES, "bytes (6 MiB)"));
  if (r?.memoryReservation !== undefined) {
    flags.push("--memory-reservation", limit("memory_reservation", r.memoryReservation, 0n, "bytes"));
    if (r.memoryLimit !== undefined && r.memoryLimit !== -1n && r.memoryReservation > r.memoryLimit) {
      throw new InvalidArgumentError(field("memory_reservation"), `${r.memoryReservation} is above memory_limit ${r.memoryLimit}`);
    }
  }
  if (r?.memorySwap !== undefined) {
    flags.push("--memory-swap", limit("memory_swap", r.memorySwap, MIN_MEMORY_BYTES, "bytes (6 MiB)"));
    if (r.memoryLimit !== undefined && r.memorySwap !== -1n && (r.memoryLimit === -1n || r.memorySwap < r.memoryLimit)) {
      throw new InvalidArgumentError(field("memory_swap"), `${r.memorySwap} is below memory_limit ${r.memoryLimit}: it counts memory plus swap`);
    }
  }
  if (r?.pidsLimit !== undefined) flags.push("--pids-limit", limit("pids_limit", r.pidsLimit, 1n, "processes"));
  if (flags.length === 0) throw new InvalidArgumentError("resources", "set at least one limit to change");
  return flags;
}
