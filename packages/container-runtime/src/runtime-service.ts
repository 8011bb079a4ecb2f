/**
 * moby.container.runtime.v1.ContainerRuntimeService: translates requests
 * into calls on tasks (task.ts) and their answers into messages
 * (task-view.ts). Each handler checks its request first (INVALID_ARGUMENT
 * naming the field), then that the runtime can run containers
 * (FAILED_PRECONDITION saying how to fix it), then asks the task. It never
 * runs runc, reads the task's files or changes a task's state itself.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { ServiceImpl } from "@connectrpc/connect";
import { InvalidArgumentError, NotFoundError, UnavailableError } from "@moby-core/sdk";
import { checkId, checkOptionalId, effectivePageSize } from "@moby-core/sdk/list";
import type { PageTokens } from "@moby-core/sdk/list";
import { ContainerRuntimeService } from "@moby-core/container-runtime-api/v1";
import type { Task as TaskMessage } from "@moby-core/container-runtime-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { checkExecRequest } from "./exec-request.js";
import { checkOciSpec, specJsonFromAny } from "./oci-spec.js";
import { attachProcess, checkAttachStart, firstRequest } from "./process-attach.js";
import { readProcessLogs } from "./process-logs.js";
import { restartPolicyOf } from "./restart-policy.js";
import { parseTaskFilter, taskMatches } from "./task-filter.js";
import { DEFAULT_LOG_MAX_BYTES } from "./task-manager.js";
import type { TaskManager } from "./task-manager.js";
import { exitStatusView, processView, taskView } from "./task-view.js";
import type { Task } from "./task.js";
import { applyImageConfig, wantsImageRootfs } from "./image-rootfs.js";
import { resolveSpecUser } from "./user-lookup.js";
import type { ImageRootfs } from "./image-rootfs.js";

/** The smallest LogConfig.max_size_bytes. */
export const MIN_LOG_BYTES = 65536;
/** The largest LogConfig.max_size_bytes. */
export const MAX_LOG_BYTES = 1024 * 1024 * 1024;

/** What the service needs from its component. */
export interface RuntimeServiceDeps {
  /** The task manager once the runtime can run containers; throws FAILED_PRECONDITION saying how to fix it otherwise. */
  manager(): Promise<TaskManager>;
  /** Reads a container record from the container store. */
  readContainer(id: string): Promise<Container>;
  /** Seals ListTasks page tokens. */
  tokens: PageTokens;
  /** The image store, for containers made from an image; absent: such containers are refused. */
  images?: ImageRootfs;
}

function quote(text: string): string {
  return JSON.stringify(text);
}

/** The task of id, or NOT_FOUND. */
export function existing(manager: TaskManager, id: string): Task {
  const task = manager.get(id);
  if (task === undefined) throw new NotFoundError(`no task for container ${quote(id)}`);
  return task;
}

function checkMaxSize(value: bigint): number {
  if (value === 0n) return DEFAULT_LOG_MAX_BYTES;
  if (value < BigInt(MIN_LOG_BYTES) || value > BigInt(MAX_LOG_BYTES)) {
    throw new InvalidArgumentError("log_config.max_size_bytes", `${value} is outside ${MIN_LOG_BYTES} (64 KiB) to ${MAX_LOG_BYTES} (1 GiB); 0 means the default of ${DEFAULT_LOG_MAX_BYTES}`);
  }
  return Number(value);
}

