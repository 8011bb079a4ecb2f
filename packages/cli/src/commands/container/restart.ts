/** `moby restart ID...`: stop (SIGTERM, SIGKILL after -t seconds) and start again, as docker restart. */
import type { Command } from "commander";
import { collectContainerId, parseStopSeconds } from "../../container-args.js";
import { withContainerServices } from "../../container-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { forEachContainer } from "../shared.js";
import type { SocketOf } from "../shared.js";
import { startContainer } from "./start.js";
import { DEFAULT_STOP_SECONDS, stopContainer } from "./stop.js";

/** `moby restart ID...`: each in turn, printing each id restarted; returns the exit code. */
export function restartCommand(initSocket: string, ids: string[], options: { seconds: number }, write: Write = writeStdout): Promise<number> {
  return withContainerServices(initSocket, (services) =>
    forEachContainer(
      ids,
      async (id) => {
        await stopContainer(services, id, options.seconds);
        await startContainer(services, id);
      },
      write,
    ),
  );
}

/** Adds `restart` to program. */
export function registerRestart(program: Command, socketOf: SocketOf): void {
  program
    .command("restart")
    .description("stop containers (SIGTERM, SIGKILL after the grace period) and start them again; print each id")
    .argument("<id...>", "the container ids", collectContainerId)
    .option("-t, --time <seconds>", `seconds to wait after SIGTERM before SIGKILL (default: ${DEFAULT_STOP_SECONDS})`, parseStopSeconds, DEFAULT_STOP_SECONDS)
    .action(async (ids: string[], options: { time: number }, command: Command) => {
      process.exitCode = await restartCommand(socketOf(command), ids, { seconds: options.time });
    });
}
