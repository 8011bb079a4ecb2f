import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Status, TaskSchema } from "@moby-core/container-runtime-api/v1";
import type { Task } from "@moby-core/container-runtime-api/v1";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Container } from "@moby-core/container-store-api/v1";
import { containerRecord } from "./container-spec.js";
import {
  PS_HEADER,
  agoCell,
  containerToJson,
  exitCell,
  formatContainersJson,
  formatContainersTable,
  joinContainers,
  statusWord,
} from "./containers-table.js";

const now = new Date("2025-01-01T12:00:00.000Z");
const ago = (seconds: number) => timestampFromDate(new Date(now.getTime() - seconds * 1_000));

function record(id: string, args: string[], createdSecondsAgo: number): Container {
  const container = containerRecord({ id, rootfs: "/rootfs", args, env: [], labels: { app: id } });
  container.createdAt = ago(createdSecondsAgo);
  return container;
}

function task(containerId: string, status: Status, extra: MessageInitShape<typeof TaskSchema> = {}): Task {
  return create(TaskSchema, { containerId, status, pid: 4242, createdAt: ago(30), ...extra });
}

const running = task("web", Status.RUNNING, { startedAt: ago(29) });
const exited = task("job", Status.STOPPED, { pid: 4343, startedAt: ago(20), exitStatus: { exitCode: 3, exitTime: ago(10) } });
const killed = task("killed", Status.STOPPED, { exitStatus: { exitCode: 137, signal: "SIGKILL", exitTime: ago(5) } });
const orphan = task("orphan", Status.CREATED, { pid: 99 });
const containers = [record("job", ["sh", "-c", "echo hello; exit 3"], 21), record("idle", ["true"], 3_700), record("web", ["sleep", "1000"], 31), record("killed", ["sleep", "1000"], 65)];
const tasks = [exited, killed, orphan, running];

describe("joinContainers", () => {
  it("lists every task with its record, ordered by id", () => {
    const rows = joinContainers(tasks, containers, false);
    assert.deepEqual(
      rows.map((r) => [r.id, r.task?.status, r.container?.id]),
      [
        ["job", Status.STOPPED, "job"],
        ["killed", Status.STOPPED, "killed"],
        ["orphan", Status.CREATED, undefined],
        ["web", Status.RUNNING, "web"],
      ],
    );
  });

  it("with all, adds the records without a task", () => {
    const rows = joinContainers(tasks, containers, true);
    assert.deepEqual(
      rows.map((r) => r.id),
      ["idle", "job", "killed", "orphan", "web"],
    );
    assert.equal(rows[0]!.task, undefined);
  });
});

describe("cells", () => {
  it("words a status without its prefix, - for none", () => {
    assert.equal(statusWord(Status.RUNNING), "running");
    assert.equal(statusWord(Status.PAUSING), "pausing");
    assert.equal(statusWord(undefined), "-");
    assert.equal(statusWord(Status.UNSPECIFIED), "-");
  });

  it("shows the exit code with the signal's name, - unless stopped", () => {
    assert.equal(exitCell(exited), "3");
    assert.equal(exitCell(killed), "137 (SIGKILL)");
    assert.equal(exitCell(running), "-");
    assert.equal(exitCell(undefined), "-");
  });

  it("says how long ago", () => {
    assert.equal(agoCell(ago(5), now), "5s ago");
    assert.equal(agoCell(ago(3_700), now), "1h1m ago");
    assert.equal(agoCell(undefined, now), "-");
  });
});

describe("formatContainersTable", () => {
  it("prints a header and a row per container, aligned", () => {
    const table = formatContainersTable(joinContainers(tasks, containers, true), now);
    assert.equal(
      table,
      [
        "ID      STATUS   PID   EXIT           CREATED   COMMAND",
        "idle    -        -     -              1h1m ago  true",
        "job     stopped  -     3              21s ago   sh -c 'echo hello; exit 3'",
        "killed  stopped  -     137 (SIGKILL)  1m5s ago  sleep 1000",
        "orphan  created  99    -              30s ago   -",
        "web     running  4242  -              31s ago   sleep 1000",
        "",
      ].join("\n"),
    );
  });

  it("prints only the header when there is nothing", () => {
    assert.equal(formatContainersTable([], now), `${PS_HEADER.join("  ")}\n`);
  });
});

describe("formatContainersJson", () => {
  it("prints the documented objects", () => {
    const rows = joinContainers(tasks, containers, true);
    const parsed = JSON.parse(formatContainersJson(rows)) as unknown[];
    assert.equal(parsed.length, 5);
    assert.deepEqual(parsed[1], {
      id: "job",
      status: "stopped",
      pid: 4343,
      exitCode: 3,
      signal: null,
      command: ["sh", "-c", "echo hello; exit 3"],
      image: "",
      labels: { app: "job" },
      runtime: "runc",
      createdAt: "2025-01-01T11:59:39.000Z",
      startedAt: "2025-01-01T11:59:40.000Z",
      exitedAt: "2025-01-01T11:59:50.000Z",
      execs: [],
      restartCount: 0,
    });
    assert.deepEqual(parsed[0], {
      id: "idle",
      status: null,
      pid: null,
      exitCode: null,
      signal: null,
      command: ["true"],
      image: "",
      labels: { app: "idle" },
      runtime: "runc",
      createdAt: "2025-01-01T10:58:20.000Z",
      startedAt: null,
      exitedAt: null,
      execs: [],
      restartCount: 0,
    });
  });

  it("names the signal, and uses the task's time for a task without a record", () => {
    assert.equal(containerToJson({ id: "killed", task: killed }).signal, "SIGKILL");
    assert.equal(containerToJson({ id: "killed", task: killed }).exitCode, 137);
    const json = containerToJson({ id: "orphan", task: orphan });
    assert.deepEqual([json.status, json.pid, json.exitCode, json.command, json.runtime, json.createdAt], ["created", 99, null, [], "", "2025-01-01T11:59:30.000Z"]);
    const withExecs = containerToJson({ id: "web", task: task("web", Status.RUNNING, { execs: [{ execId: "e-1", pid: 1, status: Status.RUNNING }] }) });
    assert.deepEqual(withExecs.execs, ["e-1"]);
  });
});
