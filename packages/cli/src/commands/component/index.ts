/** The component group: `moby component ls|start|stop|restart|logs`, and `moby components` (the list) at the top. */
import type { Command } from "commander";
import { CliError } from "../../init-client.js";
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
    .description("show and control the components init supervises (ls, start, stop, restart, logs)")
    .argument("[command]", "ls, start, stop, restart or logs")
    // Without a subcommand: the group's help, exit 0 (as `docker container`); an unknown one is a usage error naming it.
    .action((unknown: string | undefined) => {
      if (unknown === undefined) group.help();
      throw new CliError(`unknown command "component ${unknown}": the component commands are ls, start, stop, restart, logs (moby component --help)`);
    });
  registerComponentLs(group, "ls", socketOf);
  registerComponentStart(group, socketOf);
  registerComponentStop(group, socketOf);
  registerComponentRestart(group, socketOf);
  registerComponentLogs(group, socketOf);
  registerComponentLs(program, "components", socketOf);
}
