import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { TaskMetricsSchema } from "@moby-core/container-runtime-api/v1";
import type { TaskMetrics } from "@moby-core/container-runtime-api/v1";
import { binarySize, decimalSize, formatStatsJsonLine, formatStatsTable, statsRow } from "./stats-table.js";

const MiB = 1024n * 1024n;

function sample(seconds: bigint, cpuNs: bigint, limit = 0n): TaskMetrics {
  return create(TaskMetricsSchema, {
    containerId: "web",
    timestamp: { seconds, nanos: 0 },
    cpu: { usage: { total: cpuNs } },
    memory: { usage: { usage: 12n * MiB, limit }, inactiveFile: 2n * MiB },
    pids: { current: 3n },
    io: { usage: [{ major: 8n, minor: 0n, rbytes: 4096n, wbytes: 1_500_000n }, { major: 8n, minor: 16n, rbytes: 904n }] },
  });
}

describe("moby stats rows", () => {
  it("computes CPU % between two samples (100% is one CPU), the working set over the limit, I/O and pids", () => {
    const row = statsRow(sample(11n, 2_500_000_000n, 40n * MiB), sample(10n, 1_000_000_000n));
    assert.deepEqual(row, {
      id: "web",
      cpuPercent: 150,
      memoryUsage: Number(10n * MiB),
      memoryLimit: Number(40n * MiB),
      memoryPercent: 25,
      blockRead: 5000,
      blockWrite: 1_500_000,
      pids: 3,
    });
    assert.equal(formatStatsTable([row]), "ID   CPU %    MEM USAGE / LIMIT  MEM %   BLOCK I/O    PIDS\nweb  150.00%  10MiB / 40MiB      25.00%  5kB / 1.5MB  3\n");
  });

  it("has no CPU % without a previous sample, and the node's memory as the limit when there is none", () => {
    const row = statsRow(sample(10n, 1n), undefined, 4 * 1024 ** 3);
    assert.equal(row.cpuPercent, null);
    assert.equal(row.memoryLimit, 4 * 1024 ** 3);
    assert.match(formatStatsTable([row]), /^web {2}-- {5}10MiB \/ 4GiB/m);
    const line = JSON.parse(formatStatsJsonLine(row, sample(10n, 1n))) as { id: string; cpuPercent: null; metrics: { containerId: string; pids: { current: string } } };
    assert.deepEqual([line.id, line.cpuPercent, line.metrics.containerId, line.metrics.pids.current], ["web", null, "web", "3"]);
  });

  it("writes sizes as docker: binary for memory, decimal for I/O", () => {
    assert.deepEqual([binarySize(0), binarySize(512), binarySize(1536), binarySize(64 * 1024 ** 2)], ["0B", "512B", "1.5KiB", "64MiB"]);
    assert.deepEqual([decimalSize(0), decimalSize(999), decimalSize(4096), decimalSize(12_345_678)], ["0B", "999B", "4.1kB", "12.3MB"]);
  });
});
