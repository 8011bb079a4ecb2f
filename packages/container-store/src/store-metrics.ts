/**
 * container-store's own metrics, next to what the SDK exports for every
 * component: the store revision, how many containers it holds and how much
 * history it keeps, the watches open and cut off, and the group commits
 * (batch sizes, and their time with the fsync).
 */
import { instrumentGroupCommit } from "@moby-core/sdk";
import type { ComponentMetrics } from "@moby-core/sdk";
import type { ContainerBackend, WatchStats } from "./container-backend.js";

/** Registers the store's metrics; returns the watch counts for the service to keep. */
export function registerStoreMetrics(metrics: ComponentMetrics, db: ContainerBackend): WatchStats {
  const watches: WatchStats = { open: 0, cutOff: 0 };
  const stats = metrics.perScrape(() => db.stats());
  metrics.gauge({
    name: "moby_container_store_revision",
    help: "The store revision: that of the last write, 0 for a store never written.",
    async collect() {
      this.set(Number(await db.currentRevision()));
    },
  });
  metrics.gauge({
    name: "moby_container_store_oldest_revision",
    help: "The oldest revision whose change is kept for watchers; the store revision + 1 when none is kept. Not reported on etcd, whose compaction decides it.",
    async collect() {
      const { oldestRevision } = await stats();
      if (oldestRevision !== undefined) this.set(Number(oldestRevision));
    },
  });
  metrics.gauge({
    name: "moby_container_store_containers",
    help: "How many container records the store holds.",
    async collect() {
      this.set((await stats()).containers);
    },
  });
  metrics.gauge({
    name: "moby_container_store_watchers",
    help: "How many WatchContainers streams are open.",
    collect() {
      this.set(watches.open);
    },
  });
  metrics.counter({
    name: "moby_container_store_watchers_cut_off_total",
    help: "How many WatchContainers streams were ended with RESOURCE_EXHAUSTED because their client fell too far behind.",
    collect() {
      this.reset();
      this.inc(watches.cutOff);
    },
  });
  if (db.commits !== undefined) instrumentGroupCommit(metrics, "moby_container_store", db.commits);
  return watches;
}
