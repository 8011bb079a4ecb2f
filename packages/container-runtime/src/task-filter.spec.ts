import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Status } from "@moby-core/container-runtime-api/v1";
import { exitStatusOf } from "./process-files.js";
import { parseTaskFilter, taskMatches } from "./task-filter.js";

describe("task filters", () => {
  it("match id and status", () => {
    const filter = parseTaskFilter("status==running,id~=^web-");
    assert.equal(taskMatches(filter, "web-1", Status.RUNNING), true);
    assert.equal(taskMatches(filter, "web-1", Status.PAUSED), false);
    assert.equal(taskMatches(filter, "db-1", Status.RUNNING), false);
    assert.equal(taskMatches(parseTaskFilter(""), "x", Status.CREATED), true);
    assert.equal(taskMatches(parseTaskFilter("status!=stopped"), "x", Status.PAUSING), true);
  });

  it("refuse unknown fields and statuses, malformed terms and long filters, naming filter", () => {
    for (const bad of ["image==x", "status==sleeping", "status==RUNNING", "id~=(", "id==", "x".repeat(1025)]) {
      assert.throws(() => parseTaskFilter(bad), /^InvalidArgumentError: filter: /, bad);
    }
  });
});

describe("exit statuses", () => {
  it("read wait statuses as shells report them", () => {
    assert.deepEqual(exitStatusOf(0), { exitCode: 0, signal: 0 });
    assert.deepEqual(exitStatusOf(3 << 8), { exitCode: 3, signal: 0 });
    assert.deepEqual(exitStatusOf(9), { exitCode: 137, signal: 9 });
    assert.deepEqual(exitStatusOf(15 | 0x80), { exitCode: 143, signal: 15 });
    assert.deepEqual(exitStatusOf(-1), { exitCode: 255, signal: 0 });
  });
});
