/**
 * The files of one task process (the init process or an exec process), in
 * its directory: what the shim writes (created, pid, exit, drained, the
 * output files, runc.log, shim.log) and what the runtime writes (shim.json:
 * which process is the shim; exit-published: /tasks/exit was published).
 * Small files are written to a temporary name and renamed, so a reader never
 * sees half of one.
 */
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** How a process ended: its raw wait status (-1 when unknown) and when it was reaped. */
export interface ExitRecord {
  status: number;
  timeUs: number;
}

/**
 * The outcome of the shim's runc create or runc exec. startTime is the
 * process's start time (field 22 of /proc/PID/stat) as the shim read it
 * before it could reap the process, so it names that very process; shims of
 * older runtimes did not write it.
 */
export type CreatedRecord = { ok: true; pid: number; startTime?: string } | { ok: false; status: number; message: string };

/** Which process is the shim: its pid and start time (so a reused pid is not mistaken for it). */
export interface ShimRef {
  pid: number;
  startTime: string;
}

/** Writes text to path through a temporary file and a rename. */
export function writeFileAtomic(path: string, text: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/** Reads a JSON file; undefined when it is missing or not JSON. */
export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * The exit record of the process in dir, or undefined while it runs. An
 * empty file is a record still being written (by a writer that does not
 * rename into place), so it is undefined too: never read as status 0.
 */
export function readExitFile(dir: string): ExitRecord | undefined {
  const text = readText(join(dir, "exit"));
  if (text === undefined || text.trim() === "") return undefined;
  const [status, timeUs] = text.trim().split(/\s+/).map(Number);
  if (status === undefined || !Number.isInteger(status)) return { status: -1, timeUs: Date.now() * 1000 };
  return { status, timeUs: timeUs !== undefined && Number.isFinite(timeUs) ? timeUs : Date.now() * 1000 };
}

/** Records that a process ended in a way nobody saw (its shim was lost): an unknown status. */
export function writeUnknownExit(dir: string): ExitRecord {
  const record = { status: -1, timeUs: Date.now() * 1000 };
  if (!existsSync(join(dir, "exit"))) writeFileAtomic(join(dir, "exit"), `${record.status} ${record.timeUs}\n`);
  if (!existsSync(join(dir, "drained"))) writeFileAtomic(join(dir, "drained"), "\n");
  return readExitFile(dir) ?? record;
}

/** The outcome of the shim's runc command, or undefined while it runs. */
export function readCreatedFile(dir: string): CreatedRecord | undefined {
  const text = readText(join(dir, "created"));
  if (text === undefined) return undefined;
  const newline = text.indexOf("\n");
  const first = newline < 0 ? text : text.slice(0, newline);
  const rest = newline < 0 ? "" : text.slice(newline + 1);
  const [word, value, startTime] = first.trim().split(/\s+/);
  if (word === "ok" && Number(value) > 0) {
    return startTime !== undefined && /^\d+$/.test(startTime) ? { ok: true, pid: Number(value), startTime } : { ok: true, pid: Number(value) };
  }
  return { ok: false, status: Number(value ?? -1), message: rest.trim() };
}

/** Tells whether the shim has written all the output of the process. */
export function isDrained(dir: string): boolean {
  return existsSync(join(dir, "drained"));
}

/** The exit code and signal of a raw wait status, as ExitStatus reports them. */
export function exitStatusOf(status: number): { exitCode: number; signal: number } {
  if (status < 0) return { exitCode: 255, signal: 0 };
  const signal = status & 0x7f;
  if (signal === 0) return { exitCode: (status >> 8) & 0xff, signal: 0 };
  return { exitCode: 128 + signal, signal };
}

/** The start time of a live process (field 22 of /proc/PID/stat), or undefined when it is gone or a zombie. */
export function processStartTime(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  return fields[19];
}

/** Tells whether the process ref names is still alive. */
export function isAlive(ref: ShimRef | undefined): boolean {
  return ref !== undefined && processStartTime(ref.pid) === ref.startTime;
}

/** Tells whether a process with pid exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  return pid > 0 && processStartTime(pid) !== undefined;
}

/** The process group and state of every process, from /proc/PID/stat. */
function processGroups(): { pid: number; pgrp: number; state: string }[] {
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return [];
  }
  const found: { pid: number; pgrp: number; state: string }[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readText(`/proc/${name}/stat`);
    if (stat === undefined) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    found.push({ pid: Number(name), state: fields[0] ?? "", pgrp: Number(fields[2]) });
  }
  return found;
}

function live(entry: { state: string }): boolean {
  return entry.state !== "Z" && entry.state !== "X";
}

/** The live (not zombie) processes of process group pgid. */
export function groupMembers(pgid: number): number[] {
  return processGroups()
    .filter((entry) => entry.pgrp === pgid && live(entry))
    .map((entry) => entry.pid);
}

/**
 * Kills the process group of a shim with SIGKILL: the shim (spawned
 * detached, so it leads its own session and group) and whatever it runs in
 * that group, such as runc create or runc exec and their runc init. The
 * group is signalled while the shim is alive; once the shim is gone, only
 * while no other live process has its pid and the group still has members
 * (the kernel does not hand out a pid that is still a group's id), so an
 * unrelated process that reused the pid is never hit. True when a signal
 * was sent.
 */
export function killShimGroup(shim: ShimRef | undefined): boolean {
  if (shim === undefined || shim.pid <= 1) return false;
  if (!isAlive(shim)) {
    const entries = processGroups();
    if (entries.some((entry) => entry.pid === shim.pid && live(entry))) return false;
    if (!entries.some((entry) => entry.pgrp === shim.pid && live(entry))) return false;
  }
  try {
    process.kill(-shim.pid, "SIGKILL");
    return true;
  } catch {
    return false; // gone already
  }
}
