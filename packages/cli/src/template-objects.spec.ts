import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Status, TaskSchema } from "@moby-core/container-runtime-api/v1";
import { ImageSchema } from "@moby-core/image-api/v1";
import { containerRecord } from "./container-spec.js";
import { dockerTime, humanStatus, imageObject, inspectObject, psObject } from "./template-objects.js";

const now = new Date("2025-01-01T12:00:00.000Z");
const ago = (seconds: number) => timestampFromDate(new Date(now.getTime() - seconds * 1_000));
const record = containerRecord({
  id: "web",
  rootfs: "/rootfs",
  args: ["sh", "-c", "sleep 100"],
  env: ["A=1"],
  labels: { tier: "front", app: "web" },
  workdir: "/srv",
  user: { uid: 1000, gid: 100 },
  mounts: [{ source: "/host/data", target: "/data", readonly: true }],
});
record.createdAt = ago(65);

describe("template objects", () => {
  it("gives a ps row docker's fields: ID, Names, Image, Command, State, Status, Labels, RunningFor", () => {
    const task = create(TaskSchema, { containerId: "web", status: Status.RUNNING, pid: 42, createdAt: ago(65), startedAt: ago(64) });
    const row = psObject({ id: "web", task, container: record }, now);
    assert.equal(row["ID"], "web");
    assert.equal(row["Names"], "web");
    assert.equal(row["Command"], '"sh -c \'sleep 100\'"');
    assert.equal(row["State"], "running");
    assert.equal(row["Status"], "Up 1m4s");
    assert.equal(row["RunningFor"], "1m5s ago");
    assert.equal(row["CreatedAt"], "2025-01-01 11:58:55 +0000 UTC");
    assert.equal(row["Labels"], "app=web,tier=front");
    assert.deepEqual(row["Mounts"], ["/data"]);
    assert.equal(row["Pid"], 42);
    assert.equal(row["ExitCode"], null);
  });

  it("says Exited (code) ago, Created, Paused and Restarting as docker's Status does", () => {
    const exited = create(TaskSchema, { status: Status.STOPPED, exitStatus: { exitCode: 137, signal: "SIGKILL", exitTime: ago(3) } });
    assert.equal(humanStatus(exited, now), "Exited (137) 3s ago");
    assert.equal(psObject({ id: "web", task: exited }, now)["State"], "exited");
    assert.equal(humanStatus(create(TaskSchema, { status: Status.CREATED }), now), "Created");
    assert.equal(humanStatus(create(TaskSchema, { status: Status.PAUSED, startedAt: ago(120) }), now), "Up 2m (Paused)");
    assert.equal(humanStatus(create(TaskSchema, { status: Status.STOPPED, restartTime: ago(-1), exitStatus: { exitCode: 1, exitTime: ago(2) } }), now), "Restarting (1) 2s ago");
    assert.equal(humanStatus(undefined, now), "");
  });

  it("gives inspect docker's State and Config from the task and the record's spec", () => {
    const task = create(TaskSchema, { containerId: "web", status: Status.STOPPED, pid: 42, startedAt: ago(10), exitStatus: { exitCode: 3, exitTime: ago(1) } });
    const object = inspectObject("web", record, task);
    assert.equal(object["Id"], "web");
    assert.equal(object["Name"], "/web");
    assert.equal(object["Path"], "sh");
    assert.deepEqual(object["Args"], ["-c", "sleep 100"]);
    assert.deepEqual(object["State"], {
      Status: "exited",
      Running: false,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: 0,
      ExitCode: 3,
      Error: "",
      StartedAt: "2025-01-01T11:59:50.000Z",
      FinishedAt: "2025-01-01T11:59:59.000Z",
    });
    const config = object["Config"] as Record<string, unknown>;
    assert.ok((config["Env"] as string[]).includes("A=1"));
    assert.equal(config["User"], "1000:100");
    assert.equal(config["WorkingDir"], "/srv");
    assert.deepEqual(config["Labels"], { tier: "front", app: "web" });
    assert.deepEqual(object["Mounts"], [{ Type: "bind", Source: "/host/data", Destination: "/data", RW: false }]);
    assert.equal((inspectObject("web", record, undefined)["State"] as Record<string, unknown>)["Status"], "created");
  });

  it("gives an image docker's images fields", () => {
    const image = create(ImageSchema, { name: "docker.io/library/busybox:1.36", configDigest: `sha256:${"ab".repeat(32)}`, manifestDigest: "sha256:ff", size: 2_000_000n, createdAt: ago(7_200) });
    assert.deepEqual(imageObject(image, now), {
      ID: "abababababab",
      Repository: "busybox",
      Tag: "1.36",
      Digest: "sha256:ff",
      CreatedAt: dockerTime(ago(7_200)),
      CreatedSince: "2h ago",
      Size: "2.00MB",
    });
  });
});
