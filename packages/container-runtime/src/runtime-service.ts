/**
 * moby.container.runtime.v1.ContainerRuntimeService over the task manager:
 * every handler checks its request first (INVALID_ARGUMENT naming the
 * field), then that runc can be run (FAILED_PRECONDITION saying how to fix
 * it), then works on the task under the task's lock.
 */
import { readFileSync, watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
  checkId,
  checkOptionalId,
} from "@moby-core/sdk";
import type { EventPublisher, PageTokens } from "@moby-core/sdk";
import {
  ContainerRuntimeService,
  ExitStatusSchema,
  LogStream,
  ProcessSchema,
  ReadLogsResponseSchema,
  Status,
  TaskSchema,
} from "@moby-core/container-runtime-api/v1";
import type {
  ExecProcessRequest,
  Process,
  ReadLogsRequest,
  ReadLogsResponse,
  Task as TaskMessage,
} from "@moby-core/container-runtime-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import {
  TaskCreateSchema,
  TaskDeleteSchema,
  TaskExecAddedSchema,
  TaskExecStartedSchema,
  TaskPausedSchema,
  TaskResumedSchema,
  TaskStartSchema,
} from "@moby-core/events-api/v1";
import { ProcessLogReader, TailWindow } from "./log-files.js";
import type { LogRecord, StreamNumber } from "./log-files.js";
import { mergeEnv } from "./oci-spec-builder.js";
import { checkOciSpec, specJsonFromAny } from "./oci-spec.js";
import { exitStatusOf, isDrained, readExitFile } from "./process-files.js";
import type { ExitRecord } from "./process-files.js";
import type { RuncState } from "./runc.js";
import { STATUS_NAMES, parseTaskFilter, taskMatches } from "./task-filter.js";
import { DEFAULT_LOG_MAX_BYTES, MAX_EXECS, nowUs, timestampFromUs } from "./task-manager.js";
import type { Task, TaskManager, TaskProcess } from "./task-manager.js";

/** The smallest and largest LogConfig.max_size_bytes. */
export const MIN_LOG_BYTES = 65536;
export const MAX_LOG_BYTES = 1024 * 1024 * 1024;
/** ListTasks page sizes. */
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;
/** ExecProcess limits. */
const MAX_ARGS = 1024;
const MAX_ENV = 1024;
const MAX_ARGS_ENV_BYTES = 256 * 1024;
const MAX_CWD_BYTES = 4096;
const MAX_GIDS = 32;
/** How often a followed log is read besides inotify, in ms. */
const FOLLOW_POLL_MS = 200;

/** What the service needs from its component. */
export interface RuntimeServiceDeps {
  /** The task manager once the runtime can run containers; throws FAILED_PRECONDITION saying how to fix it otherwise. */
  manager(): Promise<TaskManager>;
  /** Reads a container record from the container store. */
  readContainer(id: string): Promise<Container>;
  publisher: EventPublisher;
  tokens: PageTokens;
}

function quote(text: string): string {
  return JSON.stringify(text);
}

function statusName(status: Status): string {
  return status === Status.UNSPECIFIED ? "UNSPECIFIED" : STATUS_NAMES[status].toUpperCase();
}

function microseconds(timestamp: Timestamp): number {
  return Number(timestamp.seconds) * 1_000_000 + Math.floor(timestamp.nanos / 1000);
}

/** The task's status: from its exit file, else from runc (known: a `runc list` entry, null for none). */
export async function taskStatus(manager: TaskManager, task: Task, known?: RuncState | null): Promise<Status> {
  manager.check(task.init);
  if (task.init.exit !== undefined) return Status.STOPPED;
  if (task.pausing) return Status.PAUSING;
  const state = known === undefined ? await manager.runc.state(task.id) : (known ?? undefined);
  switch (state?.status) {
    case "created":
      return Status.CREATED;
    case "running":
      return Status.RUNNING;
    case "pausing":
      return Status.PAUSING;
    case "paused":
      return Status.PAUSED;
  }
  // Stopped, or gone: the shim is recording the exit.
  await task.init.waitExit(undefined, 3000);
  manager.check(task.init);
  return task.init.exit !== undefined ? Status.STOPPED : Status.RUNNING;
}

