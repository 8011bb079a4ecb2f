/**
 * The resource flags `moby update`, `moby create` and `moby run` share, as
 * docker's: --cpus, -c/--cpu-shares, --cpu-period, --cpu-quota,
 * --cpuset-cpus, --cpuset-mems, -m/--memory, --memory-reservation,
 * --memory-swap, --pids-limit. They become the runtime's TaskResources
 * (UpdateTask) or the OCI spec's linux.resources (a new container).
 */
import type { Command } from "commander";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { TaskResourcesSchema } from "@moby-core/container-runtime-api/v1";
import type { OciLinuxResources } from "@moby-core/container-runtime/oci-spec-builder";
import { EXIT_CLI_ERROR } from "./exit-codes.js";
import { CliError } from "./init-client.js";
import { CPUS_PERIOD_US, parseCpus, parseSize, parseWhole } from "./resource-args.js";

/** The limits as UpdateTask takes them. */
export type ResourcesInit = MessageInitShape<typeof TaskResourcesSchema>;

/** The resource flags as commander gives them. */
export interface ResourceFlags {
  cpuShares?: bigint;
  cpuPeriod?: bigint;
  cpuQuota?: bigint;
  cpus?: bigint;
  cpusetCpus?: string;
  cpusetMems?: string;
  memory?: bigint;
  memoryReservation?: bigint;
  memorySwap?: bigint;
  pidsLimit?: bigint;
}

/** Adds the resource flags to command. */
export function addResourceOptions(command: Command): Command {
  const whole = (text: string) => parseWhole(text);
  const positive = (text: string) => parseWhole(text, false);
  return command
    .option("-c, --cpu-shares <weight>", "CPU weight relative to other containers, 2 to 262144 (default of a container: 1024)", positive)
    .option("--cpus <number>", "CPUs the container may use, a decimal such as 1.5 (a quota per 100 ms period)", parseCpus)
    .option("--cpu-period <µs>", "CFS period in microseconds, 1000 to 1000000", positive)
    .option("--cpu-quota <µs>", "CPU time per period in microseconds, 1000 or more, -1 for none", whole)
    .option("--cpuset-cpus <list>", "CPUs to run on: 0-3, 0,1")
    .option("--cpuset-mems <list>", "memory nodes to use: 0-3, 0,1")
    .option("-m, --memory <size>", "memory limit: 64m, 1g (at least 6m), -1 for none; past it the kernel OOM-kills a process", parseSize)
    .option("--memory-reservation <size>", "soft memory limit, -1 for none", parseSize)
    .option("--memory-swap <size>", "memory plus swap limit, -1 for unlimited swap", parseSize)
    .option("--pids-limit <number>", "most processes and threads, -1 for none", whole);
}

/** The limits the flags set (none set: an empty object); a usage error (exit 125) when --cpus meets --cpu-quota or --cpu-period. */
export function resourcesOf(flags: ResourceFlags): ResourcesInit {
  if (flags.cpus !== undefined && (flags.cpuQuota !== undefined || flags.cpuPeriod !== undefined)) {
    throw new CliError("--cpus sets the CPU quota and period: give either --cpus or --cpu-quota/--cpu-period", EXIT_CLI_ERROR);
  }
  const resources: ResourcesInit = {};
  if (flags.cpuShares !== undefined) resources.cpuShares = flags.cpuShares;
  if (flags.cpus !== undefined) {
    resources.cpuQuota = flags.cpus;
    resources.cpuPeriod = CPUS_PERIOD_US;
  }
  if (flags.cpuQuota !== undefined) resources.cpuQuota = flags.cpuQuota;
  if (flags.cpuPeriod !== undefined) resources.cpuPeriod = flags.cpuPeriod;
  if (flags.cpusetCpus !== undefined) resources.cpusetCpus = flags.cpusetCpus;
  if (flags.cpusetMems !== undefined) resources.cpusetMems = flags.cpusetMems;
  if (flags.memory !== undefined) resources.memoryLimit = flags.memory;
  if (flags.memoryReservation !== undefined) resources.memoryReservation = flags.memoryReservation;
  if (flags.memorySwap !== undefined) resources.memorySwap = flags.memorySwap;
  if (flags.pidsLimit !== undefined) resources.pidsLimit = flags.pidsLimit;
  return resources;
}

/** The limits as the OCI spec's linux.resources (runtime-spec config-linux.md), undefined when none is set. */
export function ociResourcesOf(resources: ResourcesInit): OciLinuxResources | undefined {
  const r = resources;
  const out: OciLinuxResources = {};
  const memory: NonNullable<OciLinuxResources["memory"]> = {};
  if (r.memoryLimit !== undefined) memory.limit = Number(r.memoryLimit);
  if (r.memoryReservation !== undefined) memory.reservation = Number(r.memoryReservation);
  if (r.memorySwap !== undefined) memory.swap = Number(r.memorySwap);
  if (Object.keys(memory).length > 0) out.memory = memory;
  const cpu: NonNullable<OciLinuxResources["cpu"]> = {};
  if (r.cpuShares !== undefined) cpu.shares = Number(r.cpuShares);
  if (r.cpuQuota !== undefined) cpu.quota = Number(r.cpuQuota);
  if (r.cpuPeriod !== undefined) cpu.period = Number(r.cpuPeriod);
  if (r.cpusetCpus !== undefined) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems !== undefined) cpu.mems = r.cpusetMems;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  if (r.pidsLimit !== undefined) out.pids = { limit: Number(r.pidsLimit) };
  return Object.keys(out).length > 0 ? out : undefined;
}
