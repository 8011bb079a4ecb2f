/** The container commands, at the top of moby as docker's: create, run, start, stop, restart, kill, rm, ps, logs, exec, attach, wait, inspect, stats, top, update. */
import type { Command } from "commander";
import type { SocketOf } from "../shared.js";
import { registerAttach } from "./attach.js";
import { registerCreate } from "./create.js";
import { registerExec } from "./exec.js";
import { registerInspect } from "./inspect.js";
import { registerKill } from "./kill.js";
import { registerLogs } from "./logs.js";
import { registerPs } from "./ps.js";
import { registerRestart } from "./restart.js";
import { registerRm } from "./rm.js";
import { registerRun } from "./run.js";
import { registerStart } from "./start.js";
import { registerStats } from "./stats.js";
import { registerStop } from "./stop.js";
import { registerTop } from "./top.js";
import { registerUpdate } from "./update.js";
import { registerWait } from "./wait.js";

/** Adds the container commands to program. */
export function addContainerCommands(program: Command, socketOf: SocketOf): void {
  for (const register of [registerCreate, registerRun, registerStart, registerStop, registerRestart, registerKill, registerRm, registerPs, registerLogs, registerExec, registerAttach, registerWait, registerInspect, registerStats, registerTop, registerUpdate]) {
    register(program, socketOf);
  }
}
