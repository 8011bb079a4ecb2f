/** The component group: `moby component ls|start|stop|restart|logs`, and `moby components` (the list) at the top. */
import type { Command } from "commander";
import type { SocketOf } from "../shared.js";
import { registerComponentLogs } from "./logs.js";
import { registerComponentLs } from "./ls.js";
import { registerComponentRestart } from "./restart.js";
import { registerComponentStart } from "./start.js";
import { registerComponentStop } from "./stop.js";

/** Adds `moby component ...` and `moby components` to program. */
export function addComponentCommands(program: Command, socketOf: SocketOf): void {
  const group = program
    .command("component")
    .description("show and control the components init supervises (ls, start, stop, restart, logs)");
  registerComponentLs(group, "ls", socketOf);
  registerComponentStart(group, socketOf);
  registerComponentStop(group, socketOf);
  registerComponentRestart(group, socketOf);
  registerComponentLogs(group, socketOf);
  registerComponentLs(program, "components", socketOf);
}
