/**
 * A child process a test owns. It runs under `setpriv --pdeathsig KILL`, so
 * the kernel kills it when the test process dies, even by kill -9; a binary
 * that is not installed fails the start with a message naming it instead of
 * an uncaught 'error'; and stop() ends it by its pid (its process group when
 * it leads one): the signal, SIGCONT so that a paused (SIGSTOP) process acts
 * on it, and SIGKILL once a grace period has passed.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How long stop() waits after its signal before it sends SIGKILL, in ms (longer than init's default stopTimeout of 10 s). */
export const STOP_GRACE_MS = 30_000;

/** The setpriv binary (util-linux) that sets the parent-death signal before it executes the command. */
const SETPRIV = "/usr/bin/setpriv";

/** How to start an owned process. */
export interface OwnedProcessOptions {
  cwd?: string;
  /** The whole environment of the child (default: the test's). */
  env?: NodeJS.ProcessEnv;
  /** Give the child a stdin pipe (default: none). */
  stdin?: boolean;
  /** Make the child the leader of a new process group, which stop() and signal() then address as a whole. */
  group?: boolean;
}

/**
 * The path of command: itself when it names a file, else the first
 * executable match on PATH; throws naming command when there is none.
 */
export function resolveBinary(command: string, path = process.env.PATH ?? ""): string {
  const candidates = command.includes("/") ? [command] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error(`cannot start ${command}: ${command.includes("/") ? "no executable file there" : "not found on PATH"} (is it installed?)`);
}

/** A child process started by a test and ended with it. */
export class OwnedProcess {
  /** Everything the process wrote to stdout and stderr so far (and why it could not start, if it could not). */
  output = "";
  /** Resolves when the process has exited, or could not be started. */
  readonly exited: Promise<Exit>;
  /** The process as Node sees it (its stdin when asked for, its streams). */
  readonly child: ChildProcess;
  private ended: Exit | undefined;

  /** Starts command (a path, or a name looked up on PATH) with args; throws naming command when it is not installed. */
  constructor(
    readonly command: string,
    args: string[],
    private readonly options: OwnedProcessOptions = {},
  ) {
    const binary = resolveBinary(command, options.env?.PATH ?? process.env.PATH);
    this.child = spawn(SETPRIV, ["--pdeathsig", "KILL", binary, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: options.group ?? false,
      stdio: [options.stdin === true ? "pipe" : "ignore", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => {
      this.child.once("error", (error) => {
        this.output += `\ncannot start ${command} (through ${SETPRIV}): ${error.message}\n`;
        this.ended ??= { code: null, signal: null };
        resolve(this.ended);
      });
      this.child.once("exit", (code, signal) => {
        this.ended ??= { code, signal };
        resolve(this.ended);
      });
    });
  }

  /** The process id (setpriv executes the command in place, so this is the command's pid); undefined when it could not start. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process runs (started and not yet exited). */
  get running(): boolean {
    return this.ended === undefined && this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends signal to the process (to its group when it leads one) while it runs. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(this.options.group === true ? -this.child.pid! : this.child.pid!, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  }

  /**
   * Sends signal (and SIGCONT, for a paused process), waits up to graceMs for
   * the process to exit, then SIGKILLs it (its group when it leads one);
   * resolves with how it exited.
   */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = STOP_GRACE_MS): Promise<Exit> {
    this.signal(signal);
    if (signal !== "SIGKILL" && signal !== "SIGCONT") this.signal("SIGCONT");
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), graceMs)));
    try {
      if ((await Promise.race([this.exited, late])) === "late") this.signal("SIGKILL");
    } finally {
      clearTimeout(timer);
    }
    const exit = await this.exited;
    // The group may outlive its leader: end what is left of it too.
    if (this.options.group === true && this.child.pid !== undefined) killGroup(this.child.pid);
    return exit;
  }
}

/** SIGKILLs the process group pgid, if any of it is left. */
function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}
