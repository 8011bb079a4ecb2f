/**
 * One run of a component's program: started in a process group of its own,
 * its output read line by line, stopped with SIGTERM then SIGKILL. It gets
 * init's pipe as file descriptor 3 ($MOBY_INIT_PIPE_FD): init never writes
 * to it, and the kernel closes init's end when init ends, however it ends,
 * so the component reads end-of-file once its init is gone.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Readable } from "node:stream";
import { ENV_INIT_PIPE_FD } from "@moby-core/sdk/internal";
import { createInterface } from "node:readline";

/** How a process ended. */
export interface ProcessExit {
  /** The exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, or null. */
  signal: NodeJS.Signals | null;
  /** When init saw it end. */
  time: Date;
  /** Why it could not be started, when it could not. */
  error?: string;
}

/** Says what could not be spawned and why, for a person: the program or the working directory, and the errno. */
export function spawnFailure(error: NodeJS.ErrnoException, program: string, cwd: string): string {
  const name = JSON.stringify(program);
  switch (error.code) {
    case "ENOENT":
      if (!existsSync(cwd)) return `the working directory ${cwd} does not exist (ENOENT)`;
      return program.includes("/")
        ? `${name} was not found (ENOENT; a relative path is taken from the working directory ${cwd})`
        : `${name} was not found on PATH (ENOENT)`;
    case "EACCES":
      return `${name} cannot be executed: permission denied (EACCES); is it a file with execute permission?`;
    default:
      return `${name} could not be spawned: ${error.message}`;
  }
}

/** Told of a signal that could not be sent to a process group for a reason other than the group being gone. */
export type SignalErrorHandler = (error: NodeJS.ErrnoException, signal: NodeJS.Signals, pid: number) => void;

/** The file descriptor of init's pipe in every component, as $MOBY_INIT_PIPE_FD says. */
export const INIT_PIPE_FD = 3;

/**
 * How a process that is not reached through its process group is signalled
 * and cleaned up: a contained component, whose runc run is the child but
 * whose program runs in a pid namespace of its own (runc kill and runc
 * delete reach it).
 */
export interface ProcessControl {
  /** Sends signal to the program; never throws. */
  signal(signal: NodeJS.Signals): void;
  /** Removes what is left once the child has exited (the container); never throws. */
  cleanup(): void;
}

/** A started component process. */
export class ManagedProcess {
  /** The process id (the process group id too). */
  readonly pid: number;
  /** Resolves once the process has ended. */
  readonly exited: Promise<ProcessExit>;
  private ended = false;

  private constructor(
    pid: number,
    exited: Promise<ProcessExit>,
    private readonly onSignalError: SignalErrorHandler,
    private readonly control: ProcessControl | undefined,
  ) {
    this.pid = pid;
    this.exited = exited.then((exit) => {
      this.ended = true;
      return exit;
    });
  }

  /**
   * Starts command in cwd with env, in a new process group so that stopping
   * it reaches every process it started. Each output line goes to onLine; a
   * signal that cannot be sent (other than to a group that is gone) goes to
   * onSignalError instead of being thrown. env gets $MOBY_INIT_PIPE_FD.
   */
  static start(
    command: string[],
    cwd: string,
    env: NodeJS.ProcessEnv,
    onLine: (stream: "stdout" | "stderr", text: string, pid: number) => void,
    onSignalError: SignalErrorHandler,
    control?: ProcessControl,
  ): ManagedProcess {
    const [program, ...args] = command;
    const child = spawn(program!, args, {
      cwd,
      env: { ...env, [ENV_INIT_PIPE_FD]: String(INIT_PIPE_FD) },
      detached: true,
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    // Init's end of the pipe: nothing is expected on it, and what a component writes there is dropped so it never blocks.
    const pipe = child.stdio[INIT_PIPE_FD] as Readable | null;
    pipe?.on("error", () => {}).resume();
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once("error", (error) => resolve({ code: null, signal: null, time: new Date(), error: spawnFailure(error, program!, cwd) }));
      child.once("exit", (code, signal) => resolve({ code, signal, time: new Date() }));
    }).finally(() => pipe?.destroy());
    const pid = child.pid ?? 0;
    for (const stream of ["stdout", "stderr"] as const) {
      createInterface({ input: child[stream]!, crlfDelay: Infinity }).on("line", (text) => onLine(stream, text, pid));
    }
    return new ManagedProcess(pid, exited, onSignalError, control);
  }

  /** Sends signal to the process group while its leader runs. */
  signal(signal: NodeJS.Signals): void {
    if (this.ended) return;
    if (this.control !== undefined) {
      this.control.signal(signal);
      // runc run cannot forward SIGKILL: once the program is killed it ends too, but make sure.
      if (signal === "SIGKILL") this.signalGroup(signal);
    } else this.signalGroup(signal);
  }

  /** Kills whatever is left of the process group once the leader has exited (and removes its container). */
  killStragglers(): void {
    this.signalGroup("SIGKILL");
    this.control?.cleanup();
  }

  /**
   * Sends signal to the process group; a group that is gone already is fine,
   * and any other failure (EPERM) goes to onSignalError: it never throws, as
   * it runs in the exit and stop paths that must finish for init to carry on.
   */
  private signalGroup(signal: NodeJS.Signals): void {
    if (this.pid === 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch (error) {
      const failure = error as NodeJS.ErrnoException;
      if (failure.code !== "ESRCH") this.onSignalError(failure, signal, this.pid);
    }
  }

  /** SIGTERM, then SIGKILL after timeoutMs; resolves with how the process ended. */
  async stop(timeoutMs: number): Promise<ProcessExit> {
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    this.killStragglers();
    return exit;
  }
}
