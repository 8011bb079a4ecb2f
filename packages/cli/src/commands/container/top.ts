/** `moby top ID`: the processes of a running container, as docker top (UID PID PPID STIME TIME CMD, and the exec id of exec processes). */
import type { Command } from "commander";
import { parseContainerId } from "../../container-args.js";
import { withContainerServices } from "../../container-client.js";
import { formatTopJson, formatTopTable } from "../../top-table.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { addFormatOptions, wantsJson } from "../shared.js";
import type { OutputFormat, SocketOf } from "../shared.js";

/** `moby top ID`: the container's processes as a table or JSON. */
export async function topCommand(initSocket: string, id: string, json: boolean, write: Write = writeStdout): Promise<void> {
  const processes = await withContainerServices(initSocket, async (services) => (await (await services.runtime()).listTaskProcesses({ containerId: id })).processes);
  write(json ? formatTopJson(processes) : formatTopTable(processes, new Date()));
}

/** Adds `top` to program. */
export function registerTop(program: Command, socketOf: SocketOf): void {
  addFormatOptions(
    program.command("top").description("list the processes of a running container").argument("<id>", "the container id", parseContainerId),
    "an array, one object per process (pid, ppid, execId, uid, state, startedAt, cpuTime in ns, rss in bytes, args)",
  ).action((id: string, options: { format?: OutputFormat; json?: boolean }, command: Command) => topCommand(socketOf(command), id, wantsJson(options)));
}
