/**
 * The commands that attach to a container process: `moby run` (create the
 * container, start it, stream its output, wait, and exit with its exit
 * code) and `moby exec` (start another process in a running container, the
 * same way). Ctrl-C (SIGINT) or SIGTERM sends SIGTERM to the process and
 * moby keeps waiting; a second one sends SIGKILL. `moby run` interrupted
 * before the container started does not start it (and exits 130).
 *
 * When the reader of moby's stdout goes away (`moby run ... | head -1`),
 * moby stops printing the process's stdout and sends the process SIGPIPE,
 * which is what it would get writing to that pipe itself (its output goes
 * to the runtime, so it does not); then it keeps waiting as above: --rm
 * still removes the container and moby exits with the process's exit code.
 * (docker's CLI dies of SIGPIPE instead and leaves the process running;
 * its --rm is done by the daemon, moby's by moby, so moby must stay.)
 */
import type { ExitStatus } from "@moby-core/container-runtime-api/v1";
import type { Write } from "./commands.js";
import { writeStdout } from "./commands.js";
import { SIGKILL, SIGPIPE, SIGTERM, newExecId } from "./container-args.js";
import type { UserIds } from "./container-args.js";
import type { ContainerServices } from "./container-client.js";
import { withContainerServices } from "./container-client.js";
import { AttachedOutput, copyOutput, processOutput } from "./container-output.js";
import type { Output } from "./container-output.js";
import { createContainer, removeContainer } from "./containers-command.js";
import { CliError } from "./init-client.js";
import type { CreateOptions } from "./containers-command.js";

/** The exit code moby ends with for a process that ended with exit: its exit code, or 128 + the signal. */
export function exitCodeOf(exit: ExitStatus | undefined): number {
  if (exit === undefined) return 0;
  if (exit.exitCode === 0 && exit.signal !== 0) return Math.min(255, 128 + exit.signal);
  return exit.exitCode & 0xff;
}

/** The exit code of a command ended by Ctrl-C before its process started (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/**
 * Counts the SIGINTs and SIGTERMs moby receives while a command runs and
 * passes each to the process it attaches to, once there is one: an
 * interrupt that came before is passed on as soon as it is.
 */
export class Interrupts {
  /** How many interrupts came so far. */
  count = 0;
  private forward: ((count: number) => void) | undefined;
  private readonly onSignal = () => {
    this.count++;
    this.forward?.(this.count);
  };

  constructor() {
    process.on("SIGINT", this.onSignal);
    process.on("SIGTERM", this.onSignal);
  }

  /** From now on, calls forward(count) on each interrupt (count 1 for the first); at once if one came already. */
  forwardTo(forward: (count: number) => void): void {
    this.forward = forward;
    if (this.count > 0) forward(this.count);
  }

  /** Stops listening. */
  dispose(): void {
    this.forward = undefined;
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
  }
}

/** The process to attach to: a task's init process, or one of its exec processes. */
interface Target {
  containerId: string;
  execId?: string;
}

/**
 * Streams the process's output to output until it has exited and its
 * output is drained, waits for its exit status and returns the exit code.
 * Interrupts are forwarded as SIGTERM, then SIGKILL; a gone stdout reader
 * as SIGPIPE (as PID 1 of its namespace, a program without a handler
 * ignores it, and then runs until it ends by itself or Ctrl-C).
 */
async function attach(services: ContainerServices, target: Target, interrupts: Interrupts, output: AttachedOutput): Promise<number> {
  const runtime = await services.runtime();
  const waits = await services.runtimeWaits();
  const execId = target.execId ?? "";
  // A process that has exited meanwhile answers FAILED_PRECONDITION: nothing to do.
  const signal = (signal: number) => void runtime.killTask({ containerId: target.containerId, execId, signal }).catch(() => undefined);
  interrupts.forwardTo((count) => signal(count === 1 ? SIGTERM : SIGKILL));
  output.whenStdoutGone(() => signal(SIGPIPE));
  await copyOutput(runtime, { containerId: target.containerId, execId, follow: true }, output);
  const { exitStatus } = await waits.waitTask({ containerId: target.containerId, execId });
  return exitCodeOf(exitStatus);
}

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
      const id = await createContainer(services, options);
      let code: number;
      try {
        if (interrupts.count > 0) throw new CliError(`interrupted before ${id} started`, EXIT_INTERRUPTED);
        await (await services.runtime()).startTask({ containerId: id });
        if (options.detach) {
          write(`${id}\n`);
          return 0;
        }
        code = await attach(services, { containerId: id }, interrupts, attached);
      } catch (error) {
        if (options.rm) await removeContainer(services, id, true).catch(() => undefined);
        throw error;
      }
      if (options.rm) await removeContainer(services, id, false);
      return code;
    });
  } finally {
    interrupts.dispose();
    attached.dispose();
  }
}

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
}

/**
 * `moby exec ID`: starts the program in the running container under a new
 * exec id, streams its output until it exits, deletes the exec process (so
 * they do not pile up against the runtime's 32 per task) and returns its
 * exit code.
 */
export async function execCommand(initSocket: string, containerId: string, options: ExecOptions, output: Output = processOutput): Promise<number> {
  const interrupts = new Interrupts();
  const attached = new AttachedOutput(output);
  try {
    return await withContainerServices(initSocket, async (services) => {
      const runtime = await services.runtime();
      const execId = newExecId();
      await runtime.execProcess({
        containerId,
        execId,
        args: options.args,
        env: options.env,
        cwd: options.workdir ?? "",
        ...(options.user === undefined ? {} : { user: options.user }),
      });
      try {
        return await attach(services, { containerId, execId }, interrupts, attached);
      } finally {
        await runtime.deleteTask({ containerId, execId }).catch(() => undefined);
      }
    });
  } finally {
    interrupts.dispose();
    attached.dispose();
  }
}
