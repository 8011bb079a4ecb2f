/**
 * The container commands of moby on the command line: create, run, ps,
 * kill, rm and exec, their options and help, wired to the functions that
 * carry them out (containers-command.ts, run-command.ts). `moby logs`,
 * shared with components, is in main.ts.
 */
import { Command, Option } from "commander";
import { SIGKILL, collectEnv, collectLabel, parseContainerId, parseSignal, parseUser, parseWorkdir } from "./container-args.js";
import type { UserIds } from "./container-args.js";
import { createCommand, killCommand, psCommand, rmCommand } from "./containers-command.js";
import type { CreateOptions } from "./containers-command.js";
import { execCommand, runCommand } from "./run-command.js";

/** The usage-error hint of the commands that take a command line. */
const DASH_DASH_HINT = "(put -- before the command when it has options of its own, e.g. moby run --rootfs DIR -- sh -c 'echo hello'; run moby --help for usage)";

/** The options `moby create` and `moby run` share, as commander hands them over. */
interface ContainerFlags {
  rootfs: string;
  name?: string;
  env?: string[];
  workdir?: string;
  user?: UserIds;
  label?: Record<string, string>;
}

/** The options of create and run: what to run, where, as whom, with which labels. */
function addContainerOptions(command: Command): Command {
  return command
    .showHelpAfterError(DASH_DASH_HINT)
    .requiredOption("--rootfs <dir>", "the root filesystem: a directory on this node (made absolute), used in place")
    .option("--name <id>", 'the container id (letters, digits and single "._-" between them; default: c- and 8 random hex digits)', parseContainerId)
    .option("-e, --env <KEY=VALUE>", "set an environment variable (repeat; PATH and TERM have defaults)", collectEnv)
    .option("-w, --workdir <dir>", "the working directory inside the container (default: /)", parseWorkdir)
    .option("-u, --user <uid[:gid]>", "run as this numeric user and group (default: 0:0; gid default 0)", parseUser)
    .option("-l, --label <KEY=VALUE>", "set a label on the container record (repeat)", collectLabel)
    .argument("<command...>", "the program to run and its arguments; put -- before it when it has options of its own");
}

/** The create options of a command line. */
function createOptionsOf(args: string[], flags: ContainerFlags): CreateOptions {
  return {
    rootfs: flags.rootfs,
    args,
    env: flags.env ?? [],
    labels: flags.label ?? {},
    ...(flags.name === undefined ? {} : { id: flags.name }),
    ...(flags.workdir === undefined ? {} : { workdir: flags.workdir }),
    ...(flags.user === undefined ? {} : { user: flags.user }),
  };
}

/** What the record of `moby create` and `moby run` holds, for their help. */
const RECORD_HELP = `
The container record (moby.container.store.v1) gets: the id; a default OCI
spec (own pid, ipc, uts, mount and network namespaces, no terminal) running
<command> in the rootfs, packed as type.googleapis.com/moby.container.runtime.v1.OciSpec;
runtime "runc"; image "" (the spec names the rootfs); the labels.`;

/** Adds create, run, ps, kill, rm and exec to program; socketOf gives init's socket for a command being run. */
export function addContainerCommands(program: Command, socketOf: (command: Command) => string): void {
  addContainerOptions(
    program
      .command("create")
      .description("store a container record and create its task (not started); print its id"),
  )
    .addHelpText("after", RECORD_HELP)
    .action((args: string[], flags: ContainerFlags, command: Command) => createCommand(socketOf(command), createOptionsOf(args, flags)));

  addContainerOptions(
    program
      .command("run")
      .description("create a container, start it and print its output until it exits; exit with its exit code")
      .option("--rm", "delete the container's task and record once it has exited")
      .addOption(new Option("-d, --detach", "print the id once started and return, instead of printing its output").conflicts("rm")),
  )
    .addHelpText(
      "after",
      `${RECORD_HELP}

Attached, the container's stdout goes to stdout and its stderr to stderr,
and moby exits with its exit code (128 + the signal when a signal ended it).
Ctrl-C sends SIGTERM to the container and keeps waiting; a second Ctrl-C
sends SIGKILL. (As PID 1 of its namespace, a program without a handler for
SIGTERM ignores it.) When the reader of moby's stdout goes away
(moby run ... | head -1), moby drops the rest of the container's stdout,
sends it SIGPIPE (ignored the same way) and keeps waiting, as above.

Example: moby run --rm --rootfs ./rootfs -- sh -c 'echo hello'`,
    )
    .action(async (args: string[], flags: ContainerFlags & { rm?: boolean; detach?: boolean }, command: Command) => {
      process.exitCode = await runCommand(socketOf(command), { ...createOptionsOf(args, flags), rm: flags.rm === true, detach: flags.detach === true });
    });

  program
    .command("ps")
    .description("list the containers that have a task: ID, STATUS, PID, EXIT, CREATED, COMMAND")
    .option("-a, --all", "also list the stored containers that have no task (STATUS -)")
    .option(
      "--json",
      "print a JSON array, one object per container (id, status, pid, exitCode, signal, command, image, labels, runtime, createdAt, startedAt, exitedAt, execs)",
    )
    .action((options: { all?: boolean; json?: boolean }, command: Command) =>
      psCommand(socketOf(command), { all: options.all === true, json: options.json === true }),
    );

  program
    .command("kill")
    .description("send a signal to a container's process; print its id")
    .argument("<id>", "the container id", parseContainerId)
    .option("-s, --signal <signal>", "the signal: a name (TERM, SIGKILL, HUP) or a number from 1 to 64 (default: SIGKILL, as docker kill)", parseSignal, SIGKILL)
    .option("--all", "send it to every process of the container, not only its main one")
    .action((id: string, options: { signal: number; all?: boolean }, command: Command) =>
      killCommand(socketOf(command), id, { signal: options.signal, all: options.all === true }),
    );

  program
    .command("rm")
    .description("delete a container: its task (which must have exited, unless -f) and its record; print its id")
    .argument("<id>", "the container id", parseContainerId)
    .option("-f, --force", "kill a running container with SIGKILL and wait for it first")
    .action((id: string, options: { force?: boolean }, command: Command) => rmCommand(socketOf(command), id, { force: options.force === true }));

  program
    .command("exec")
    .description("run another program in a running container, print its output and exit with its exit code")
    .showHelpAfterError(DASH_DASH_HINT)
    .argument("<id>", "the container id", parseContainerId)
    .argument("<command...>", "the program to run and its arguments; put -- before it when it has options of its own")
    .option("-e, --env <KEY=VALUE>", "set an environment variable (repeat; replaces the container's of the same name)", collectEnv)
    .option("-w, --workdir <dir>", "the working directory (default: the container's)", parseWorkdir)
    .option("-u, --user <uid[:gid]>", "run as this numeric user and group (default: the container's; gid default 0)", parseUser)
    .addHelpText("after", "\nCtrl-C sends SIGTERM to the program and keeps waiting; a second Ctrl-C sends SIGKILL.\nWhen the reader of moby's stdout goes away, moby drops the rest of its stdout, sends it SIGPIPE and keeps waiting.\nExample: moby exec c-1a2b3c4d -- sh -c 'echo hello'")
    .action(async (id: string, args: string[], options: { env?: string[]; workdir?: string; user?: UserIds }, command: Command) => {
      process.exitCode = await execCommand(socketOf(command), id, {
        args,
        env: options.env ?? [],
        ...(options.workdir === undefined ? {} : { workdir: options.workdir }),
        ...(options.user === undefined ? {} : { user: options.user }),
      });
    });

}
