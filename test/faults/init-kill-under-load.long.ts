// kill -9 under write load, with the reference assembly as moby.yaml runs it
// (events, container-store, container-runtime under a real moby-init): while
// writers create containers and publish events, counting every acknowledged
// write, each component in turn and then init itself is killed with SIGKILL.
// A killed component is restarted by init; a killed init's components shut
// down through its pipe and a new init on the same run directory brings the
// assembly back. After each recovery every acknowledged write must be there
// (lost = 0), and nothing unsupervised may run: every component process is a
// child of the live init, every earlier one has ended. Prints the lost
// writes and the time to healthy per kill. Needs root and runc (as
// container-runtime does). Every process started is ended by pid, even on
// failure.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Health } from "@moby-core/component-api/v1";
import { OciSpecSchema } from "@moby-core/container-runtime-api/v1";
import { ContainerSchema, ContainerStoreService } from "@moby-core/container-store-api/v1";
import { EventsService, StartPosition } from "@moby-core/events-api/v1";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ComponentState, SupervisorService } from "@moby-core/supervisor-api/v1";
import type { Component } from "@moby-core/supervisor-api/v1";
import { alive, scratchDirectory } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";
import { SubscriptionReader, containerCreate, containerId } from "../support/events-component.js";

const RUNC = ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"].find((path) => existsSync(path));
const skip = process.getuid?.() === 0 && RUNC !== undefined ? false : "needs root and runc, as container-runtime does";

const NAMES = ["events", "container-store", "container-runtime"] as const;
const WRITERS = 4;
/** How long the writers write before a kill and after a recovery, in ms. */
const WRITE_MS = 1500;
const SOURCE = "fault-writer";

