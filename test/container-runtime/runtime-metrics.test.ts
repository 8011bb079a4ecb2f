// container-runtime's own metrics in a real assembly (events, container-store
// and container-runtime under a real moby-init, containers run by runc),
// read with `moby metrics`: tasks by status, process exits, and the running
// container's cgroup figures as containerd names them. Checked by promtool
// and by a parser of the text format.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeBusyboxRootfs } from "../../packages/container-runtime/src/busybox-rootfs.js";
import { scratchDirectory } from "../support/component-process.js";
import { parseExposition, promtoolCheck, sampleValue } from "../support/prometheus-text.js";
import { Init, RUNC, cid, component, moby, ok, skipContainers } from "../cli/moby-assembly.js";

describe("container-runtime metrics", { skip: skipContainers }, () => {
  const scratch = scratchDirectory("moby-runtime-metrics-");
  const rootfs = join(scratch.dir, "rootfs");
  const init = new Init(scratch.dir, {
    events: component("packages/events/bin/moby-events.js", { services: ["moby.events.v1.EventsService"] }),
    "container-store": component("packages/container-store/bin/moby-container-store.js", { services: ["moby.container.store.v1.ContainerStoreService"] }),
    "container-runtime": component("packages/container-runtime/bin/moby-container-runtime.js", {
      services: ["moby.container.runtime.v1.ContainerRuntimeService"],
      requires: ["container-store"],
    }),
  });
  const runcRoot = join(init.runDir, "container-runtime", "runc");
  const id = cid("metrics");

  before(async () => {
    makeBusyboxRootfs(rootfs);
    await init.boot();
  });

  after(async () => {
    try {
      await moby(init.runDir, "rm", "-f", id);
      await init.stopCleanly();
    } finally {
      if (existsSync(runcRoot)) {
        for (const left of spawnSync(RUNC!, ["--root", runcRoot, "list", "-q"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean)) {
          spawnSync(RUNC!, ["--root", runcRoot, "delete", "--force", left]);
        }
      }
      scratch.remove();
    }
  });

  const scrape = async () => {
    const { stdout } = await ok(init.runDir, "metrics");
    promtoolCheck(stdout);
    return parseExposition(stdout);
  };

  it("counts tasks by status and exits, and reads a running container's cgroup", async () => {
    const runtime = { component: "container-runtime" };
    const before = await scrape();
    const exitsBefore = sampleValue(before, "moby_container_runtime_process_exits_total", { ...runtime, process: "init" }) ?? 0;
    await ok(init.runDir, "run", "--rm", "--rootfs", rootfs, "--", "true");
    await ok(init.runDir, "run", "-d", "--name", id, "--rootfs", rootfs, "--", "sleep", "1000");
    const now = await scrape();
    assert.equal(sampleValue(now, "moby_container_runtime_process_exits_total", { ...runtime, process: "init" }), exitsBefore + 1);
    assert.equal(sampleValue(now, "moby_container_runtime_tasks", { ...runtime, status: "running" }), 1);
    const container = { ...runtime, container_id: id };
    assert.equal(sampleValue(now, "container_pids_current", container), 1, "sleep is the container's one process");
    assert.ok(sampleValue(now, "container_memory_usage_usage_bytes", container)! > 0);
    assert.ok(sampleValue(now, "container_cpu_total_nanoseconds", container)! > 0);
    assert.equal(sampleValue(now, "container_memory_oom_total", container), 0);
    assert.equal(sampleValue(now, "moby_component_up", runtime), 1);
  });
});
