/**
 * runc, run as a command with the runtime's own state root (--root), so its
 * containers never mix with those of another runc user on the node. A failed
 * command is FAILED_PRECONDITION carrying runc's error message.
 */
import { execFile } from "node:child_process";
import { FailedPreconditionError } from "@moby-core/sdk";

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

/** Tells whether runc said the container does not exist. */
function notExist(stderr: string): boolean {
  return /does not exist|not found/i.test(stderr);
}

/** runc with one state root. */
export class Runc {
  constructor(
    readonly path: string,
    readonly root: string,
  ) {}

  /** Runs runc with args; resolves with its outcome (never rejects for a non-zero exit). */
  run(args: string[], timeoutMs = 60_000): Promise<RuncResult> {
    return new Promise((resolve, reject) => {
      execFile(this.path, ["--root", this.root, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error && typeof (error as { code?: unknown }).code !== "number") {
          reject(new FailedPreconditionError(`cannot run ${this.path}: ${error.message}`));
          return;
        }
        resolve({ code: error ? Number((error as { code?: unknown }).code) : 0, stdout, stderr });
      });
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

  /** Deletes the container, killing whatever is left of it; a container runc does not know is fine. */
  async delete(id: string): Promise<void> {
    const result = await this.run(["delete", "--force", id]);
    if (result.code !== 0 && !notExist(result.stderr)) {
      throw new FailedPreconditionError(`runc delete failed: ${runcMessage(result.stderr)}`);
    }
  }
}