function exitStatus(exit: ExitRecord) {
  return create(ExitStatusSchema, exitStatusOf(exit.status));
}

function processView(process: TaskProcess, taskStatus: Status): Process {
  const status =
    process.exit !== undefined
      ? Status.STOPPED
      : taskStatus === Status.PAUSED || taskStatus === Status.PAUSING
        ? taskStatus
        : Status.RUNNING;
  return create(ProcessSchema, {
    execId: process.execId,
    pid: process.pid,
    status,
    args: process.args,
    ...(process.startedAtUs === undefined ? {} : { startedAt: timestampFromUs(process.startedAtUs) }),
    ...(process.exit === undefined ? {} : { exitStatus: exitStatus(process.exit), exitedAt: timestampFromUs(process.exit.timeUs) }),
  });
}

/** The Task message of a task in status. */
export function taskView(task: Task, status: Status): TaskMessage {
  const stopped = status === Status.STOPPED && task.init.exit !== undefined;
  const execs = [...task.execs.values()].sort((a, b) => (a.execId < b.execId ? -1 : 1));
  return create(TaskSchema, {
    containerId: task.id,
    pid: task.init.pid,
    status,
    createdAt: timestampFromUs(task.createdAtUs),
    bundle: task.bundle,
    logConfig: { maxSizeBytes: BigInt(task.maxSizeBytes) },
    execs: execs.map((process) => processView(process, status)),
    ...(task.startedAtUs === undefined ? {} : { startedAt: timestampFromUs(task.startedAtUs) }),
    ...(stopped ? { exitStatus: exitStatus(task.init.exit!), exitedAt: timestampFromUs(task.init.exit!.timeUs) } : {}),
  });
}

/** The task of id, or NOT_FOUND. */
function existing(manager: TaskManager, id: string): Task {
  const task = manager.get(id);
  if (task === undefined) throw new NotFoundError(`no task for container ${quote(id)}`);
  return task;
}

/** The exec process of a task, or NOT_FOUND. */
function execOf(task: Task, execId: string): TaskProcess {
  const process = task.execs.get(execId);
  if (process === undefined) throw new NotFoundError(`task ${quote(task.id)} has no exec process ${quote(execId)}`);
  return process;
}

/** The process a request names: the init process, or an exec process. */
function processOf(task: Task, execId: string): TaskProcess {
  return execId === "" ? task.init : execOf(task, execId);
}

function checkMaxSize(value: bigint): number {
  if (value === 0n) return DEFAULT_LOG_MAX_BYTES;
  if (value < BigInt(MIN_LOG_BYTES) || value > BigInt(MAX_LOG_BYTES)) {
    throw new InvalidArgumentError("log_config.max_size_bytes", `${value} is outside ${MIN_LOG_BYTES} (64 KiB) to ${MAX_LOG_BYTES} (1 GiB); 0 means the default of ${DEFAULT_LOG_MAX_BYTES}`);
  }
  return Number(value);
}