/** The implementation of ContainerRuntimeService. */
export function containerRuntimeService(deps: RuntimeServiceDeps): Partial<ServiceImpl<typeof ContainerRuntimeService>> {
  /** Checks the request's ids and finds its task. */
  async function taskOf(request: { containerId: string; execId?: string }): Promise<Task> {
    checkId(request.containerId, "container_id");
    if (request.execId !== undefined) checkOptionalId(request.execId, "exec_id");
    return existing(await deps.manager(), request.containerId);
  }

  return {
    async createTask(request) {
      checkId(request.containerId, "container_id");
      const maxSizeBytes = checkMaxSize(request.logConfig?.maxSizeBytes ?? 0n);
      const manager = await deps.manager();
      // Before asking the store: the answer does not depend on the record.
      manager.checkFree(request.containerId);
      const container = await deps.readContainer(request.containerId);
      let specJson = specJsonFromAny(container.spec);
      const fromImage = container.image !== "" && wantsImageRootfs(specJson) && deps.images !== undefined;
      if (fromImage) {
        const prepared = await deps.images!.prepare(request.containerId, container.image);
        try {
          specJson = applyImageConfig(specJson, prepared.path, prepared.config);
        } catch (error) {
          await deps.images!.release(request.containerId);
          throw error;
        }
      }
      try {
        const spec = checkOciSpec(resolveSpecUser(specJson));
        const restart = restartPolicyOf(container.runtime?.options);
        const io = { stdin: request.stdin, terminal: spec.process.terminal === true };
        const task = await manager.create(request.containerId, spec.json, maxSizeBytes, { io, imageRootfs: fromImage, ...(restart === undefined ? {} : { restart }) });
        return { task: taskView(task) };
      } catch (error) {
        if (fromImage) await deps.images!.release(request.containerId);
        throw error;
      }
    },

    async startTask(request) {
      const task = await taskOf(request);
      await task.start();
      return { task: taskView(task) };
    },

    async killTask(request) {
      checkId(request.containerId, "container_id");
      checkOptionalId(request.execId, "exec_id");
      if (request.signal === 0 || request.signal > 64) throw new InvalidArgumentError("signal", `${request.signal} is not a signal number (1 to 64)`);
      if (request.all && request.execId !== "") throw new InvalidArgumentError("all", "applies to the task only: not with exec_id");
      const task = await taskOf(request);
      await task.kill(request.execId, request.signal, request.all);
      return {};
    },

    async deleteTask(request) {
      const task = await taskOf(request);
      if (request.execId !== "") {
        const { process, exit } = await task.deleteExec(request.execId);
        return { pid: process.pid, exitStatus: exitStatusView(exit) };
      }
      const exit = await task.delete();
      if (deps.images) {
        // A task made from an image gives its root filesystem back. One made by a runtime that did not record it asks
        // the container's record (one whose record is gone cannot say).
        const fromImage = task.imageRootfs ?? (await deps.readContainer(request.containerId).then((c) => c.image !== "", () => false));
        if (fromImage) await deps.images.release(request.containerId);
      }
      return { pid: task.init.pid, exitStatus: exitStatusView(exit) };
    },

    async waitTask(request, context) {
      const task = await taskOf(request);
      const exit = await task.wait(request.execId, context.signal);
      return { exitStatus: exitStatusView(exit) };
    },

    async getTask(request) {
      const task = await taskOf(request);
      return { task: taskView(task) };
    },

    async listTasks(request) {
      const filter = parseTaskFilter(request.filter);
      const after = request.pageToken === "" ? undefined : deps.tokens.decode(request.pageToken, request.filter);
      const pageSize = effectivePageSize(request.pageSize);
      const manager = await deps.manager();
      const tasks: TaskMessage[] = [];
      let nextPageToken = "";
      for (const task of manager.list()) {
        if (after !== undefined && task.id <= after) continue;
        const status = task.status();
        if (!taskMatches(filter, task.id, status)) continue;
        if (tasks.length === pageSize) {
          nextPageToken = deps.tokens.encode(tasks.at(-1)!.containerId, request.filter);
          break;
        }
        tasks.push(taskView(task, status));
      }
      return { tasks, nextPageToken };
    },

    async pauseTask(request) {
      const task = await taskOf(request);
      await task.pause();
      return { task: taskView(task) };
    },

    async resumeTask(request) {
      const task = await taskOf(request);
      await task.resume();
      return { task: taskView(task) };
    },

    async execProcess(request) {
      checkExecRequest(request);
      const task = await taskOf(request);
      const process = await task.exec(request);
      return { process: processView(process, task.status()) };
    },

    async *readLogs(request, context) {
      const task = await taskOf(request);
      yield* readProcessLogs(task.process(request.execId), request, context.signal);
    },

    async *attach(requests, context) {
      const first = await firstRequest(requests);
      const start = checkAttachStart(first);
      const task = await taskOf(start);
      yield* attachProcess(task.process(start.execId), start, first, context.signal);
    },
  };
}

/** Maps a container store failure to the runtime's codes. */
export function storeError(id: string, error: unknown): Error {
  const err = ConnectError.from(error);
  if (err.code === Code.NotFound) return new NotFoundError(`container ${quote(id)} not found in the container store`);
  if (err.code === Code.InvalidArgument) return new InvalidArgumentError("container_id", err.rawMessage);
  return new UnavailableError(`the container store cannot be reached: ${err.rawMessage}`, { cause: error });
}
