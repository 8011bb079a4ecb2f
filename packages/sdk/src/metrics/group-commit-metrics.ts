/**
 * Metrics of a GroupCommit, for a component that batches durable writes:
 * how many writes each commit held, and how long each took, its fsync
 * included (as etcd's etcd_disk_backend_commit_duration_seconds).
 */
import type { GroupCommit } from "../group-commit.js";
import type { ComponentMetrics } from "./component-metrics.js";

/** The buckets of <prefix>_commit_batch_size: powers of two up to 4096 writes. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

/** The buckets of <prefix>_commit_duration_seconds: 0.1 ms to 8 s, doubling, as etcd's. */
const DURATION_BUCKETS = Array.from({ length: 17 }, (_, i) => 0.0001 * 2 ** i);

/** Registers <prefix>_commit_batch_size and <prefix>_commit_duration_seconds and feeds them from commits. */
export function instrumentGroupCommit(metrics: ComponentMetrics, prefix: string, commits: GroupCommit<unknown, unknown>): void {
  const batch = metrics.histogram({
    name: `${prefix}_commit_batch_size`,
    help: "How many writes each group commit made durable at once.",
    buckets: BATCH_BUCKETS,
  });
  const duration = metrics.histogram({
    name: `${prefix}_commit_duration_seconds`,
    help: "How long each group commit took, its fsync included, in seconds.",
    buckets: DURATION_BUCKETS,
  });
  commits.onCommit = (writes, seconds) => {
    batch.observe(writes);
    duration.observe(seconds);
  };
}