/** Checks the fields of an ExecProcessRequest. */
export function checkExecRequest(request: ExecProcessRequest): void {
  checkId(request.containerId, "container_id");
  checkId(request.execId, "exec_id");
  if (request.args.length === 0) throw new InvalidArgumentError("args", "required: give the program to run");
  if (request.args.length > MAX_ARGS) throw new InvalidArgumentError("args", `has ${request.args.length} entries, more than ${MAX_ARGS}`);
  request.args.forEach((arg, index) => {
    if (arg.includes("\0")) throw new InvalidArgumentError(`args[${index}]`, "contains a NUL byte");
  });
  if (request.args[0] === "") throw new InvalidArgumentError("args[0]", "is empty: give the program to run");
  if (request.env.length > MAX_ENV) throw new InvalidArgumentError("env", `has ${request.env.length} entries, more than ${MAX_ENV}`);
  request.env.forEach((entry, index) => {
    if (entry.includes("\0")) throw new InvalidArgumentError(`env[${index}]`, "contains a NUL byte");
    if (entry.indexOf("=") <= 0) throw new InvalidArgumentError(`env[${index}]`, `${quote(entry)} is not NAME=VALUE with a non-empty NAME`);
  });
  const bytes = [...request.args, ...request.env].reduce((sum, text) => sum + Buffer.byteLength(text, "utf8"), 0);
  if (bytes > MAX_ARGS_ENV_BYTES) throw new InvalidArgumentError("args", `args and env are ${bytes} bytes together, more than ${MAX_ARGS_ENV_BYTES}`);
  if (request.cwd !== "") {
    if (request.cwd.includes("\0")) throw new InvalidArgumentError("cwd", "contains a NUL byte");
    if (!request.cwd.startsWith("/")) throw new InvalidArgumentError("cwd", `${quote(request.cwd)} is not an absolute path`);
    if (Buffer.byteLength(request.cwd, "utf8") > MAX_CWD_BYTES) throw new InvalidArgumentError("cwd", `is longer than ${MAX_CWD_BYTES} bytes`);
  }
  if (request.user !== undefined && request.user.additionalGids.length > MAX_GIDS) {
    throw new InvalidArgumentError("user.additional_gids", `has ${request.user.additionalGids.length} entries, more than ${MAX_GIDS}`);
  }
}

/** The OCI process of an exec: the spec's process with the request's overrides. */
function execProcessJson(task: Task, request: ExecProcessRequest): object {
  const spec = JSON.parse(readFileSync(join(task.bundle, "config.json"), "utf8")) as { process?: Record<string, unknown> };
  const base = spec.process ?? {};
  const process: Record<string, unknown> = { ...base, terminal: false, args: request.args };
  delete process.consoleSize;
  const baseEnv = Array.isArray(base.env) ? (base.env as string[]) : [];
  process.env = mergeEnv(baseEnv, request.env);
  process.cwd = request.cwd !== "" ? request.cwd : typeof base.cwd === "string" && base.cwd !== "" ? base.cwd : "/";
  if (request.user !== undefined) {
    process.user = {
      uid: request.user.uid,
      gid: request.user.gid,
      ...(request.user.additionalGids.length > 0 ? { additionalGids: request.user.additionalGids } : {}),
    };
  }
  return process;
}

