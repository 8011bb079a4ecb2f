/** `moby component stop NAME...`: SIGTERM, then SIGKILL after the timeout; init does not restart them until asked. */
import type { Command } from "commander";
import { withSupervisor } from "../../init-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { forEachId } from "../shared.js";
import type { SocketOf } from "../shared.js";
import { stopCallTimeout, timeoutField, timeoutOption } from "./stop-timeout.js";

/** Stops the component; returns "stopped NAME". */
export async function stopComponent(socketPath: string, name: string, timeoutMs: number | undefined): Promise<string> {
  await withSupervisor(socketPath, (s) => s.stopComponent({ name, ...timeoutField(timeoutMs) }, { timeoutMs: stopCallTimeout(timeoutMs) }));
  return `stopped ${name}`;
}

/** `moby component stop NAME...`: each in turn; returns the exit code. */
export function stopCommand(socketPath: string, names: string[], options: { timeoutMs?: number }, write: Write = writeStdout): Promise<number> {
  return forEachId(names, (name) => stopComponent(socketPath, name, options.timeoutMs), write);
}

/** Adds `stop` to the component group. */
export function registerComponentStop(group: Command, socketOf: SocketOf): void {
  group
    .command("stop")
    .description("stop components: SIGTERM, then SIGKILL after the timeout; init does not restart them until asked")
    .argument("<name...>", "the components' names in the manifest")
    .addOption(timeoutOption())
    .action(async (names: string[], options: { timeout?: number }, command: Command) => {
      process.exitCode = await stopCommand(socketOf(command), names, options.timeout === undefined ? {} : { timeoutMs: options.timeout });
    });
}
