/**
 * `moby run`: creates the container, starts it and, attached, streams its
 * output until it exits and ends with its exit code; -d prints the id once
 * started instead. Interrupted before the container started, it does not
 * start it (and exits 130). See attach.ts for Ctrl-C and a gone stdout.
 */
import type { Command } from "commander";
import { Option } from "commander";
import { EXIT_INTERRUPTED, Interrupts, attach } from "../../attach.js";
import { attachInteractive, checkTerminal } from "../../interactive-attach.js";
import { withContainerServices } from "../../container-client.js";
import { AttachedOutput, processOutput } from "../../container-output.js";
import type { Output } from "../../container-output.js";
import { CliError } from "../../init-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import type { SocketOf } from "../shared.js";
import { RECORD_HELP, addContainerOptions, asRunFailure, createContainer, createOptionsOf } from "./create.js";
import type { ContainerFlags, CreateOptions } from "./create.js";
import { removeContainer } from "./rm.js";

/** What `moby run` runs and how. */
export type RunOptions = CreateOptions & {
  /** Delete the task and the record when the process has exited. */
  rm: boolean;
  /** Print the id once started and return, instead of attaching. */
  detach: boolean;
};

/**
 * `moby run`: creates the container and starts it; detached, prints the id
 * and returns 0; else streams its output until it exits and returns its
 * exit code (with rm, after deleting its task and record; also when
 * something failed on the way, quietly then).
 */
export async function runCommand(initSocket: string, options: RunOptions, output: Output = processOutput, write: Write = writeStdout): Promise<number> {
  const interrupts = new Interrupts();
  const attached = new AttachedOutput(output);
  try {
    return await withContainerServices(initSocket, async (services) => {
      if (!options.detach) checkTerminal(options);
      const id = await createContainer(services, options);
      let code: number;
      try {
        if (interrupts.count > 0) throw new CliError(`interrupted before ${id} started`, EXIT_INTERRUPTED);
        const start = async () => {
          if (interrupts.count > 0) throw new CliError(`interrupted before ${id} started`, EXIT_INTERRUPTED);
          await (await services.runtime()).startTask({ containerId: id });
        };
        if (options.detach) {
          await start();
          write(`${id}\n`);
          return 0;
        }
        if (options.interactive === true || options.tty === true) {
          // Joined before the start, with the kept output, so nothing is missed.
          const attachedCode = await attachInteractive(services, { containerId: id }, { stdin: options.interactive === true, logs: true, onReady: start }, interrupts, attached);
          if (attachedCode === undefined) {
            // Detached with Ctrl-P Ctrl-Q: the container keeps running (and --rm does not apply yet).
            write(`\r\ndetached from ${id}\r\n`);
            return 0;
          }
          code = attachedCode;
        } else {
          await start();
          code = await attach(services, { containerId: id }, interrupts, attached);
        }
      } catch (error) {
        if (options.rm) await removeContainer(services, id, true).catch(() => undefined);
        throw error;
      }
      if (options.rm) await removeContainer(services, id, false);
      return code;
    });
  } catch (error) {
    throw error instanceof CliError ? asRunFailure(error) : error;
  } finally {
    interrupts.dispose();
    attached.dispose();
  }
}

/** Adds `run` to program. */
export function registerRun(program: Command, socketOf: SocketOf): void {
  addContainerOptions(
    program
      .command("run")
      .description("create a container, start it and print its output until it exits; exit with its exit code")
      .addOption(new Option("--rm", "delete the container's task and record once it has exited").conflicts("restart"))
      .addOption(new Option("-d, --detach", "print the id once started and return, instead of printing its output").conflicts("rm")),
  )
    .addHelpText(
      "after",
      `${RECORD_HELP}

Attached, the container's stdout goes to stdout and its stderr to stderr,
and moby exits with its exit code (128 + the signal when a signal ended it);
125 when moby or a component failed, 126 when the command cannot be
executed, 127 when it is not found.
Ctrl-C sends SIGTERM to the container and keeps waiting; a second Ctrl-C
sends SIGKILL. With -i, moby's stdin goes to the container and its end
closes the container's stdin. With -it on a terminal, moby's terminal is in
raw mode until the container exits: every key, Ctrl-C and Ctrl-D included,
goes to the container's terminal, its size follows moby's, and Ctrl-P Ctrl-Q
detaches (the container keeps running; moby attach joins it again). (As PID 1 of its namespace, a program without a handler for
SIGTERM ignores it.) When the reader of moby's stdout goes away
(moby run ... | head -1), moby drops the rest of the container's stdout,
sends it SIGPIPE (ignored the same way) and keeps waiting, as above.

Example: moby run --rm --rootfs ./rootfs -e A=1 -v ./data:/data -- sh -c 'echo $A'`,
    )
    .action(async (args: string[], flags: ContainerFlags & { rm?: boolean; detach?: boolean }, command: Command) => {
      process.exitCode = await runCommand(socketOf(command), { ...createOptionsOf(args, flags), rm: flags.rm === true, detach: flags.detach === true });
    });
}

