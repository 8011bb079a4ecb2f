/**
 * `moby start ID...`: starts containers, detached (as docker start without
 * -a). A created task is started; an exited one is deleted and created
 * anew from its record (its earlier output goes with it) and started; a
 * stored container without a task gets one; a running one is left as is.
 */
import type { Command } from "commander";
import { Code } from "@moby-core/sdk";
import { Status } from "@moby-core/container-runtime-api/v1";
import { collectContainerId } from "../../container-args.js";
import type { ContainerServices } from "../../container-client.js";
import { hasCode, withContainerServices } from "../../container-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { forEachContainer } from "../shared.js";
import type { SocketOf } from "../shared.js";

/** The task status of id, or undefined when it has no task. */
async function taskStatus(services: ContainerServices, id: string): Promise<Status | undefined> {
  try {
    return (await (await services.runtime()).getTask({ containerId: id })).task?.status;
  } catch (error) {
    if (hasCode(error, Code.NotFound)) return undefined;
    throw error;
  }
}

/** Starts the container id (see the top of this file). */
export async function startContainer(services: ContainerServices, id: string): Promise<void> {
  const runtime = await services.runtime();
  const status = await taskStatus(services, id);
  if (status === Status.RUNNING || status === Status.PAUSED || status === Status.PAUSING) return;
  if (status === Status.STOPPED) await runtime.deleteTask({ containerId: id });
  if (status !== Status.CREATED) await runtime.createTask({ containerId: id });
  await runtime.startTask({ containerId: id });
}

/** `moby start ID...`: each in turn, printing each id started; returns the exit code. */
export function startCommand(initSocket: string, ids: string[], write: Write = writeStdout): Promise<number> {
  return withContainerServices(initSocket, (services) => forEachContainer(ids, (id) => startContainer(services, id), write));
}

/** Adds `start` to program. */
export function registerStart(program: Command, socketOf: SocketOf): void {
  program
    .command("start")
    .description("start containers (created, exited, or stored without a task), detached; print each id")
    .argument("<id...>", "the container ids", collectContainerId)
    .action(async (ids: string[], _options: object, command: Command) => {
      process.exitCode = await startCommand(socketOf(command), ids);
    });
}
