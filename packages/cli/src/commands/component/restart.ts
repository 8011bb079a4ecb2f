/** `moby component restart NAME...`: stop and start again. */
import type { Command } from "commander";
import { withSupervisor } from "../../init-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { forEachId } from "../shared.js";
import type { SocketOf } from "../shared.js";
import { processNote } from "./start.js";
import { stopCallTimeout, timeoutField, timeoutOption } from "./stop-timeout.js";

/** Restarts the component; returns "restarted NAME (pid N)". */
export async function restartComponent(socketPath: string, name: string, timeoutMs: number | undefined): Promise<string> {
  const { component } = await withSupervisor(socketPath, (s) =>
    s.restartComponent({ name, ...timeoutField(timeoutMs) }, { timeoutMs: stopCallTimeout(timeoutMs) }),
  );
  return `restarted ${name}${processNote(component)}`;
}

/** `moby component restart NAME...`: each in turn; returns the exit code. */
export function restartCommand(socketPath: string, names: string[], options: { timeoutMs?: number }, write: Write = writeStdout): Promise<number> {
  return forEachId(names, (name) => restartComponent(socketPath, name, options.timeoutMs), write);
}

/** Adds `restart` to the component group. */
export function registerComponentRestart(group: Command, socketOf: SocketOf): void {
  group
    .command("restart")
    .description("stop components and start them again")
    .argument("<name...>", "the components' names in the manifest")
    .addOption(timeoutOption())
    .action(async (names: string[], options: { timeout?: number }, command: Command) => {
      process.exitCode = await restartCommand(socketOf(command), names, options.timeout === undefined ? {} : { timeoutMs: options.timeout });
    });
}
