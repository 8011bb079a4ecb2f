/** `moby component start NAME...`: starts stopped or failed components. */
import type { Command } from "commander";
import type { Component } from "@moby-core/supervisor-api/v1";
import { stateWord } from "../../components-table.js";
import { withSupervisor } from "../../init-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { forEachId } from "../shared.js";
import type { SocketOf } from "../shared.js";

/** "(pid 1234)", or the state when no process runs. */
export function processNote(component: Component | undefined): string {
  if (component === undefined) return "";
  return component.pid !== 0 ? ` (pid ${component.pid})` : ` (${stateWord(component.state)})`;
}

/** Starts the component (and resets its start limit); returns "started NAME (pid N)". */
export async function startComponent(socketPath: string, name: string): Promise<string> {
  const { component } = await withSupervisor(socketPath, (s) => s.startComponent({ name }));
  return `started ${name}${processNote(component)}`;
}

/** `moby component start NAME...`: each in turn; returns the exit code. */
export function startCommand(socketPath: string, names: string[], write: Write = writeStdout): Promise<number> {
  return forEachId(names, (name) => startComponent(socketPath, name), write);
}

/** Adds `start` to the component group. */
export function registerComponentStart(group: Command, socketOf: SocketOf): void {
  group
    .command("start")
    .description("start stopped or failed components (and reset their start limit)")
    .argument("<name...>", "the components' names in the manifest")
    .action(async (names: string[], _options: object, command: Command) => {
      process.exitCode = await startCommand(socketOf(command), names);
    });
}