/** Tells whether pid runs: alive and not a zombie waiting to be reaped. */
function runs(pid: number): boolean {
  try {
    return alive(pid) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
}

/** The parent pid of pid, from /proc. */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writers creating containers and publishing events one after the other, counting what was acknowledged. */
class WriteLoad {
  /** Container ids whose CreateContainer was answered OK. */
  readonly containers = new Set<string>();
  /** Container ids of published events answered OK. */
  readonly events = new Set<string>();
  failures = 0;
  private running = true;
  private readonly workers: Promise<void>[];
  private readonly connections: Connection[] = [];
  private next = 0;

  constructor(runDir: string, round: string) {
    const spec = anyPack(OciSpecSchema, create(OciSpecSchema, { json: new TextEncoder().encode('{"ociVersion":"1.1.0"}') }));
    this.workers = Array.from({ length: WRITERS }, (_, w) => {
      const store = dialSocket(join(runDir, "container-store.sock"), { retry: false, timeoutMs: 5000 });
      const events = dialSocket(join(runDir, "events.sock"), { retry: false, timeoutMs: 5000 });
      this.connections.push(store, events);
      const write = async (what: "store" | "events") => {
        while (this.running) {
          const id = `${round}-${what}-${w}-${this.next++}`;
          try {
            if (what === "store") {
              await store.client(ContainerStoreService).createContainer({ container: create(ContainerSchema, { id, runtime: { name: "runc" }, spec }) });
              this.containers.add(id);
            } else {
              await events.client(EventsService).publish(containerCreate(id, { source: SOURCE, publishId: id }));
              this.events.add(id);
            }
          } catch {
            this.failures++;
            await sleep(20);
          }
        }
      };
      return Promise.all([write("store"), write("events")]).then(() => {});
    });
  }

  /** Stops writing once the calls in flight end. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    for (const connection of this.connections) connection.close();
  }
}

/** A moby-init of the reference assembly on a run directory, its components watched through the supervisor API. */
class ReferenceInit {
  output = "";
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  private readonly connection: Connection;

  constructor(
    manifest: string,
    readonly runDir: string,
    pids: Set<number>,
  ) {
    this.child = spawn(process.execPath, [join(repoRoot, "packages/init/bin/moby-init.js"), "--manifest", manifest, "--run-dir", runDir], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    pids.add(this.child.pid!);
    this.child.stdout!.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
    this.connection = dialSocket(join(runDir, "init.sock"), { timeoutMs: 2000 });
  }

  /** init's process id. */
  get pid(): number {
    return this.child.pid!;
  }

  /** The components, or undefined while init does not answer. */
  async components(): Promise<Component[] | undefined> {
    try {
      return (await this.connection.client(SupervisorService).listComponents({})).components.filter((c) => c.name !== "init");
    } catch {
      return undefined;
    }
  }

  /** Waits until every component is RUNNING and SERVING with a pid not in old; returns them. */
  async healthy(old: Set<number>, timeoutMs = 60_000): Promise<Component[]> {
    const deadline = Date.now() + timeoutMs;
    let last: Component[] | undefined;
    while (Date.now() < deadline) {
      last = await this.components();
      const ready = last?.filter((c) => c.state === ComponentState.RUNNING && c.health === Health.SERVING && !old.has(c.pid));
      if (ready?.length === NAMES.length) return ready;
      await sleep(50);
    }
    throw new Error(`the assembly was not healthy within ${timeoutMs} ms; last: ${JSON.stringify(last?.map((c) => [c.name, c.state, c.health, c.pid, c.message]))}\n${this.output}`);
  }

  /** Closes the connection to init's socket. */
  close(): void {
    this.connection.close();
  }
}

describe("kill -9 under write load", { skip }, () => {
  const scratch = scratchDirectory("moby-faults-load-");
  const runDir = join(scratch.dir, "run");
  const manifest = join(scratch.dir, "moby.yaml");
  /** Every process started or seen, ended by pid after the tests. */
  const pids = new Set<number>();
  let init: ReferenceInit;
  /** Every component pid ever seen. */
  const seen = new Set<number>();
  const acked = { containers: new Set<string>(), events: new Set<string>() };

  before(async () => {
    const component = (script: string, extra: Record<string, unknown>) => ({ command: [process.execPath, script], workingDir: repoRoot, ...extra });
    const components = {
      events: component("packages/events/bin/moby-events.js", { services: ["moby.events.v1.EventsService"] }),
      "container-store": component("packages/container-store/bin/moby-container-store.js", { services: ["moby.container.store.v1.ContainerStoreService"] }),
      "container-runtime": component("packages/container-runtime/bin/moby-container-runtime.js", {
        services: ["moby.container.runtime.v1.ContainerRuntimeService"],
        requires: ["container-store"],
      }),
    };
    writeFileSync(manifest, JSON.stringify({ components }, null, 2));
    init = new ReferenceInit(manifest, runDir, pids);
    for (const c of await init.healthy(new Set())) seen.add(c.pid);
  });

  after(async () => {
    init?.close();
    if (init !== undefined && runs(init.pid)) {
      init.child.kill("SIGTERM");
      await init.exited;
    }
    for (const pid of [...pids, ...seen]) if (runs(pid)) process.kill(pid, "SIGKILL");
    scratch.remove();
  });

  /** Checks that every acknowledged write so far is stored; returns how many were lost. */
  async function lostWrites(): Promise<{ containers: number; events: number }> {
    const store = dialSocket(join(runDir, "container-store.sock"));
    const events = dialSocket(join(runDir, "events.sock"));
    try {
      const stored = new Set<string>();
      let pageToken = "";
      do {
        const page = await store.client(ContainerStoreService).listContainers({ pageSize: 1000, pageToken });
        for (const c of page.containers) stored.add(c.id);
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      const client = events.client(EventsService);
      const { latestSequence } = await client.getStatus({});
      const reader = new SubscriptionReader(client, { start: StartPosition.OLDEST, filters: [`source=="${SOURCE}"`] });
      const published = new Set<string>();
      try {
        while (reader.lastResume < latestSequence) {
          const message = await reader.next();
          if (message.envelope !== undefined) published.add(containerId(message.envelope));
        }
      } finally {
        reader.close();
      }
      return {
        containers: [...acked.containers].filter((id) => !stored.has(id)).length,
        events: [...acked.events].filter((id) => !published.has(id)).length,
      };
    } finally {
      store.close();
      events.close();
    }
  }

  /** Checks that each component runs as a child of the live init and that no earlier component process runs. */
  async function nothingUnsupervised(current: Component[]): Promise<void> {
    const live = new Set(current.map((c) => c.pid));
    for (const c of current) assert.equal(parentOf(c.pid), init.pid, `${c.name} (pid ${c.pid}) is a child of the live init`);
    const stray = [...seen].filter((pid) => !live.has(pid) && runs(pid));
    assert.deepEqual(stray, [], "no earlier component process runs");
  }

  for (const victim of [...NAMES, "init"] as const) {
    it(`loses no acknowledged write when ${victim} is killed with SIGKILL`, async (t) => {
      const load = new WriteLoad(runDir, `kill-${victim}`);
      await sleep(WRITE_MS);
      const before = (await init.components())!;
      const old = new Set(before.map((c) => c.pid));
      const killedAt = Date.now();
      let current: Component[];
      if (victim === "init") {
        init.close();
        process.kill(init.pid, "SIGKILL");
        await init.exited;
        // Its components learn it is gone through its pipe and shut down; the new init stops any left draining.
        init = new ReferenceInit(manifest, runDir, pids);
        current = await init.healthy(old);
      } else {
        const pid = before.find((c) => c.name === victim)!.pid;
        process.kill(pid, "SIGKILL");
        const others = new Set([...old].filter((p) => p !== pid));
        // Only the victim is new; the others keep their pids.
        const deadline = Date.now() + 60_000;
        for (;;) {
          const now = (await init.components()) ?? [];
          const v = now.find((c) => c.name === victim);
          if (v !== undefined && v.state === ComponentState.RUNNING && v.health === Health.SERVING && v.pid !== pid) {
            current = now;
            break;
          }
          if (Date.now() > deadline) assert.fail(`${victim} was not healthy again within 60 s:\n${init.output}`);
          await sleep(50);
        }
        assert.deepEqual(
          current.filter((c) => c.name !== victim).map((c) => others.has(c.pid)),
          [true, true],
          "the other components were not restarted",
        );
      }
      const toHealthy = Date.now() - killedAt;
      if (victim === "init") {
        // How the killed init's components ended: by themselves through its pipe, or stopped by the new init.
        const stopped = init.output.split("\n").filter((line) => line.includes("of an earlier init (pid")).length;
        t.diagnostic(`kill -9 init: components that exited through init's pipe: ${old.size - stopped}; still draining and stopped by the new init: ${stopped}`);
      }
      for (const c of current) seen.add(c.pid);
      await sleep(WRITE_MS);
      await load.stop();
      for (const id of load.containers) acked.containers.add(id);
      for (const id of load.events) acked.events.add(id);
      const lost = await lostWrites();
      t.diagnostic(
        `kill -9 ${victim}: time to healthy ${toHealthy} ms; acknowledged ${load.containers.size} creates and ${load.events.size} publishes (${load.failures} failed calls); lost ${lost.containers} creates, ${lost.events} publishes (of ${acked.containers.size} and ${acked.events.size} so far)`,
      );
      assert.deepEqual(lost, { containers: 0, events: 0 }, "every acknowledged write is there");
      assert.ok(load.containers.size > 0 && load.events.size > 0, "the writers wrote");
      await nothingUnsupervised(current);
    });
  }

  it("stops every component with init, and leaves no process", async () => {
    const current = (await init.components())!;
    init.close();
    init.child.kill("SIGTERM");
    await init.exited;
    assert.equal(init.child.exitCode, 0, init.output);
    assert.deepEqual([...seen, ...current.map((c) => c.pid)].filter(runs), [], "no component process outlives init");
  });
});
