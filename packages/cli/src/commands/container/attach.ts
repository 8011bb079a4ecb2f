/**
 * `moby attach ID`: joins a running container's init process, as `docker
 * attach` does: its output from now on, moby's stdin to it when its stdin
 * is open (created with -i), moby's terminal in raw mode when it runs on a
 * terminal (created with -t), until it exits; then moby exits with its exit
 * code. Ctrl-P Ctrl-Q detaches (with a terminal) and leaves it running.
 */
import type { Command } from "commander";
import { Interrupts } from "../../attach.js";
import { parseContainerId } from "../../container-args.js";
import { withContainerServices } from "../../container-client.js";
import { AttachedOutput, processOutput } from "../../container-output.js";
import type { Output } from "../../container-output.js";
import { attachInteractive } from "../../interactive-attach.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import type { SocketOf } from "../shared.js";

/** How `moby attach` joins. */
export interface AttachOptions {
  /** Send moby's stdin to the container (default true; --no-stdin false). */
  stdin: boolean;
}

/** `moby attach ID`: the container's exit code, or 0 when detached. */
export async function attachCommand(initSocket: string, containerId: string, options: AttachOptions, output: Output = processOutput, write: Write = writeStdout): Promise<number> {
  const interrupts = new Interrupts();
  const attached = new AttachedOutput(output);
  try {
    return await withContainerServices(initSocket, async (services) => {
      const code = await attachInteractive(services, { containerId }, { stdin: options.stdin, logs: false }, interrupts, attached);
      if (code !== undefined) return code;
      write(`\r\ndetached from ${containerId}\r\n`);
      return 0;
    });
  } finally {
    interrupts.dispose();
    attached.dispose();
  }
}

/** Adds `attach` to program. */
export function registerAttach(program: Command, socketOf: SocketOf): void {
  program
    .command("attach")
    .description("join a running container: its output, your input (when it was created with -i), until it exits")
    .argument("<id>", "the container id", parseContainerId)
    .option("--no-stdin", "do not send moby's stdin to the container")
    .addHelpText(
      "after",
      `
Several moby attach (and moby logs -f) may join one container: each gets
all of its output. Input from several is interleaved as it comes.
With a terminal (created with -t), moby's terminal is in raw mode: every
key goes to the container, and Ctrl-P Ctrl-Q detaches, leaving it running.
Without one, Ctrl-C sends SIGTERM to the container (a second one SIGKILL),
and the end of moby's stdin closes the container's stdin.
Exit code: the container's, once it exits; 0 when detached.
Example: moby run -d -it --name box --rootfs ./rootfs -- sh && moby attach box`,
    )
    .action(async (id: string, options: { stdin: boolean }, command: Command) => {
      process.exitCode = await attachCommand(socketOf(command), id, { stdin: options.stdin });
    });
}
