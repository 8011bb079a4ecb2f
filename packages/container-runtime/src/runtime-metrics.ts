/**
 * container-runtime's own metrics, next to what the SDK exports for every
 * component: the tasks by status, the process exits and OOM events seen,
 * and each running container's CPU, memory and pids read from its cgroup
 * at scrape time, named and labelled (container_id) as containerd's cgroup
 * metrics are, so its dashboards read ours. As containerd's, the cgroup
 * figures are gauges, even those that only grow.
 */
import type { ComponentMetrics, Gauge } from "@moby-core/sdk";
import { Status } from "@moby-core/container-runtime-api/v1";
import type { TaskMetrics } from "@moby-core/container-runtime-api/v1";
import type { Logger } from "pino";
import type { TaskManager } from "./task-manager.js";

/** The status label values: the Status names, lowercase, without UNSPECIFIED. */
const STATUSES = Object.entries(Status)
  .filter((entry): entry is [string, number] => typeof entry[1] === "number" && entry[0] !== "UNSPECIFIED")
  .map(([name, value]) => [value, name.toLowerCase()] as const);

/** One containerd cgroup metric: its name, help, and how it is read from a sample (undefined when the sample lacks it). */
interface CgroupFigure {
  name: string;
  help: string;
  read: (sample: TaskMetrics) => bigint | undefined;
}

const CGROUP_FIGURES: CgroupFigure[] = [
  { name: "container_cpu_total_nanoseconds", help: "The total cpu time", read: (s) => s.cpu?.usage?.total },
  { name: "container_cpu_kernel_nanoseconds", help: "The total kernel cpu time", read: (s) => s.cpu?.usage?.kernel },
  { name: "container_cpu_user_nanoseconds", help: "The total user cpu time", read: (s) => s.cpu?.usage?.user },
  { name: "container_cpu_throttle_periods_total", help: "The total cpu throttle periods", read: (s) => s.cpu?.throttling?.periods },
  { name: "container_cpu_throttled_periods_total", help: "The total cpu throttled periods", read: (s) => s.cpu?.throttling?.throttledPeriods },
  { name: "container_cpu_throttled_time_nanoseconds", help: "The total cpu throttled time", read: (s) => s.cpu?.throttling?.throttledTime },
  { name: "container_memory_usage_usage_bytes", help: "The memory usage", read: (s) => s.memory?.usage?.usage },
  { name: "container_memory_usage_limit_bytes", help: "The memory limit", read: (s) => s.memory?.usage?.limit },
  { name: "container_memory_usage_max_bytes", help: "The memory maximum usage", read: (s) => s.memory?.usage?.max },
  { name: "container_memory_usage_failcnt_total", help: "The memory usage failcnt", read: (s) => s.memory?.usage?.failcnt },
  { name: "container_memory_rss_bytes", help: "The rss amount", read: (s) => s.memory?.rss },
  { name: "container_memory_cache_bytes", help: "The cache amount used", read: (s) => s.memory?.cache },
  { name: "container_memory_oom_total", help: "The number of times a container has received an oom event", read: (s) => s.memory?.oomKill },
  { name: "container_pids_current", help: "The current number of pids", read: (s) => s.pids?.current },
  { name: "container_pids_limit", help: "The limit to the number of pids allowed", read: (s) => s.pids?.limit },
];

/** Registers the runtime's metrics; manager gives the task manager once the runtime can run containers. */
export function registerRuntimeMetrics(metrics: ComponentMetrics, manager: () => TaskManager | undefined, logger: Logger): void {
  metrics.gauge({
    name: "moby_container_runtime_tasks",
    help: "How many tasks the runtime holds, by status.",
    labelNames: ["status"] as const,
    collect() {
      const tasks = manager()?.list() ?? [];
      for (const [value, status] of STATUSES) this.set({ status }, tasks.filter((t) => t.status() === value).length);
    },
  });
  const counts = () => manager()?.services.events.counts ?? { initExits: 0, execExits: 0, ooms: 0 };
  metrics.counter({
    name: "moby_container_runtime_process_exits_total",
    help: "How many processes of tasks exited since the component started: a task's init process, or an exec process.",
    labelNames: ["process"] as const,
    collect() {
      this.reset();
      this.inc({ process: "init" }, counts().initExits);
      this.inc({ process: "exec" }, counts().execExits);
    },
  });
  metrics.counter({
    name: "moby_container_runtime_ooms_total",
    help: "How many /tasks/oom events the runtime published since it started: the kernel's OOM killer killed a process of a task.",
    collect() {
      this.reset();
      this.inc(counts().ooms);
    },
  });

  // One cgroup read per running task per scrape, shared by every figure: the first collect of a scrape reads, the rest of that turn reuse it.
  let samples: TaskMetrics[] | undefined;
  const sampled = (): TaskMetrics[] => {
    if (samples !== undefined) return samples;
    samples = [];
    const current = manager();
    for (const task of current?.list() ?? []) {
      if (task.status() === Status.STOPPED) continue;
      try {
        samples.push(current!.services.cgroups.metrics(task));
      } catch (error) {
        logger.debug({ err: error, container: task.id }, "no cgroup sample for the metrics");
      }
    }
    setImmediate(() => (samples = undefined));
    return samples;
  };
  for (const figure of CGROUP_FIGURES) {
    metrics.gauge({
      name: figure.name,
      help: figure.help,
      labelNames: ["container_id"] as const,
      collect(this: Gauge<"container_id">) {
        this.reset();
        for (const sample of sampled()) {
          const value = figure.read(sample);
          if (value !== undefined) this.set({ container_id: sample.containerId }, Number(value));
        }
      },
    });
  }
}
