/**
 * Attaching to a container process (`moby run`, `moby exec`): its output
 * streamed until it exits, then its exit code. Ctrl-C (SIGINT) or SIGTERM
 * sends SIGTERM to the process and moby keeps waiting; a second one sends
 * SIGKILL.
 *
 * When the reader of moby's stdout goes away (`moby run ... | head -1`),
 * moby stops printing the process's stdout and sends the process SIGPIPE,
 * which is what it would get writing to that pipe itself (its output goes
 * to the runtime, so it does not); then it keeps waiting as above: --rm
 * still removes the container and moby exits with the process's exit code.
 * (docker's CLI dies of SIGPIPE instead and leaves the process running;
 * its --rm is done by the daemon, moby's by moby, so moby must stay.)
 */
import type { ExitStatus } from "@moby-core/types-api/v1";
import { SIGKILL, SIGPIPE, SIGTERM } from "./container-args.js";
import type { ContainerServices } from "./container-client.js";
import { copyOutput } from "./container-output.js";
import type { AttachedOutput } from "./container-output.js";

/** The exit code moby ends with for a process that ended with exit: its exit code (128 + the signal's number when a signal ended it). */
export function exitCodeOf(exit: ExitStatus | undefined): number {
  if (exit === undefined) return 0;
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
export interface Target {
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
export async function attach(services: ContainerServices, target: Target, interrupts: Interrupts, output: AttachedOutput): Promise<number> {
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

