/**
 * `moby update [OPTIONS] ID...`: changes the resource limits of running
 * containers, as docker update (the runtime's UpdateTask, `runc update`):
 * only the limits given change; each id is printed once updated.
 */
import type { Command } from "commander";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { TaskResourcesSchema } from "@moby-core/container-runtime-api/v1";
import { collectContainerId } from "../../container-args.js";
import { withContainerServices } from "../../container-client.js";
import { EXIT_CLI_ERROR } from "../../exit-codes.js";
import { CliError } from "../../init-client.js";
import { CPUS_PERIOD_US, parseCpus, parseSize, parseWhole } from "../../resource-args.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { forEachContainer } from "../shared.js";
import type { SocketOf } from "../shared.js";

/** The limits `moby update` may set. */
export type ResourcesInit = MessageInitShape<typeof TaskResourcesSchema>;

/** The options of `moby update` as commander gives them. */
export interface UpdateFlags {
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

/** The resources of the flags; a usage error (exit 125, as docker's) when none is given or --cpus meets --cpu-quota. */
export function resourcesOf(flags: UpdateFlags): ResourcesInit {
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
  if (Object.keys(resources).length === 0) throw new CliError("give at least one limit to change (see moby update --help)", EXIT_CLI_ERROR);
  return resources;
}

/** `moby update`: each id in turn, printing each updated id; returns the exit code. */
export function updateCommand(initSocket: string, ids: string[], resources: ResourcesInit, write: Write = writeStdout): Promise<number> {
  return withContainerServices(initSocket, async (services) => {
    const runtime = await services.runtime();
    return forEachContainer(ids, async (id) => void (await runtime.updateTask({ containerId: id, resources })), write);
  });
}

/** Adds `update` to program. */
export function registerUpdate(program: Command, socketOf: SocketOf): void {
  const whole = (text: string) => parseWhole(text);
  program
    .command("update")
    .description("change the resource limits of running containers (only the limits given); print each id")
    .argument("<id...>", "the container ids", collectContainerId)
    .option("-c, --cpu-shares <weight>", "CPU weight relative to other containers, 2 to 262144 (default of a container: 1024)", (text: string) => parseWhole(text, false))
    .option("--cpus <number>", "CPUs the container may use, a decimal such as 1.5 (a quota per 100 ms period)", parseCpus)
    .option("--cpu-period <µs>", "CFS period in microseconds, 1000 to 1000000", (text: string) => parseWhole(text, false))
    .option("--cpu-quota <µs>", "CPU time per period in microseconds, 1000 or more, -1 for none", whole)
    .option("--cpuset-cpus <list>", "CPUs to run on: 0-3, 0,1")
    .option("--cpuset-mems <list>", "memory nodes to use: 0-3, 0,1")
    .option("-m, --memory <size>", "memory limit: 64m, 1g (at least 6m), -1 for none; past it the kernel OOM-kills a process", parseSize)
    .option("--memory-reservation <size>", "soft memory limit, -1 for none", parseSize)
    .option("--memory-swap <size>", "memory plus swap limit, -1 for unlimited swap", parseSize)
    .option("--pids-limit <number>", "most processes and threads, -1 for none", whole)
    .action(async (ids: string[], flags: UpdateFlags, command: Command) => {
      process.exitCode = await updateCommand(socketOf(command), ids, resourcesOf(flags));
    });
}
