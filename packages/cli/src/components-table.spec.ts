import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Health } from "@moby-core/component-api/v1";
import { ComponentSchema, ComponentState } from "@moby-core/supervisor-api/v1";
import { ExitStatusSchema } from "@moby-core/types-api/v1";
import type { Component } from "@moby-core/supervisor-api/v1";
import {
  componentToJson,
  formatComponentsJson,
  formatComponentsTable,
  formatTable,
  healthWord,
  stateWord,
  uptimeSeconds,
} from "./components-table.js";

const now = new Date("2025-01-01T12:00:00.000Z");
const ago = (seconds: number) => timestampFromDate(new Date(now.getTime() - seconds * 1_000));

function running(name: string, pid: number, upSeconds: number, requires: string[] = []): Component {
  return create(ComponentSchema, {
    name,
    state: ComponentState.RUNNING,
    health: Health.SERVING,
    pid,
    startTime: ago(upSeconds),
    readyTime: ago(upSeconds - 1),
    socketPath: `/run/moby/${name}.sock`,
    requires,
  });
}

const stopped = create(ComponentSchema, {
  name: "events",
  state: ComponentState.STOPPED,
  health: Health.UNSPECIFIED,
  restarts: 2,
  socketPath: "/run/moby/events.sock",
  lastExit: create(ExitStatusSchema, { exitCode: 143, signal: "SIGTERM", exitTime: ago(30) }),
  message: "stopped by an operator",
});

describe("stateWord and healthWord", () => {
  it("are lower-case words without the enum prefix", () => {
    assert.equal(stateWord(ComponentState.RUNNING), "running");
    assert.equal(stateWord(ComponentState.BACKOFF), "backoff");
    assert.equal(stateWord(ComponentState.UNSPECIFIED), "unspecified");
    assert.equal(healthWord(Health.SERVING), "serving");
    assert.equal(healthWord(Health.NOT_SERVING), "not-serving");
    assert.equal(healthWord(Health.UNHEALTHY), "unhealthy");
  });

  it("fall back to the number for a value this CLI does not know", () => {
    assert.equal(stateWord(42 as ComponentState), "42");
  });
});

describe("uptimeSeconds", () => {
  it("counts whole seconds since the start, null when not running", () => {
    assert.equal(uptimeSeconds(running("a", 10, 192), now), 192);
    assert.equal(uptimeSeconds(stopped, now), null);
  });
});

describe("formatTable", () => {
  it("aligns columns two spaces apart and does not pad the last one", () => {
    assert.equal(
      formatTable(
        ["A", "BB", "C"],
        [
          ["xxx", "y", "z"],
          ["x", "yyyy", ""],
        ],
      ),
      "A    BB    C\nxxx  y     z\nx    yyyy\n",
    );
  });
});

describe("formatComponentsTable", () => {
  it("writes one row per component with dashes for what is not there", () => {
    const table = formatComponentsTable([running("init", 1, 7_260), running("store", 1234, 192, ["init"])], now);
    assert.equal(
      table,
      [
        "NAME   STATE    HEALTH   PID   RESTARTS  UPTIME  SOCKET",
        "init   running  serving  1     0         2h1m    /run/moby/init.sock",
        "store  running  serving  1234  0         3m12s   /run/moby/store.sock",
        "",
      ].join("\n"),
    );
  });

  it("adds a MESSAGE column when a component has a message", () => {
    const lines = formatComponentsTable([running("init", 1, 5), stopped], now).split("\n");
    assert.equal(lines[0], "NAME    STATE    HEALTH   PID  RESTARTS  UPTIME  SOCKET                 MESSAGE");
    assert.equal(lines[1], "init    running  serving  1    0         5s      /run/moby/init.sock");
    assert.equal(lines[2], "events  stopped  -        -    2         -       /run/moby/events.sock  stopped by an operator");
  });

  it("keeps a multi-line message on its row", () => {
    const broken = create(ComponentSchema, { ...stopped, message: "first\n  second" });
    assert.match(formatComponentsTable([broken], now), /first second\n$/);
  });

  it("writes only the header for no components", () => {
    assert.equal(formatComponentsTable([], now), "NAME  STATE  HEALTH  PID  RESTARTS  UPTIME  SOCKET\n");
  });
});

describe("componentToJson", () => {
  it("writes the documented fields of a running component", () => {
    assert.deepEqual(componentToJson(running("store", 1234, 192, ["init"]), now), {
      name: "store",
      state: "running",
      health: "serving",
      pid: 1234,
      restarts: 0,
      uptimeSeconds: 192,
      socket: "/run/moby/store.sock",
      containerId: "",
      image: "",
      requires: ["init"],
      message: "",
      lastExit: null,
      startTime: "2025-01-01T11:56:48.000Z",
      readyTime: "2025-01-01T11:56:49.000Z",
    });
  });

  it("writes nulls for what a stopped component lacks, and its last exit", () => {
    const json = componentToJson(stopped, now);
    assert.equal(json.state, "stopped");
    assert.equal(json.health, "unspecified");
    assert.equal(json.pid, 0);
    assert.equal(json.uptimeSeconds, null);
    assert.equal(json.startTime, null);
    assert.equal(json.readyTime, null);
    assert.deepEqual(json.lastExit, { exitCode: 143, signal: "SIGTERM", time: "2025-01-01T11:59:30.000Z" });
  });

  it("writes a null signal for a process that exited on its own", () => {
    const exited = create(ComponentSchema, { name: "x", lastExit: { exitCode: 3 } });
    assert.deepEqual(componentToJson(exited, now).lastExit, { exitCode: 3, signal: null, time: null });
  });
});

describe("formatComponentsJson", () => {
  it("is a JSON array in the given order", () => {
    const parsed = JSON.parse(formatComponentsJson([running("init", 1, 5), stopped], now)) as { name: string }[];
    assert.deepEqual(
      parsed.map((c) => c.name),
      ["init", "events"],
    );
  });
});

describe("contained components in the table", () => {
  it("adds CONTAINER and IMAGE once a component runs contained, - for a host process", () => {
    const now = new Date("2026-01-01T00:00:10Z");
    const host = create(ComponentSchema, { name: "runtime", state: ComponentState.RUNNING, pid: 7, socketPath: "/run/moby/runtime.sock" });
    const contained = create(ComponentSchema, {
      name: "events",
      state: ComponentState.RUNNING,
      pid: 9,
      socketPath: "/run/moby/sockets/events/events.sock",
      containerId: "events",
      image: "moby-core/events:0.1.0@sha256:abc",
    });
    const lines = formatComponentsTable([host, contained], now).split("\n");
    assert.match(lines[0]!, /SOCKET\s+CONTAINER\s+IMAGE$/);
    assert.match(lines[1]!, /runtime\.sock\s+-\s+-$/);
    assert.match(lines[2]!, /events\.sock\s+events\s+moby-core\/events:0\.1\.0@sha256:abc$/);
    assert.doesNotMatch(formatComponentsTable([host], now), /CONTAINER/, "no such columns without a contained component");
  });
});
