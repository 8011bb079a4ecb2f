// A ReDoS pattern in ListTasks' filter, against a real container-runtime
// with a real task (runc, a busybox rootfs) whose container id the pattern
// nearly matches: `id~="^(a+)+$"` against a 48-character id. With
// JavaScript's RegExp this froze the runtime; the filter now matches in
// linear time. The call carries a 10 s deadline, a guard against the freeze,
// not a claim about time. Afterwards a new client must get SERVING, and open
// files and memory must be back within a stated bound. Needs root and runc;
// the container, its shim and every component are removed afterwards.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ContainerRuntimeService, Status } from "@moby-core/container-runtime-api/v1";
import { ContainerSchema, ContainerStoreService } from "@moby-core/container-store-api/v1";
import { makeBusyboxRootfs } from "../../packages/container-runtime/src/busybox-rootfs.js";
import { packOciSpec } from "../../packages/container-runtime/src/oci-spec-builder.js";
import { ComponentProcess, scratchDirectory } from "../support/component-process.js";
import { EventsComponent } from "../support/events-component.js";
import { Figures, assertServing } from "../support/fault-probe.js";

const RUNC = ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"].find((path) => existsSync(path));
const skip = process.getuid?.() === 0 && RUNC !== undefined ? false : "needs root and runc";
const DEADLINE = { timeoutMs: 10_000 };

describe("faults: a ReDoS pattern in ListTasks' filter", { skip }, () => {
  const scratch = scratchDirectory("moby-faults-");
  const suffix = Math.random().toString(36).slice(2, 8);
  /** Unique per run (runc's cgroups are node-wide); the pattern nearly matches its 40 leading "a". */
  const evilId = `${"a".repeat(40)}-${suffix}`;
  const events = new EventsComponent(join(scratch.dir, "events"));
  const storeSocket = join(scratch.dir, "store", "cs.sock");
  const runtimeSocket = join(scratch.dir, "rt", "container-runtime.sock");
  const stateDir = join(scratch.dir, "rt", "container-runtime");
  const processes: ComponentProcess[] = [];
  const connections: Connection[] = [];
  let runtime: ComponentProcess;

  function dial(socketPath: string): Connection {
    const connection = dialSocket(socketPath, { retry: false });
    connections.push(connection);
    return connection;
  }

  before(async () => {
    const rootfs = makeBusyboxRootfs(join(scratch.dir, "rootfs"));
    await events.start();
    const store = new ComponentProcess("packages/container-store/bin/moby-container-store.js", {
      MOBY_SOCKET: storeSocket,
      MOBY_COMPONENT_NAME: "container-store",
      MOBY_LOG_LEVEL: "warn",
      MOBY_REGISTRY_ENDPOINT: "",
      MOBY_ENDPOINT_EVENTS: events.socketPath,
      MOBY_COMPONENT_CONFIG: JSON.stringify({ database: join(scratch.dir, "store", "containers.db") }),
    });
    processes.push(store);
    await store.waitForSocket(storeSocket);
    runtime = new ComponentProcess("packages/container-runtime/bin/moby-container-runtime.js", {
      MOBY_SOCKET: runtimeSocket,
      MOBY_RUN_DIR: join(scratch.dir, "rt"),
      MOBY_COMPONENT_NAME: "container-runtime",
      MOBY_LOG_LEVEL: "warn",
      MOBY_REGISTRY_ENDPOINT: "",
      MOBY_ENDPOINT_CONTAINER_STORE: storeSocket,
      MOBY_ENDPOINT_EVENTS: events.socketPath,
    });
    processes.push(runtime);
    await runtime.waitForSocket(runtimeSocket);
    await dial(runtimeSocket).waitForHealthy(ContainerRuntimeService.typeName, 20_000);
    const spec = packOciSpec({ rootfs, args: ["true"] });
    for (const id of [evilId, `aaaa-${suffix}`]) {
      await dial(storeSocket).client(ContainerStoreService).createContainer({ container: create(ContainerSchema, { id, runtime: { name: "runc" }, spec }) });
      await dial(runtimeSocket).client(ContainerRuntimeService).createTask({ containerId: id });
    }
  });

  after(async () => {
    connections.splice(0).forEach((c) => c.close());
    for (const child of processes) await child.stop("SIGKILL");
    await events.close();
    // runc's containers and the shims outlive the runtime by design: remove them.
    const root = join(stateDir, "runc");
    if (RUNC !== undefined && existsSync(root)) {
      for (const id of [evilId, `aaaa-${suffix}`]) spawnSync(RUNC, ["--root", root, "delete", "--force", id]);
    }
    const tasks = join(stateDir, "tasks");
    for (const id of existsSync(tasks) ? readdirSync(tasks) : []) {
      try {
        const { pid } = JSON.parse(readFileSync(join(tasks, id, "init", "shim.json"), "utf8")) as { pid: number };
        process.kill(pid, "SIGKILL");
      } catch {
        // No shim, or it is gone.
      }
    }
    scratch.remove();
  });

  it('ListTasks with id~="^(a+)+$" (and other backtracking patterns) answers, and the runtime goes on serving', async (t) => {
    const figures = new Figures(runtime.pid);
    const client = dial(runtimeSocket).client(ContainerRuntimeService);
    const started = performance.now();
    const all = await client.listTasks({}, DEADLINE);
    assert.deepEqual(all.tasks.map((task) => task.status), [Status.CREATED, Status.CREATED]);
    for (const filter of ['id~="^(a+)+$"', 'id~="^(a|aa)+-"', 'id~="(a*)*_$"', 'status~="^(c|r|e|a|t|d)+x$"']) {
      const { tasks } = await client.listTasks({ filter }, DEADLINE);
      const expected = filter === 'id~="^(a|aa)+-"' ? [`aaaa-${suffix}`, evilId].sort() : [];
      assert.deepEqual(tasks.map((task) => task.containerId).sort(), expected, filter);
    }
    t.diagnostic(`5 ListTasks over 2 tasks: ${(performance.now() - started).toFixed(0)} ms`);
    await assertServing(runtimeSocket);
    await figures.settle(t, { files: 5, mib: 64 });
  });
});
