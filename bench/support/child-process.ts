/**
 * Child processes of the benchmark: servers, client runners, moby-init and
 * its components, bare Node processes. Started with the same Node binary as
 * the benchmark, their output kept (the tail) for error messages, stopped
 * with a signal and, if they linger, SIGKILL.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { socketAccepts, pollUntil } from "./socket-probe.js";

/** The repository root (the parent of bench/). */
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** How much of a child's output is kept for error messages, in characters. */
const OUTPUT_TAIL = 16 * 1024;

/**
 * Node flags for every Node child, from MOBY_BENCH_NODE_FLAGS (split on
 * spaces), e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile servers and
 * client runners under the benchmark's loads (Node refuses --cpu-prof in
 * NODE_OPTIONS).
 */
function nodeFlags(): string[] {
  return (process.env.MOBY_BENCH_NODE_FLAGS ?? "").split(" ").filter((flag) => flag !== "");
}

/** The children started and not yet exited, for stopping them all on Ctrl-C. */
const live = new Set<BenchChild>();

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How to start a child. */
export interface StartOptions {
  /** Arguments after the script. */
  args?: string[];
  /** Extra environment variables. */
  env?: NodeJS.ProcessEnv;
  /** Load the script through tsx (for .ts entries). Default false. */
  tsx?: boolean;
  /** Keep stdout for the caller (the JSON-line channel) instead of the output tail. Default false. */
  ownStdout?: boolean;
  /** Give the child a stdin pipe. Default false. */
  stdin?: boolean;
}

/** A child process started by the benchmark. */
export class BenchChild {
  /** The last OUTPUT_TAIL characters of what the process wrote (stderr, and stdout unless owned). */
  output = "";
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** How the process ended, once it has. */
  exit: Exit | undefined;
  /** The underlying process. */
  readonly process: ChildProcess;

  private constructor(readonly label: string, command: string, argv: string[], options: StartOptions) {
    this.process = spawn(command, argv, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_TAIL);
    };
    this.process.stderr!.on("data", keep);
    if (!options.ownStdout) this.process.stdout!.on("data", keep);
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.process.once("exit", (code, signal) => {
        live.delete(this);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /** Starts `node [--import tsx] script ...args`; script is relative to the repository root or absolute. */
  static node(label: string, script: string, options: StartOptions = {}): BenchChild {
    const argv = [...nodeFlags(), ...(options.tsx ? ["--import", "tsx"] : []), script, ...(options.args ?? [])];
    return new BenchChild(label, process.execPath, argv, options);
  }

  /** Starts command with args (a peer that is not a Node script, such as nats-server). */
  static command(label: string, command: string, options: StartOptions = {}): BenchChild {
    return new BenchChild(label, command, options.args ?? [], options);
  }

  /** Starts `node -e source` with the given extra environment. */
  static eval(label: string, source: string, env: NodeJS.ProcessEnv = {}): BenchChild {
    return new BenchChild(label, process.execPath, ["-e", source], { env });
  }

  /** The process id. */
  get pid(): number {
    return this.process.pid ?? 0;
  }

  /** Why the process can no longer become ready, once it has exited. */
  deadReason(): string | undefined {
    if (this.exit === undefined) return undefined;
    return `${this.label} exited (${this.exit.signal ?? `code ${this.exit.code}`}):\n${this.output}`;
  }

  /** Resolves once something accepts connections on socketPath; rejects if the process exits first. */
  waitForSocket(socketPath: string, options: { intervalMs?: number; timeoutMs?: number } = {}): Promise<void> {
    return pollUntil(`${this.label} on ${socketPath}`, () => socketAccepts(socketPath), {
      intervalMs: options.intervalMs ?? 10,
      timeoutMs: options.timeoutMs ?? 30_000,
      abandon: () => this.deadReason(),
    });
  }

  /** Sends signal, waits for the exit, and SIGKILLs after graceMs. */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 5_000): Promise<Exit> {
    if (this.exit !== undefined) return this.exit;
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill("SIGKILL"), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

/** Stops every child in children, in parallel, ignoring the ones that already exited. */
export async function stopAll(children: Iterable<BenchChild | undefined>, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  await Promise.all([...children].filter((child) => child !== undefined).map((child) => child.stop(signal)));
}

/** Stops every child still running (SIGTERM, then SIGKILL after graceMs): for an interrupted run. */
export async function stopEverything(graceMs = 3_000): Promise<void> {
  await Promise.all([...live].map((child) => child.stop("SIGTERM", graceMs)));
}
