/** `moby wait ID...`: waits until each container has exited and prints its exit code (128 + the signal when a signal ended it), as docker wait. */
import type { Command } from "commander";
import { exitCodeOf } from "../../attach.js";
import { collectContainerId } from "../../container-args.js";
import { withContainerServices } from "../../container-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { forEachContainer } from "../shared.js";
import type { SocketOf } from "../shared.js";

/** `moby wait ID...`: each in turn, one exit code per line; returns moby's exit code (0 unless an id failed). */
export function waitCommand(initSocket: string, ids: string[], write: Write = writeStdout): Promise<number> {
  return withContainerServices(initSocket, async (services) => {
    const waits = await services.runtimeWaits();
    return forEachContainer(ids, async (id) => String(exitCodeOf((await waits.waitTask({ containerId: id })).exitStatus)), write);
  });
}

/** Adds `wait` to program. */
export function registerWait(program: Command, socketOf: SocketOf): void {
  program
    .command("wait")
    .description("wait until containers have exited and print their exit codes, one per line")
    .argument("<id...>", "the container ids", collectContainerId)
    .action(async (ids: string[], _options: object, command: Command) => {
      process.exitCode = await waitCommand(socketOf(command), ids);
    });
}
