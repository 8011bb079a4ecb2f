/**
 * init's claim on its run directory, kept in <run dir>/init.json: init's pid
 * and the pid of every component process it runs, each with its start time
 * (so a reused pid is never taken for it).
 *
 * A second init on the same run directory while the first lives is refused.
 * An init that finds the file of one that died (kill -9) stops the
 * components that init left behind before starting its own: SIGTERM to each
 * one's process group, SIGKILL after its stop timeout. Their pipe from the
 * dead init has told them to shut down already (see managed-process.ts);
 * this ends the ones still draining and any that do not watch the pipe.
 * init does not adopt them: it could not see them exit, read their output
 * or restart them as it does its own children.
 */
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ComponentService } from "@moby-core/component-api/v1";
import { dialSocket } from "@moby-core/sdk";
import type { Logger } from "@moby-core/sdk";
import { probeSocket } from "@moby-core/sdk/internal";

/** The file of the claim, in the run directory. */
export const CLAIM_FILE = "init.json";

/** An error that refuses to start init, with a one-line message for the operator. */
export class StartRefusedError extends Error {}

/** A process as the claim records it. */
interface RecordedProcess {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat), to tell it from a later process with its pid. */
  startTicks: string;
}

/** A component process as the claim records it. */
interface RecordedComponent extends RecordedProcess {
  stopTimeoutMs: number;
}

/** What init.json holds. */
interface ClaimRecord extends RecordedProcess {
  components: Record<string, RecordedComponent>;
}

/** How long init waits for a component of an earlier init after SIGKILL, in ms. */
const KILL_WAIT_MS = 5000;

/** The start time of pid in clock ticks since boot, or undefined when it is gone (a zombie counts as gone). */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // pid (comm) state ppid ... starttime is field 22; comm may hold spaces, so count after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Tells whether the process recorded still runs: its pid lives and started when recorded. */
function stillRuns(process: RecordedProcess): boolean {
  return process.pid > 0 && processStartTicks(process.pid) === process.startTicks;
}

/** Sends signal to the process group led by pid; a group that is gone is fine. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Resolves true once the recorded process no longer runs, false after timeoutMs. */
async function ended(recorded: RecordedProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (stillRuns(recorded)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** Reads the record of a claim file; undefined when it cannot be read or parsed. */
function readRecord(file: string): ClaimRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(file, "utf8")) as ClaimRecord;
    if (typeof record.pid !== "number" || typeof record.startTicks !== "string" || typeof record.components !== "object") return undefined;
    return record;
  } catch {
    return undefined;
  }
}

/** The pid of the process serving ComponentService on socket, or undefined. */
async function servingPid(socket: string): Promise<number | undefined> {
  const connection = dialSocket(socket, { retry: false, timeoutMs: 2000, connections: 1 });
  try {
    return (await connection.client(ComponentService).getInfo({})).info?.pid;
  } catch {
    return undefined;
  } finally {
    connection.close();
  }
}

/** init's claim on a run directory. */
export class RunClaim {
  private readonly record: ClaimRecord;
  private released = false;

  private constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {
    this.record = { pid: process.pid, startTicks: processStartTicks(process.pid) ?? "", components: {} };
  }

  /**
   * Claims runDir for this init: refuses with StartRefusedError when another
   * init serves on initSocket or its claim names a live init; otherwise stops
   * what an earlier init left running and records this init.
   */
  static async take(runDir: string, initSocket: string, logger: Logger): Promise<RunClaim> {
    if ((await probeSocket(initSocket)) === "live") {
      const pid = await servingPid(initSocket);
      throw new StartRefusedError(
        `another moby-init${pid === undefined ? "" : ` (pid ${pid})`} is serving on ${initSocket}; stop it first${pid === undefined ? "" : ` (kill ${pid})`} or use another --run-dir`,
      );
    }
    const claim = new RunClaim(join(runDir, CLAIM_FILE), logger);
    const previous = existsSync(claim.file) ? readRecord(claim.file) : undefined;
    if (previous !== undefined && previous.pid !== process.pid && stillRuns(previous)) {
      throw new StartRefusedError(`another moby-init (pid ${previous.pid}) runs on ${runDir}; stop it first (kill ${previous.pid}) or use another --run-dir`);
    }
    if (previous === undefined && existsSync(claim.file)) {
      logger.warn({ file: claim.file }, `${claim.file} cannot be read as init's record; replacing it without stopping anything it named`);
    }
    // Recorded first, the earlier init's live components with it: an init started meanwhile sees this one, and one started after a crash of this one still finds them.
    const leftovers = previous === undefined ? [] : Object.entries(previous.components).filter(([, recorded]) => stillRuns(recorded));
    for (const [name, recorded] of leftovers) claim.record.components[name] = recorded;
    claim.save();
    if (previous !== undefined) await claim.stopLeftovers(previous.pid, leftovers);
    return claim;
  }

  /** Records a component process init started. */
  started(name: string, pid: number, stopTimeoutMs: number): void {
    const startTicks = processStartTicks(pid);
    if (startTicks === undefined) return;
    this.record.components[name] = { pid, startTicks, stopTimeoutMs };
    this.save();
  }

  /** Forgets a component process that ended. */
  stopped(name: string, pid: number): void {
    if (this.record.components[name]?.pid !== pid) return;
    delete this.record.components[name];
    this.save();
  }

  /** Removes the claim once every component has stopped: the run directory is free. */
  release(): void {
    this.released = true;
    try {
      if (readRecord(this.file)?.pid === process.pid) unlinkSync(this.file);
    } catch (error) {
      this.logger.warn({ err: error, file: this.file }, "could not remove init's record; the next init replaces it");
    }
  }

  /** Stops the components an earlier init (previousInit) left running, all at once, each SIGTERM then SIGKILL after its stop timeout. */
  private async stopLeftovers(previousInit: number, leftovers: [string, RecordedComponent][]): Promise<void> {
    await Promise.all(
      leftovers.map(async ([name, recorded]) => {
        this.logger.warn(
          { target: name, pid: recorded.pid, previousInit },
          `component ${name} (pid ${recorded.pid}) of an earlier init (pid ${previousInit}, gone) still runs: stopping it before starting its own`,
        );
        signalGroup(recorded.pid, "SIGTERM");
        if (!(await ended(recorded, recorded.stopTimeoutMs))) {
          this.logger.warn({ target: name, pid: recorded.pid }, `component ${name} (pid ${recorded.pid}) of an earlier init did not stop within ${recorded.stopTimeoutMs} ms: sending SIGKILL`);
          if (stillRuns(recorded)) signalGroup(recorded.pid, "SIGKILL");
          if (!(await ended(recorded, KILL_WAIT_MS))) {
            throw new StartRefusedError(`component ${name} (pid ${recorded.pid}) of an earlier init survived SIGKILL; end it by hand, then start init again`);
          }
        }
        // Whatever it started in its process group goes with it, as when init stops a component of its own.
        signalGroup(recorded.pid, "SIGKILL");
        this.stopped(name, recorded.pid);
      }),
    );
  }

  /** Writes the record: a new file renamed over the old, so a reader never sees half of one. */
  private save(): void {
    if (this.released) return;
    const temporary = `${this.file}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, `${JSON.stringify(this.record)}\n`, { mode: 0o600 });
      renameSync(temporary, this.file);
    } catch (error) {
      this.logger.error({ err: error, file: this.file }, "could not write init's record; a later init may not find the components of this one");
    }
  }
}
