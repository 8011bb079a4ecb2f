/** `moby component ls` (and `moby components`): the components init supervises, as a table or JSON. */
import type { Command } from "commander";
import { formatComponentsJson, formatComponentsTable } from "../../components-table.js";
import { listAllComponents, withSupervisor } from "../../init-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import type { OutputFormat, SocketOf } from "../shared.js";
import { addFormatOptions, wantsJson } from "../shared.js";

/** The JSON of `moby component ls --format json`, for the help. */
const JSON_HELP = "an array, one object per component (name, state, health, pid, restarts, uptimeSeconds, socket, requires, message, lastExit, startTime, readyTime)";

/** Every component as a table, or as the documented JSON array with json; with quiet, only their names. */
export async function listComponentsCommand(socketPath: string, options: { json: boolean; quiet?: boolean }, write: Write = writeStdout): Promise<void> {
  const components = await withSupervisor(socketPath, listAllComponents);
  const now = new Date();
  if (options.quiet === true) write(components.map((c) => `${c.name}\n`).join(""));
  else write(options.json ? formatComponentsJson(components, now) : formatComponentsTable(components, now));
}

/** Adds the listing as `name` (ls, or components at the top) to parent. */
export function registerComponentLs(parent: Command, name: string, socketOf: SocketOf): void {
  addFormatOptions(
    parent.command(name).description("list the components init supervises: state, health, pid, restarts, uptime, socket"),
    JSON_HELP,
  )
    .option("-q, --quiet", "print only the components' names")
    .action((options: { format?: OutputFormat; json?: boolean; quiet?: boolean }, command: Command) =>
      listComponentsCommand(socketOf(command), { json: wantsJson(options), quiet: options.quiet === true }),
    );
}
