import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { TaskProcessInfoSchema } from "@moby-core/container-runtime-api/v1";
import { cpuTimeCell, formatTopJson, formatTopTable, startCell } from "./top-table.js";

describe("moby top", () => {
  it("writes CPU time and start time as ps does", () => {
    assert.equal(cpuTimeCell(0n), "00:00:00");
    assert.equal(cpuTimeCell(3_723_900_000_000n), "01:02:03");
    assert.equal(cpuTimeCell(90_061n * 1_000_000_000n), "1-01:01:01");
    const now = new Date(2026, 11, 6, 15, 0);
    assert.equal(startCell(new Date(2026, 11, 6, 9, 5), now), "09:05");
    assert.equal(startCell(new Date(2026, 10, 3, 9, 5), now), "Nov03");
  });

  it("lists processes as a table with the exec id, and as JSON", () => {
    const now = new Date(2026, 11, 6, 15, 0);
    const started = { seconds: BigInt(Math.floor(new Date(2026, 11, 6, 14, 30).getTime() / 1000)), nanos: 0 };
    const processes = [
      create(TaskProcessInfoSchema, { pid: 100, ppid: 90, uid: 0, startedAt: started, cpuTime: 2_000_000_000n, args: ["sh", "-c", "sleep 1\nx"] }),
      create(TaskProcessInfoSchema, { pid: 120, ppid: 95, uid: 1000, execId: "debug", startedAt: started, args: ["top"] }),
    ];
    assert.equal(
      formatTopTable(processes, now),
      ["UID   PID  PPID  STIME  TIME      EXEC   CMD", "0     100  90    14:30  00:00:02  -      sh -c sleep 1 x", "1000  120  95    14:30  00:00:00  debug  top", ""].join("\n"),
    );
    const json = JSON.parse(formatTopJson(processes)) as { pid: number; execId?: string; cpuTime?: string }[];
    assert.deepEqual([json[0]!.pid, json[0]!.cpuTime, json[1]!.execId], [100, "2000000000", "debug"]);
  });
});