/** The implementation of ContainerRuntimeService. */
export function containerRuntimeService(deps: RuntimeServiceDeps): Partial<ServiceImpl<typeof ContainerRuntimeService>> {
  const { publisher } = deps;

  async function createTask(containerId: string, maxSizeBytes: number): Promise<TaskMessage> {
    const manager = await deps.manager();
    if (manager.has(containerId)) throw new AlreadyExistsError(`container ${quote(containerId)} has a task already`);
    const container = await deps.readContainer(containerId);
    const spec = checkOciSpec(specJsonFromAny(container.spec));
    const task = await manager.createTask(containerId, spec.json, maxSizeBytes);
    publisher.publish("/tasks/create", TaskCreateSchema, create(TaskCreateSchema, { containerId, bundle: task.bundle, pid: task.init.pid }));
    return taskView(task, await taskStatus(manager, task));
  }

  return {
    async createTask(request) {
      checkId(request.containerId, "container_id");
      const maxSizeBytes = checkMaxSize(request.logConfig?.maxSizeBytes ?? 0n);
      return { task: await createTask(request.containerId, maxSizeBytes) };
    },

    async startTask(request) {
      checkId(request.containerId, "container_id");
      const manager = await deps.manager();
      const task = existing(manager, request.containerId);
      return task.exclusive(async () => {
        const status = await taskStatus(manager, task);
        if (status !== Status.CREATED) throw new FailedPreconditionError(`task ${quote(task.id)} is ${statusName(status)}, not CREATED: only a created task can be started`);
        task.starting = true;
        try {
          await manager.runc.start(task.id);
          task.startedAtUs = nowUs();
          task.save();
          publisher.publish("/tasks/start", TaskStartSchema, create(TaskStartSchema, { containerId: task.id, pid: task.init.pid }));
        } finally {
          task.starting = false;
          manager.publishExit(task.init);
        }
        return { task: taskView(task, await taskStatus(manager, task)) };
      });
    },

    async killTask(request) {
      checkId(request.containerId, "container_id");
      checkOptionalId(request.execId, "exec_id");
      if (request.signal === 0 || request.signal > 64) throw new InvalidArgumentError("signal", `${request.signal} is not a signal number (1 to 64)`);
      if (request.all && request.execId !== "") throw new InvalidArgumentError("all", "applies to the task only: not with exec_id");
      const manager = await deps.manager();
      const task = existing(manager, request.containerId);
      const process = processOf(task, request.execId);
      manager.check(process);
      if (process.exit !== undefined) {
        throw new FailedPreconditionError(`${request.execId === "" ? `task ${quote(task.id)}` : `exec process ${quote(request.execId)}`} is STOPPED: it has exited`);
      }
      if (request.execId === "") {
        try {
          await manager.runc.kill(task.id, request.signal, request.all);
        } catch (error) {
          manager.check(process);
          if (process.exit !== undefined) throw new FailedPreconditionError(`task ${quote(task.id)} is STOPPED: it has exited`);
          throw error;
        }
      } else {
        // Checks that the pid still names the exec process: its shim may
        // have reaped it, freeing the pid, before recording its exit.
        manager.signalExec(process, request.signal);
      }
      return {};
    },

    async deleteTask(request) {
      checkId(request.containerId, "container_id");
      checkOptionalId(request.execId, "exec_id");
      const manager = await deps.manager();
      const task = existing(manager, request.containerId);
      return task.exclusive(async () => {
        if (task.deleted) throw new NotFoundError(`no task for container ${quote(task.id)}`);
        if (request.execId !== "") {
          const process = execOf(task, request.execId);
          manager.check(process);
          if (process.exit === undefined) {
            throw new FailedPreconditionError(`exec process ${quote(request.execId)} is RUNNING: kill it and wait for it first`);
          }
          manager.deleteExec(task, process);
          const { exitCode } = exitStatusOf(process.exit.status);
          const exitedAt = timestampFromUs(process.exit.timeUs);
          publisher.publish("/tasks/delete", TaskDeleteSchema, create(TaskDeleteSchema, { containerId: task.id, pid: process.pid, exitCode, exitedAt }));
          return { pid: process.pid, exitStatus: exitStatus(process.exit), exitedAt };
        }
        const status = await taskStatus(manager, task);
        if (status === Status.RUNNING || status === Status.PAUSED || status === Status.PAUSING) {
          throw new FailedPreconditionError(`task ${quote(task.id)} is ${statusName(status)}: kill it and wait for it before deleting it`);
        }
        const exit = await manager.deleteTask(task);
        const { exitCode } = exitStatusOf(exit.status);
        const exitedAt = timestampFromUs(exit.timeUs);
        publisher.publish("/tasks/delete", TaskDeleteSchema, create(TaskDeleteSchema, { containerId: task.id, pid: task.init.pid, exitCode, exitedAt }));
        return { pid: task.init.pid, exitStatus: exitStatus(exit), exitedAt };
      });
    },

    async waitTask(request, context) {
      checkId(request.containerId, "container_id");
      checkOptionalId(request.execId, "exec_id");
      const manager = await deps.manager();
      const task = existing(manager, request.containerId);
      const process = processOf(task, request.execId);
      manager.check(process);
      const exit = process.exit ?? (await process.waitExit(context.signal));
      if (exit === undefined) {
        throw new NotFoundError(`${request.execId === "" ? `the task of ${quote(task.id)}` : `exec process ${quote(request.execId)}`} was deleted while waiting`);
      }
      return { exitStatus: exitStatus(exit), exitedAt: timestampFromUs(exit.timeUs) };
    },

    async getTask(request) {
      checkId(request.containerId, "container_id");
      const manager = await deps.manager();
      const task = existing(manager, request.containerId);
      return { task: taskView(task, await taskStatus(manager, task)) };
    },

    async listTasks(request) {
      const filter = parseTaskFilter(request.filter);
      const after = request.pageToken === "" ? undefined : deps.tokens.decode(request.pageToken, request.filter);
      const pageSize = request.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(request.pageSize, MAX_PAGE_SIZE);
      const manager = await deps.manager();
      const states = await manager.runc.list();
      const ids = [...manager.tasks.keys()].filter((id) => after === undefined || id > after).sort();
      const tasks: TaskMessage[] = [];
      let nextPageToken = "";
      for (const id of ids) {
        const task = manager.get(id);
        if (task === undefined) continue;
        const status = await taskStatus(manager, task, states.get(id) ?? null);
        if (!taskMatches(filter, id, status)) continue;
        if (tasks.length === pageSize) {
          nextPageToken = deps.tokens.encode(tasks.at(-1)!.containerId, request.filter);
          break;
        }
        tasks.push(taskView(task, status));
      }
      return { tasks, nextPageToken };
    },

    async pauseTask(request) {
      checkId(request.containerId, "container_id");
      const manager = await deps.manager();
      const task = existing(manager, request.containerId);
      return task.exclusive(async () => {
        const status = await taskStatus(manager, task);
        if (status !== Status.RUNNING) throw new FailedPreconditionError(`task ${quote(task.id)} is ${statusName(status)}, not RUNNING: only a running task can be paused`);
        task.pausing = true;
        try {
          await manager.runc.pause(task.id);
        } finally {
          task.pausing = false;
        }
        publisher.publish("/tasks/paused", TaskPausedSchema, create(TaskPausedSchema, { containerId: task.id }));
        return { task: taskView(task, await taskStatus(manager, task)) };
      });
    },

    async resumeTask(request) {
      checkId(request.containerId, "container_id");
      const manager = await deps.manager();
      const task = existing(manager, request.containerId);
      return task.exclusive(async () => {
        const status = await taskStatus(manager, task);
        if (status !== Status.PAUSED) throw new FailedPreconditionError(`task ${quote(task.id)} is ${statusName(status)}, not PAUSED: only a paused task can be resumed`);
        await manager.runc.resume(task.id);
        publisher.publish("/tasks/resumed", TaskResumedSchema, create(TaskResumedSchema, { containerId: task.id }));
        return { task: taskView(task, await taskStatus(manager, task)) };
      });
    },

    async execProcess(request) {
      checkExecRequest(request);
      const manager = await deps.manager();
      const task = existing(manager, request.containerId);
      return task.exclusive(async () => {
        if (task.execs.has(request.execId)) throw new AlreadyExistsError(`task ${quote(task.id)} has an exec process ${quote(request.execId)} already`);
        if (task.execs.size >= MAX_EXECS) {
          throw new ResourceExhaustedError(`task ${quote(task.id)} has ${MAX_EXECS} exec processes, the most it can have: delete exited ones first`);
        }
        const status = await taskStatus(manager, task);
        if (status !== Status.RUNNING) throw new FailedPreconditionError(`task ${quote(task.id)} is ${statusName(status)}, not RUNNING: exec needs a running task`);
        const process = await manager.execProcess(task, request.execId, execProcessJson(task, request), request.args);
        publisher.publish("/tasks/exec-added", TaskExecAddedSchema, create(TaskExecAddedSchema, { containerId: task.id, execId: process.execId }));
        publisher.publish(
          "/tasks/exec-started",
          TaskExecStartedSchema,
          create(TaskExecStartedSchema, { containerId: task.id, execId: process.execId, pid: process.pid }),
        );
        manager.check(process);
        return { process: processView(process, status) };
      });
    },

    async *readLogs(request, context) {
      checkId(request.containerId, "container_id");
      checkOptionalId(request.execId, "exec_id");
      const manager = await deps.manager();
      const task = existing(manager, request.containerId);
      const process = processOf(task, request.execId);
      yield* readLogs(process, request, context);
    },
  };
}

