/**
 * The files of one task, which are its OCI bundle and outlive the component:
 *
 *   <tasksDir>/<container_id>/      the bundle
 *     config.json                   the container's spec, byte for byte
 *     task.json                     created/started times, log bound, restart policy
 *     init/                         the init process (process-files.ts)
 *     execs/<exec_id>/              an exec process: exec.json, process.json
 *
 * Only this module names these files; a process's own files (exit, created,
 * output) are process-files.ts's and log-files.ts's.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AlreadyExistsError } from "@moby-core/sdk";
import { isId } from "@moby-core/sdk/list";
import { readJson, writeFileAtomic } from "./process-files.js";
import type { RestartState } from "./restart-policy.js";

/** What task.json records. */
export interface TaskRecord {
  /** The container's id, which is the bundle's directory name. */
  containerId: string;
  /** When the task was created, in µs since the epoch. */
  createdAtUs: number;
  /** When the task was started, in µs since the epoch; absent until then. */
  startedAtUs?: number;
  /** The bound of each output stream of each process, in bytes. */
  maxSizeBytes: number;
  /** The restart policy and where it stands; absent when the task is never restarted. */
  restart?: RestartState;
  /** How the init process's input is wired; absent for a task of a runtime before interactive I/O (neither). */
  io?: ProcessIo;
  /** Whether the image store prepared its root filesystem (released when the task is deleted); absent for a task of a runtime before this field, whose container record is read at delete instead. */
  imageRootfs?: boolean;
}

/** How a process's input is wired: an open stdin (fed through its shim's stdin FIFO), a terminal. */
export interface ProcessIo {
  /** Its stdin stays open for Attach, until closed. */
  stdin: boolean;
  /** It runs on a pseudo-terminal (process.terminal in its OCI process). */
  terminal: boolean;
}

/** Neither an open stdin nor a terminal: stdin is empty, stdout and stderr are pipes. */
export const NO_IO: ProcessIo = { stdin: false, terminal: false };

/** What exec.json records about an exec process. */
export interface ExecRecord {
  /** The exec process's id within its task. */
  execId: string;
  /** The program and its arguments. */
  args: string[];
  /** When it was started, in µs since the epoch. */
  startedAtUs: number;
  /** How its input is wired; absent for an exec process of a runtime before interactive I/O (neither). */
  io?: ProcessIo;
}

/** task.json and exec.json on disk: the record with its format version. */
type Versioned<T> = T & { version: 1 };

/** The bundle directory of one task. */
export class Bundle {
  constructor(
    /** The bundle's directory. */
    readonly dir: string,
    /** The container's id. */
    readonly id: string,
  ) {}

  /** The directory of the init process. */
  get initDir(): string {
    return join(this.dir, "init");
  }

  /** The directory of an exec process. */
  execDir(execId: string): string {
    return join(this.dir, "execs", execId);
  }

  /**
   * Makes the bundle: its directory (ALREADY_EXISTS when there is one),
   * config.json, task.json and the init process's directory.
   */
  create(specJson: Uint8Array, record: TaskRecord): void {
    try {
      mkdirSync(this.dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new AlreadyExistsError(`container ${JSON.stringify(this.id)} has a task already`);
      throw error;
    }
    try {
      writeFileSync(join(this.dir, "config.json"), specJson, { mode: 0o600 });
      this.saveRecord(record);
      mkdirSync(this.initDir);
    } catch (error) {
      this.remove();
      throw error;
    }
  }

  /** Writes task.json. */
  saveRecord(record: TaskRecord): void {
    const file: Versioned<TaskRecord> = { version: 1, ...record };
    writeFileAtomic(join(this.dir, "task.json"), JSON.stringify(file));
  }

  /** task.json, or undefined when it is missing or not this task's (its creation did not finish). */
  readRecord(): TaskRecord | undefined {
    const file = readJson<Versioned<TaskRecord>>(join(this.dir, "task.json"));
    return file === undefined || file.containerId !== this.id ? undefined : file;
  }

  /** config.json, byte for byte: the spec a restart makes the task from again. */
  readSpecJson(): Uint8Array {
    return readFileSync(join(this.dir, "config.json"));
  }

  /** The root filesystem of the container's spec (config.json's root.path, absolute: CreateTask checked it). */
  specRootfs(): string {
    const spec = JSON.parse(readFileSync(join(this.dir, "config.json"), "utf8")) as { root?: { path?: string } };
    return spec.root?.path ?? "";
  }

  /** The process of the container's spec (config.json), as the base of an exec's. */
  specProcess(): Record<string, unknown> {
    const spec = JSON.parse(readFileSync(join(this.dir, "config.json"), "utf8")) as { process?: Record<string, unknown> };
    return spec.process ?? {};
  }

  /**
   * Makes an exec process's directory with its process.json (the OCI
   * process runc exec runs) and exec.json; ALREADY_EXISTS when the exec id is
   * taken. Returns the path of process.json.
   */
  createExec(record: ExecRecord, processJson: object): string {
    const dir = this.execDir(record.execId);
    mkdirSync(join(this.dir, "execs"), { recursive: true });
    try {
      mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        throw new AlreadyExistsError(`task ${JSON.stringify(this.id)} has an exec process ${JSON.stringify(record.execId)} already`);
      }
      throw error;
    }
    const processPath = join(dir, "process.json");
    writeFileSync(processPath, JSON.stringify(processJson), { mode: 0o600 });
    const file: Versioned<ExecRecord> = { version: 1, ...record };
    writeFileAtomic(join(dir, "exec.json"), JSON.stringify(file));
    return processPath;
  }

  /**
   * The exec processes recorded in the bundle, by id order. A directory that
   * is not a whole exec process (no or a wrong exec.json) is removed.
   */
  readExecs(): ExecRecord[] {
    const execsDir = join(this.dir, "execs");
    const found: ExecRecord[] = [];
    for (const execId of existsSync(execsDir) ? readdirSync(execsDir).sort() : []) {
      const file = readJson<Versioned<ExecRecord>>(join(execsDir, execId, "exec.json"));
      if (!isId(execId) || file === undefined || file.execId !== execId) this.removeExec(execId);
      else found.push(file);
    }
    return found;
  }

  /** Removes an exec process's directory and its output. */
  removeExec(execId: string): void {
    rmSync(this.execDir(execId), { recursive: true, force: true });
  }

  /** Removes the whole bundle. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
