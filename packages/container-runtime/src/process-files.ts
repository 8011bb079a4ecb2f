/**
 * The files of one task process (the init process or an exec process), in
 * its directory: what the shim writes (created, pid, exit, drained, the
 * output files, runc.log, shim.log) and what the runtime writes (shim.json:
 * which process is the shim; exit-published: /tasks/exit was published).
 * Small files are written to a temporary name and renamed, so a reader never
 * sees half of one.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** How a process ended: its raw wait status (-1 when unknown) and when it was reaped. */
export interface ExitRecord {
  status: number;
  timeUs: number;
}

/** The outcome of the shim's runc create or runc exec. */
export type CreatedRecord = { ok: true; pid: number } | { ok: false; status: number; message: string };

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

/** The exit record of the process in dir, or undefined while it runs. */
export function readExitFile(dir: string): ExitRecord | undefined {
  const text = readText(join(dir, "exit"));
  if (text === undefined) return undefined;
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
  const [word, value] = first.trim().split(/\s+/);
  if (word === "ok" && Number(value) > 0) return { ok: true, pid: Number(value) };
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
