/**
 * `moby exec ID -- CMD...`: another program in a running container, its
 * output streamed until it exits, its exit code moby's (126 or 127 when it
 * cannot be executed or is not found). See attach.ts for Ctrl-C.
 */
import type { Command } from "commander";
import { Interrupts, attach } from "../../attach.js";
import { attachInteractive, checkTerminal } from "../../interactive-attach.js";
import { collectEnv, newExecId, parseContainerId, parseUser, parseWorkdir } from "../../container-args.js";
import type { UserIds } from "../../container-args.js";
import { withContainerServices } from "../../container-client.js";
import { CliError } from "../../init-client.js";
import { AttachedOutput, processOutput } from "../../container-output.js";
import type { Output } from "../../container-output.js";
import type { SocketOf } from "../shared.js";
import { DASH_DASH_HINT } from "./create.js";

/** What `moby exec` runs in a container. */
export interface ExecOptions {
  /** The program and its arguments. */
  args: string[];
  /** "NAME=VALUE" entries replacing the spec's of the same NAME. */
  env: string[];
  /** The working directory; default the spec's. */
  workdir?: string;
  /** The user; default the spec's. */
  user?: UserIds;
  /** Keep the program's stdin open, fed by moby's (-i). */
  interactive?: boolean;
  /** Run the program on a pseudo-terminal of its own (-t). */
  tty?: boolean;
  /** Start the program and return at once (-d): it keeps running, its output kept, its exit recorded. */
  detach?: boolean;
}

/**
 * `moby exec ID`: starts the program in the running container under a new
 * exec id, streams its output until it exits, deletes the exec process (so
 * they do not pile up against the runtime's 32 per task) and returns its
 * exit code. With detach, returns 0 once the program started, printing
 * nothing (as docker exec -d): the exec process is kept, so that its exit
 * is recorded (moby inspect lists it under the task's execs) until the
 * container is removed.
 */
export async function execCommand(initSocket: string, containerId: string, options: ExecOptions, output: Output = processOutput): Promise<number> {
  const interrupts = new Interrupts();
  const attached = new AttachedOutput(output);
  try {
    return await withContainerServices(initSocket, async (services) => {
      if (options.detach !== true) checkTerminal(options);
      const runtime = await services.runtime();
      const execId = newExecId();
      const interactive = options.interactive === true || options.tty === true;
      const detach = options.detach === true;
      await runtime.execProcess({
        terminal: options.tty === true,
        // Nobody feeds a detached program's stdin: it gets an empty one, as docker's.
        stdin: options.interactive === true && !detach,
        containerId,
        execId,
        args: options.args,
        env: options.env,
        cwd: options.workdir ?? "",
        ...(options.user === undefined ? {} : { user: options.user }),
      });
      if (detach) return 0;
      if (!interactive) {
        try {
          return await attach(services, { containerId, execId }, interrupts, attached);
        } finally {
          await runtime.deleteTask({ containerId, execId }).catch(() => undefined);
        }
      }
      // The process started before moby joined it: its kept output first.
      const code = await attachInteractive(services, { containerId, execId }, { stdin: options.interactive === true, logs: true }, interrupts, attached);
      // Detached (Ctrl-P Ctrl-Q): the exec process keeps running, and is kept.
      if (code === undefined) return 0;
      await runtime.deleteTask({ containerId, execId }).catch(() => undefined);
      return code;
    });
  } finally {
    interrupts.dispose();
    attached.dispose();
  }
}

/** Adds `exec` to program. */
export function registerExec(program: Command, socketOf: SocketOf): void {
  program
    .command("exec")
    .description("run another program in a running container, print its output and exit with its exit code")
    .showHelpAfterError(DASH_DASH_HINT)
    // As docker's: options after the container id are the command's own.
    .passThroughOptions()
    .argument("<id>", "the container id", parseContainerId)
    .argument("<command...>", "the program to run and its arguments; options after the container id are the program's own")
    .option("-e, --env <KEY=VALUE>", "set an environment variable (repeat; replaces the container's of the same name)", collectEnv)
    .option("-w, --workdir <dir>", "the working directory (default: the container's)", parseWorkdir)
    .option("-u, --user <user[:group]>", "run as this user and group: NAME, UID, NAME:GROUP or UID:GID, names from the container's /etc/passwd and /etc/group (default: the container's; without a group: the user's primary group from /etc/passwd, 0 for a UID it does not have)", parseUser)
    .option("-i, --interactive", "keep the program's stdin open: moby's stdin goes to it")
    .option("-t, --tty", "run the program on a pseudo-terminal of its own (with -i: an interactive shell, as docker exec -it)")
    .option("-d, --detach", "start the program and return at once, printing nothing; it keeps running, its output kept (moby logs shows the container's own), its exit recorded in the task's execs")
    .addHelpText(
      "after",
      "\nExit code: the program's (with -d: 0 once it started); 126 when it cannot be executed, 127 when it is not found, 1 when the container is not running, 125 when moby or a component failed or -u names a user or group the container does not have.\nCtrl-C sends SIGTERM to the program and keeps waiting; a second Ctrl-C sends SIGKILL.\nWhen the reader of moby's stdout goes away, moby drops the rest of its stdout, sends it SIGPIPE and keeps waiting.\nExample: moby exec c-1a2b3c4d sh -c 'echo hello'",
    )
    .action(async (id: string, given: string[], options: { env?: string[]; workdir?: string; user?: UserIds; interactive?: boolean; tty?: boolean; detach?: boolean }, command: Command) => {
      // "exec ID -- CMD": the -- that used to be needed before a command with options of its own is still taken.
      const args = given[0] === "--" ? given.slice(1) : given;
      if (args.length === 0) throw new CliError("exec: give the program to run after the container id");
      process.exitCode = await execCommand(socketOf(command), id, {
        args,
        interactive: options.interactive === true,
        tty: options.tty === true,
        detach: options.detach === true,
        env: options.env ?? [],
        ...(options.workdir === undefined ? {} : { workdir: options.workdir }),
        ...(options.user === undefined ? {} : { user: options.user }),
      });
    });
}
