/** `moby kill ID...`: a signal (default SIGKILL, as docker kill) to each container's main process, or all its processes. */
import type { Command } from "commander";
import { SIGKILL, collectContainerId, parseSignal } from "../../container-args.js";
import { withContainerServices } from "../../container-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { forEachContainer } from "../shared.js";
import type { SocketOf } from "../shared.js";

/** `moby kill ID...`: each in turn, printing each id signalled; returns the exit code. */
export function killCommand(initSocket: string, ids: string[], options: { signal: number; all: boolean }, write: Write = writeStdout): Promise<number> {
  return withContainerServices(initSocket, async (services) => {
    const runtime = await services.runtime();
    return forEachContainer(ids, async (id) => void (await runtime.killTask({ containerId: id, signal: options.signal, all: options.all })), write);
  });
}

/** Adds `kill` to program. */
export function registerKill(program: Command, socketOf: SocketOf): void {
  program
    .command("kill")
    .description("send a signal to containers' processes; print each id")
    .argument("<id...>", "the container ids", collectContainerId)
    .option("-s, --signal <signal>", "the signal: a name (TERM, SIGKILL, HUP) or a number from 1 to 64 (default: SIGKILL, as docker kill)", parseSignal, SIGKILL)
    .option("--all", "send it to every process of the container, not only its main one")
    .action(async (ids: string[], options: { signal: number; all?: boolean }, command: Command) => {
      process.exitCode = await killCommand(socketOf(command), ids, { signal: options.signal, all: options.all === true });
    });
}
