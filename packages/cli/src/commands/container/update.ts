/**
 * `moby update [OPTIONS] ID...`: changes the resource limits of running
 * containers, as docker update (the runtime's UpdateTask, `runc update`):
 * only the limits given change; each id is printed once updated.
 */
import type { Command } from "commander";
import { collectContainerId } from "../../container-args.js";
import { withContainerServices } from "../../container-client.js";
import { EXIT_CLI_ERROR } from "../../exit-codes.js";
import { CliError } from "../../init-client.js";
import { addResourceOptions, resourcesOf } from "../../resource-options.js";
import type { ResourceFlags, ResourcesInit } from "../../resource-options.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { forEachContainer } from "../shared.js";
import type { SocketOf } from "../shared.js";

/** The limits of the flags; a usage error (exit 125, as docker's) when none is given. */
export function updateResourcesOf(flags: ResourceFlags): ResourcesInit {
  const resources = resourcesOf(flags);
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
  addResourceOptions(
    program
      .command("update")
      .description("change the resource limits of running containers (only the limits given); print each id")
      .argument("<id...>", "the container ids", collectContainerId),
  )
    .action(async (ids: string[], flags: ResourceFlags, command: Command) => {
      process.exitCode = await updateCommand(socketOf(command), ids, updateResourcesOf(flags));
    });
}
