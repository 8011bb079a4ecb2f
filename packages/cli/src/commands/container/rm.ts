/**
 * `moby rm ID...`: deletes each container's task (which must have exited,
 * unless -f) and its record. With the container store down, the task is
 * still deleted and moby says the record was not.
 */
import type { Command } from "commander";
import { Code, ConnectError } from "@moby-core/sdk";
import { SIGKILL, collectContainerId } from "../../container-args.js";
import type { ContainerServices } from "../../container-client.js";
import { componentError, hasCode, withContainerServices } from "../../container-client.js";
import { EXIT_REFUSED } from "../../exit-codes.js";
import { CliError } from "../../init-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { forEachContainer } from "../shared.js";
import type { SocketOf } from "../shared.js";

/**
 * Deletes the task of id, if it has one; returns whether it had one. With
 * force, a task that may still run is killed with SIGKILL and waited for
 * first; without, a running task fails with the runtime's message and how
 * to force it.
 */
export async function removeTask(services: ContainerServices, id: string, force: boolean): Promise<boolean> {
  const runtime = await services.runtime();
  if (force) {
    try {
      await runtime.killTask({ containerId: id, signal: SIGKILL });
    } catch (error) {
      if (hasCode(error, Code.NotFound)) return false;
      if (!hasCode(error, Code.FailedPrecondition)) throw error; // it has exited already
    }
    await (await services.runtimeWaits()).waitTask({ containerId: id });
  }
  try {
    await runtime.deleteTask({ containerId: id });
    return true;
  } catch (error) {
    if (hasCode(error, Code.NotFound)) return false;
    if (hasCode(error, Code.FailedPrecondition) && !force) {
      throw new CliError(`${ConnectError.from(error).rawMessage} (moby stop it first, or moby rm -f kills it)`, EXIT_REFUSED);
    }
    throw error;
  }
}

/**
 * Deletes the task of id, if it has one, and then its record. A CliError
 * when neither exists (exit 1), or when the record could not be deleted
 * because the store cannot be reached: it says whether the task was
 * deleted and what to do.
 */
export async function removeContainer(services: ContainerServices, id: string, force: boolean): Promise<void> {
  const hadTask = await removeTask(services, id, force);
  try {
    await (await services.store()).deleteContainer({ id });
  } catch (error) {
    if (hasCode(error, Code.NotFound)) {
      if (hadTask) return;
      throw new CliError(`no such container: no task in the runtime, no record in the store (moby ps -a lists them)`, EXIT_REFUSED);
    }
    const why = componentError(error).message;
    const did = hadTask ? "deleted its task, but not its record" : "it has no task in the runtime; its record was not deleted";
    throw new CliError(`${did}: ${why}; run moby rm ${id} again once the container store serves (moby component start container-store)`);
  }
}

/** `moby rm ID...`: each in turn, printing each id removed; returns the exit code. */
export function rmCommand(initSocket: string, ids: string[], options: { force: boolean }, write: Write = writeStdout): Promise<number> {
  return withContainerServices(initSocket, (services) => forEachContainer(ids, (id) => removeContainer(services, id, options.force), write));
}

/** Adds `rm` to program. */
export function registerRm(program: Command, socketOf: SocketOf): void {
  program
    .command("rm")
    .description("delete containers: their task (which must have exited, unless -f) and their record; print each id")
    .argument("<id...>", "the container ids", collectContainerId)
    .option("-f, --force", "kill a running container with SIGKILL and wait for it first")
    .action(async (ids: string[], options: { force?: boolean }, command: Command) => {
      process.exitCode = await rmCommand(socketOf(command), ids, { force: options.force === true });
    });
}
