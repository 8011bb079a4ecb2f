/**
 * The resource RPCs of ContainerRuntimeService: UpdateTask, GetTaskMetrics,
 * WatchTaskMetrics and ListTaskProcesses. As runtime-service.ts's handlers,
 * each checks its request first (INVALID_ARGUMENT naming the field), then
 * finds the task, then asks the task's cgroup (task-cgroups.ts) or runc
 * (through the task's runc driver, for `runc update`).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ServiceImpl } from "@connectrpc/connect";
import { FailedPreconditionError, InvalidArgumentError } from "@moby-core/sdk";
import { checkId } from "@moby-core/sdk/list";
import { ContainerRuntimeService, Status } from "@moby-core/container-runtime-api/v1";
import type { TaskMetrics } from "@moby-core/container-runtime-api/v1";
import { runcUpdateFlags } from "./task-resources.js";
import { listTaskProcesses } from "./task-top.js";
import { existing } from "./runtime-service.js";
import type { RuntimeServiceDeps } from "./runtime-service.js";
import { statusName } from "./task.js";
import type { Task } from "./task.js";

/** WatchTaskMetrics intervals, in ms. */
export const DEFAULT_METRICS_INTERVAL_MS = 1000;
export const MIN_METRICS_INTERVAL_MS = 100;
export const MAX_METRICS_INTERVAL_MS = 60_000;
/** The most ids one WatchTaskMetrics may name. */
export const MAX_WATCHED_IDS = 1000;

/** Statuses whose cgroup limits UpdateTask may change. */
const UPDATABLE = [Status.CREATED, Status.RUNNING, Status.PAUSED];

/** The interval of a WatchTaskMetricsRequest, in ms. */
function checkInterval(intervalMs: number): number {
  if (intervalMs === 0) return DEFAULT_METRICS_INTERVAL_MS;
  if (intervalMs < MIN_METRICS_INTERVAL_MS || intervalMs > MAX_METRICS_INTERVAL_MS) {
    throw new InvalidArgumentError("interval_ms", `${intervalMs} is outside ${MIN_METRICS_INTERVAL_MS} to ${MAX_METRICS_INTERVAL_MS}; 0 means ${DEFAULT_METRICS_INTERVAL_MS}`);
  }
  return intervalMs;
}

/** A sample of task, or undefined when it stopped or its cgroup is gone meanwhile. */
function sampleOf(task: Task): TaskMetrics | undefined {
  if (task.deleted || task.status() === Status.STOPPED) return undefined;
  try {
    return task.services.cgroups.metrics(task);
  } catch (error) {
    if (error instanceof FailedPreconditionError) return undefined;
    throw error;
  }
}

/** The resource handlers of ContainerRuntimeService. */
export function resourcesService(deps: Pick<RuntimeServiceDeps, "manager">): Partial<ServiceImpl<typeof ContainerRuntimeService>> {
  async function taskOf(containerId: string): Promise<Task> {
    checkId(containerId, "container_id");
    return existing(await deps.manager(), containerId);
  }

  return {
    async updateTask(request) {
      checkId(request.containerId, "container_id");
      const flags = runcUpdateFlags(request.resources);
      const task = await taskOf(request.containerId);
      return task.exclusive(async () => {
        const status = task.status();
        if (!UPDATABLE.includes(status)) {
          throw new FailedPreconditionError(`task ${JSON.stringify(task.id)} is ${statusName(status)}: only a created, running or paused task's limits can be changed`);
        }
        await task.services.runc.update(task.id, flags);
        return { resources: task.services.cgroups.of(task).resources() };
      });
    },

    async getTaskMetrics(request) {
      const task = await taskOf(request.containerId);
      return { metrics: task.services.cgroups.metrics(task) };
    },

    async *watchTaskMetrics(request, context) {
      const ids = request.containerIds;
      if (ids.length > MAX_WATCHED_IDS) throw new InvalidArgumentError("container_ids", `${ids.length} ids; at most ${MAX_WATCHED_IDS}`);
      ids.forEach((id, index) => checkId(id, `container_ids[${index}]`));
      const intervalMs = checkInterval(request.intervalMs);
      const manager = await deps.manager();
      // Named tasks are followed as the objects they are now: a task deleted and created again is another task.
      const named = [...new Set(ids)].map((id) => existing(manager, id));
      while (!context.signal.aborted) {
        const tasks = ids.length === 0 ? manager.list() : named.filter((task) => !task.deleted).sort((a, b) => (a.id < b.id ? -1 : 1));
        if (ids.length > 0 && tasks.length === 0) return;
        const metrics: TaskMetrics[] = [];
        for (const task of tasks) {
          const sample = sampleOf(task);
          if (sample !== undefined) metrics.push(sample);
        }
        yield { metrics };
        try {
          await sleep(intervalMs, undefined, { signal: context.signal });
        } catch {
          return;
        }
      }
    },

    async listTaskProcesses(request) {
      const task = await taskOf(request.containerId);
      return { processes: listTaskProcesses(task, task.services.cgroups.of(task)) };
    },
  };
}
