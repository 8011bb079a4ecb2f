/**
 * runc, run as a command with the runtime's own state root (--root), so its
 * containers never mix with those of another runc user on the node. A failed
 * command is FAILED_PRECONDITION carrying runc's error message; a runc that
 * does not answer in time (hung, for example on a frozen cgroup) is killed
 * and is DEADLINE_EXCEEDED; a runc killed by a signal from elsewhere is
 * UNAVAILABLE.
 */
import { execFile } from "node:child_process";
import type { ExecFileException } from "node:child_process";
import { Code } from "@connectrpc/connect";
import { ComponentError, FailedPreconditionError, UnavailableError } from "@moby-core/sdk";

/** How long one runc command may take before it is killed, by default, in ms. */
export const DEFAULT_RUNC_TIMEOUT_MS = 60_000;
/** The most output one runc command may print, in bytes. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** runc did not finish within its time and was killed (DEADLINE_EXCEEDED). */
export class RuncTimeoutError extends ComponentError {
  constructor(message: string) {
    super(Code.DeadlineExceeded, message);
  }
}

/** The status runc reports for a container. */
export type RuncStatus = "created" | "running" | "pausing" | "paused" | "stopped";

/** What `runc state` and `runc list` tell about a container. */
export interface RuncState {
  id: string;
  pid: number;
  status: RuncStatus;
  bundle: string;
}

/** The outcome of one runc command. */
interface RuncResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The text of a runc error: its last non-empty stderr line, without the "time=... level=error msg=" framing. */
export function runcMessage(stderr: string): string {
  const lines = stderr.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  const last = lines.at(-1) ?? "";
  try {
    const parsed = JSON.parse(last) as { msg?: unknown };
    if (typeof parsed.msg === "string") return parsed.msg;
  } catch {
    // plain text
  }
  const framed = /msg="((?:[^"\\]|\\.)*)"/.exec(last);
  if (framed !== null) return framed[1]!.replace(/\\(.)/g, "$1");
  return last;
}

/** A duration in ms as seconds for messages, for example "60 s" or "0.2 s". */
function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** Tells whether runc said the container does not exist. */
function notExist(stderr: string): boolean {
  return /does not exist|not found/i.test(stderr);
}

/** runc with one state root. */
export class Runc {
  constructor(
    readonly path: string,
    readonly root: string,
    /** How long one command may take before it is killed, in ms. */
    readonly timeoutMs = DEFAULT_RUNC_TIMEOUT_MS,
  ) {}

  /**
   * Runs runc with args; resolves with its outcome (never rejects for a
   * non-zero exit). Rejects with RuncTimeoutError when runc does not finish
   * within timeoutMs (it is killed with SIGKILL, and the promise settles then
   * even if runc cannot die at once), UNAVAILABLE when runc was killed by a
   * signal from elsewhere, FAILED_PRECONDITION when runc cannot be run.
   */
  run(args: string[], timeoutMs = this.timeoutMs): Promise<RuncResult> {
    const command = `${this.path} --root ${this.root} ${args.join(" ")}`;
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        finish();
      };
      const child = execFile(this.path, ["--root", this.root, ...args], { maxBuffer: MAX_OUTPUT_BYTES }, (error, stdout, stderr) => {
        settle(() => {
          if (!error) return resolve({ code: 0, stdout, stderr });
          const failure = error as ExecFileException;
          if (typeof failure.code === "number") return resolve({ code: failure.code, stdout, stderr });
          if (failure.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER") {
            return reject(new FailedPreconditionError(`runc ${args[0]} printed more than ${MAX_OUTPUT_BYTES} bytes and was stopped (${command})`));
          }
          if (typeof failure.signal === "string") {
            return reject(new UnavailableError(`runc ${args[0]} was killed by ${failure.signal} before it finished (${command})`));
          }
          reject(new FailedPreconditionError(`cannot run ${this.path}: ${error.message}`));
        });
      });
      // A timer of its own rather than execFile's timeout: the call ends at the
      // deadline even when runc cannot be killed at once or left a process
      // holding its output open.
      const timer = setTimeout(() => {
        settle(() => {
          child.kill("SIGKILL");
          reject(new RuncTimeoutError(`runc ${args[0]} did not answer within ${formatSeconds(timeoutMs)} and was killed (${command}); runc may be hung, for example on a frozen cgroup`));
        });
      }, timeoutMs);
    });
  }

  /** Runs runc and fails with FAILED_PRECONDITION and runc's message when it fails. */
  private async must(args: string[]): Promise<RuncResult> {
    const result = await this.run(args);
    if (result.code !== 0) {
      throw new FailedPreconditionError(`runc ${args[0]} failed: ${runcMessage(result.stderr) || `exit status ${result.code}`}`);
    }
    return result;
  }

  /** The state of a container, or undefined when runc has no such container. */
  async state(id: string): Promise<RuncState | undefined> {
    const result = await this.run(["state", id]);
    if (result.code !== 0) {
      if (notExist(result.stderr)) return undefined;
      throw new FailedPreconditionError(`runc state failed: ${runcMessage(result.stderr)}`);
    }
    return JSON.parse(result.stdout) as RuncState;
  }

  /** The state of every container in the root, by id. */
  async list(): Promise<Map<string, RuncState>> {
    const result = await this.must(["list", "--format", "json"]);
    const parsed = JSON.parse(result.stdout.trim() === "" ? "[]" : result.stdout) as RuncState[] | null;
    return new Map((parsed ?? []).map((state) => [state.id, state]));
  }

  /** Starts the program of a created container. */
  async start(id: string): Promise<void> {
    await this.must(["start", id]);
  }

  /** Sends signal to the container's init process, or to all its processes. */
  async kill(id: string, signal: number, all = false): Promise<void> {
    await this.must(["kill", ...(all ? ["--all"] : []), id, String(signal)]);
  }

  /** Freezes the container. */
  async pause(id: string): Promise<void> {
    await this.must(["pause", id]);
  }

  /** Thaws the container. */
  async resume(id: string): Promise<void> {
    await this.must(["resume", id]);
  }

  /**
   * Changes the resource limits of a container's cgroup (`runc update` with
   * its flags, for example ["--memory", "67108864"]); runc also records them
   * in its state, so they survive its own later commands.
   */
  async update(id: string, flags: string[]): Promise<void> {
    await this.must(["update", ...flags, id]);
  }

  /** Deletes the container, killing whatever is left of it; a container runc does not know is fine. */
  async delete(id: string): Promise<void> {
    const result = await this.run(["delete", "--force", id]);
    if (result.code !== 0 && !notExist(result.stderr)) {
      throw new FailedPreconditionError(`runc delete failed: ${runcMessage(result.stderr)}`);
    }
  }
}