/** Streams a process's kept output and, with follow, its new output. */
async function* readLogs(process: TaskProcess, request: ReadLogsRequest, context: HandlerContext): AsyncGenerator<ReadLogsResponse> {
  const streams: StreamNumber[] =
    request.stream === LogStream.STDOUT ? [1] : request.stream === LogStream.STDERR ? [2] : [1, 2];
  const reader = new ProcessLogReader(process.dir, streams);
  const sinceUs = request.since === undefined ? undefined : microseconds(request.since);
  let lastTimeUs = 0;
  const response = (record: LogRecord): ReadLogsResponse => {
    lastTimeUs = Math.max(lastTimeUs, record.timeUs);
    return create(ReadLogsResponseSchema, { stream: record.stream, data: record.data, timestamp: timestampFromUs(lastTimeUs) });
  };
  const wanted = (record: LogRecord) => sinceUs === undefined || record.timeUs >= sinceUs;
  let dirty = false;
  let wake: (() => void) | undefined;
  const unsubscribe = process.onChange(() => {
    dirty = true;
    wake?.();
  });
  let watcher: FSWatcher | undefined;
  try {
    // The kept output, up to the call.
    const tail = request.tailLines === undefined ? undefined : new TailWindow(request.tailLines);
    for (;;) {
      const { records, caughtUp } = await reader.poll();
      for (const record of records) {
        if (!wanted(record)) continue;
        if (tail !== undefined) tail.push(record);
        else yield response(record);
      }
      if (caughtUp) break;
    }
    if (tail !== undefined) for (const record of tail.records()) yield response(record);
    if (!request.follow) return;

    // New output, until the process has exited and its output is drained.
    try {
      watcher = watch(process.dir, () => {
        dirty = true;
        wake?.();
      });
      watcher.on("error", () => {});
    } catch {
      // polled
    }
    for (;;) {
      if (context.signal.aborted || process.deleted || process.task.deleted) return;
      const finished = (process.exit !== undefined || readExitFile(process.dir) !== undefined) && isDrained(process.dir);
      dirty = false;
      const { records, caughtUp } = await reader.poll();
      for (const record of records) if (wanted(record)) yield response(record);
      if (finished && caughtUp) {
        for (const record of reader.takeHeld()) if (wanted(record)) yield response(record);
        return;
      }
      if (caughtUp && !dirty) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, FOLLOW_POLL_MS);
          const onAbort = () => done();
          context.signal.addEventListener("abort", onAbort, { once: true });
          function done() {
            clearTimeout(timer);
            context.signal.removeEventListener("abort", onAbort);
            wake = undefined;
            resolve();
          }
          wake = done;
        });
      }
    }
  } finally {
    unsubscribe();
    watcher?.close();
    await reader.close();
  }
}

/** Maps a container store failure to the runtime's codes. */
export function storeError(id: string, error: unknown): Error {
  const err = ConnectError.from(error);
  if (err.code === Code.NotFound) return new NotFoundError(`container ${quote(id)} not found in the container store`);
  if (err.code === Code.InvalidArgument) return new InvalidArgumentError("container_id", err.rawMessage);
  return new UnavailableError(`the container store cannot be reached: ${err.rawMessage}`, { cause: error });
}
