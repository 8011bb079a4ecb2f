/** `moby component ls` (and `moby components`): the components init supervises, as a table or JSON. */
import type { Command } from "commander";
import { formatComponentsJson, formatComponentsTable } from "../../components-table.js";
import { listAllComponents, withSupervisor } from "../../init-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import type { OutputFormat, SocketOf } from "../shared.js";
import { addFormatOptions, wantsJson, withTemplate } from "../shared.js";
import type { TemplateFormat } from "../../template-format.js";
import { renderTemplate } from "../../template-format.js";
import { TEMPLATE_HEADERS, componentObject } from "../../template-objects.js";

/** The JSON of `moby component ls --format json`, for the help. */
const JSON_HELP = "an array, one object per component (name, state, health, pid, restarts, uptimeSeconds, socket, requires, message, lastExit, startTime, readyTime)";

/** The fields a --format template reads, for the help. */
const TEMPLATE_FIELDS = ".Name .State .Health .Pid .Restarts .Uptime .Socket .Requires .Message";

/** Every component as a table, as the documented JSON array with json, or through template; with quiet, only their names. */
export async function listComponentsCommand(
  socketPath: string,
  options: { json: boolean; quiet?: boolean; template?: TemplateFormat },
  write: Write = writeStdout,
): Promise<void> {
  const components = await withSupervisor(socketPath, listAllComponents);
  const now = new Date();
  if (options.quiet === true) write(components.map((c) => `${c.name}\n`).join(""));
  else if (options.template !== undefined) write(renderTemplate(options.template, components.map((c) => componentObject(c, now)), TEMPLATE_HEADERS));
  else write(options.json ? formatComponentsJson(components, now) : formatComponentsTable(components, now));
}

/** Adds the listing as `name` (ls, or components at the top) to parent. */
export function registerComponentLs(parent: Command, name: string, socketOf: SocketOf): void {
  addFormatOptions(
    parent.command(name).description("list the components init supervises: state, health, pid, restarts, uptime, socket"),
    JSON_HELP,
    TEMPLATE_FIELDS,
  )
    .option("-q, --quiet", "print only the components' names")
    .action((options: { format?: OutputFormat; json?: boolean; quiet?: boolean }, command: Command) =>
      listComponentsCommand(socketOf(command), { json: wantsJson(options), quiet: options.quiet === true, ...withTemplate(options) }),
    );
}
