// Components started while their backend is down come up by themselves (issue
// #15): a real container-store process on a real etcd member that is stopped,
// and a real events process on a real nats-server that is stopped, each
// serve at once, report NOT_SERVING with the reason and answer UNAVAILABLE
// with it, say so once in their log (not at every try), and serve once the
// server starts, as the same process; under a real moby-init the waiting
// store is RUNNING and DEGRADED with the reason, never restarted or FAILED,
// and SERVING once etcd is back. A configuration etcd or NATS answers no to
// still fails start-up at once.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Health as ComponentHealth } from "@moby-core/component-api/v1";
import { ComponentService } from "@moby-core/component-api/v1";
import { Code, ConnectError, ServingStatus, dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ContainerSchema, ContainerStoreService } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { EventsService, PublishRequestSchema } from "@moby-core/events-api/v1";
import { Health } from "@moby-core/grpc-health-api/v1";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import { Assembly } from "../support/assembly.js";
import { ComponentProcess, alive, scratchDirectory, startContainerStore } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";
import { EtcdCluster } from "../support/etcd-cluster.js";
import { NatsCluster } from "../support/nats-cluster.js";
import { teardown } from "../support/teardown.js";

const scratch = scratchDirectory("moby-backend-down-");
const run = promisify(execFile);
const STORE_BIN = "packages/container-store/bin/moby-container-store.js";
const EVENTS_BIN = "packages/events/bin/moby-events.js";

/** A valid container to create. */
function container(id: string): Container {
  return create(ContainerSchema, { id, runtime: { name: "runc" }, spec: { typeUrl: "type.googleapis.com/example.Spec", value: new Uint8Array([1]) } });
}

/** Waits until check returns true, polling. */
async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The error a call rejected with; fails when it succeeded. */
async function rejection(call: Promise<unknown>): Promise<ConnectError> {
  return ConnectError.from(await call.then(() => assert.fail("the call must fail while the backend is down"), (error: unknown) => error));
}

/** The status of service on connection now. */
async function health(connection: Connection, service: string): Promise<ServingStatus> {
  return (await connection.client(Health).check({ service }, { timeoutMs: 5000 })).status as number as ServingStatus;
}

/** Why service is NOT_SERVING, as GetInfo says. */
async function reasonOf(connection: Connection, service: string): Promise<string> {
  const { info } = await connection.client(ComponentService).getInfo({});
  return info!.services.find((s) => s.name === service)?.notServingReason ?? "";
}

/** How many lines of output hold text. */
function linesWith(output: string, text: string): number {
  return output.split("\n").filter((line) => line.includes(text)).length;
}

after(() => scratch.remove());

describe("container-store started while etcd is down", () => {
  const SERVICE = ContainerStoreService.typeName;
  let cluster: EtcdCluster;
  let store: ComponentProcess | undefined;
  let connection: Connection | undefined;

  before(async () => {
    cluster = await EtcdCluster.start(join(scratch.dir, "etcd"), 1);
    await cluster.kill(0);
  });

  after(() =>
    teardown([
      ["the client", () => connection?.close()],
      ["the container store", () => store?.stop("SIGKILL")],
      ["the etcd cluster", () => cluster?.stop()],
    ]),
  );

  it("serves at once, NOT_SERVING with the reason and UNAVAILABLE calls, then SERVING and a create works, as the same process", async () => {
    const socketPath = join(scratch.dir, "cs.sock");
    store = await startContainerStore(socketPath, { backend: "etcd", etcd: { endpoints: cluster.endpoints, prefix: "/down-at-start/" } }, "debug");
    connection = dialSocket(socketPath, { retry: false });
    const reason = /^etcd at http:\/\/127\.0\.0\.1:\d+ cannot be reached: /;

    assert.equal(await health(connection, ""), ServingStatus.SERVING, "the server itself serves");
    assert.equal(await health(connection, SERVICE), ServingStatus.NOT_SERVING);
    assert.match(await reasonOf(connection, SERVICE), reason);
    const refused = await rejection(connection.client(ContainerStoreService).createContainer({ container: container("during") }));
    assert.equal(refused.code, Code.Unavailable, refused.message);
    assert.match(refused.rawMessage, reason);
    const listed = await rejection(connection.client(ContainerStoreService).listContainers({}));
    assert.equal(listed.code, Code.Unavailable, listed.message);

    // Tried again, and said once: the debug line of a later try, one warning in all.
    await store.waitForOutput(/still cannot be reached/);
    assert.equal(linesWith(store.output, "cannot be reached: serving NOT_SERVING"), 1, store.output);

    const pid = store.pid;
    cluster.restart(0);
    await cluster.waitUntilWritable();
    await eventually(async () => (await health(connection!, SERVICE)) === ServingStatus.SERVING, "SERVING once etcd is up");
    assert.equal(await reasonOf(connection, SERVICE), "");
    const created = await connection.client(ContainerStoreService).createContainer({ container: container("after") });
    assert.equal(created.container?.id, "after");
    assert.equal(store.pid, pid);
    assert.ok(alive(pid), "the same process serves");
    await store.waitForOutput(/container store open/);
    assert.equal(linesWith(store.output, "cannot be reached: serving NOT_SERVING"), 1, "one warning for the whole wait");
  });

  it("a prefix whose token key etcd holds but no store made fails start-up at once with one line", async () => {
    const client = cluster.client();
    try {
      await client.put("/bad-token/token-key").value("short");
    } finally {
      client.close();
    }
    const socketPath = join(scratch.dir, "bad.sock");
    const bad = new ComponentProcess(STORE_BIN, {
      MOBY_SOCKET: socketPath,
      MOBY_COMPONENT_NAME: "container-store",
      MOBY_LOG_LEVEL: "warn",
      MOBY_REGISTRY_ENDPOINT: "",
      MOBY_COMPONENT_CONFIG: JSON.stringify({ backend: "etcd", etcd: { endpoints: cluster.endpoints, prefix: "/bad-token/" } }),
    });
    try {
      const exit = await bad.exited;
      assert.equal(exit.code, 1, bad.output);
      assert.match(bad.output, /etcd at http:\/\/127\.0\.0\.1:\d+ cannot be used: \/bad-token\/token-key in etcd does not hold a 32-byte key/);
    } finally {
      await bad.stop("SIGKILL");
    }
  });
});

describe("events started while NATS is down", () => {
  const SERVICE = EventsService.typeName;
  let nats: NatsCluster;
  let events: ComponentProcess | undefined;
  let connection: Connection | undefined;

  before(async () => {
    nats = new NatsCluster(join(scratch.dir, "nats"), 1);
    await nats.start();
    await nats.killNode(0);
  });

  after(() =>
    teardown([
      ["the client", () => connection?.close()],
      ["the events component", () => events?.stop("SIGKILL")],
      ["the NATS server", () => nats?.stop()],
    ]),
  );

  it("serves at once, NOT_SERVING with the reason and UNAVAILABLE calls, then SERVING and a publish works, as the same process", async () => {
    const socketPath = join(scratch.dir, "events.sock");
    events = new ComponentProcess(EVENTS_BIN, {
      MOBY_SOCKET: socketPath,
      MOBY_COMPONENT_NAME: "events",
      MOBY_LOG_LEVEL: "warn",
      MOBY_COMPONENT_CONFIG: JSON.stringify({ backend: "nats", nats: { servers: nats.servers, stream: "DOWN_AT_START", replicas: 1 } }),
    });
    await events.waitForSocket(socketPath);
    connection = dialSocket(socketPath, { retry: false });
    const reason = /^NATS at 127\.0\.0\.1:\d+ cannot be reached: /;

    assert.equal(await health(connection, ""), ServingStatus.SERVING);
    assert.equal(await health(connection, SERVICE), ServingStatus.NOT_SERVING);
    assert.match(await reasonOf(connection, SERVICE), reason);
    const publish = create(PublishRequestSchema, { topic: "/test/down-at-start", source: "tester", event: { typeUrl: "type.googleapis.com/example.Event", value: new Uint8Array([1]) } });
    const refused = await rejection(connection.client(EventsService).publish(publish));
    assert.equal(refused.code, Code.Unavailable, refused.message);
    assert.match(refused.rawMessage, reason);

    const pid = events.pid;
    nats.startNode(0);
    await nats.waitUntilReady();
    await eventually(async () => (await health(connection!, SERVICE)) === ServingStatus.SERVING, "SERVING once NATS is up");
    const published = await connection.client(EventsService).publish(publish);
    assert.ok(published.sequence >= 1n, "a publish works");
    assert.equal(events.pid, pid);
    assert.ok(alive(pid), "the same process serves");
    assert.equal(linesWith(events.output, "cannot be reached: serving NOT_SERVING"), 1, events.output);
  });

  it("a stream configuration the server refuses (3 replicas on a server without a cluster) fails start-up at once with one line", async () => {
    const bad = new ComponentProcess(EVENTS_BIN, {
      MOBY_SOCKET: join(scratch.dir, "bad-events.sock"),
      MOBY_COMPONENT_NAME: "events",
      MOBY_LOG_LEVEL: "warn",
      MOBY_COMPONENT_CONFIG: JSON.stringify({ backend: "nats", nats: { servers: nats.servers, stream: "REFUSED", replicas: 3 } }),
    });
    try {
      const exit = await bad.exited;
      assert.equal(exit.code, 1, bad.output);
      assert.match(bad.output, /cannot open the JetStream stream REFUSED: replicas > 1 not supported in non-clustered mode/);
    } finally {
      await bad.stop("SIGKILL");
    }
  });
});

describe("moby-init with a container-store whose etcd is down", () => {
  let cluster: EtcdCluster;
  let assembly: Assembly | undefined;

  before(async () => {
    cluster = await EtcdCluster.start(join(scratch.dir, "etcd-init"), 1);
    await cluster.kill(0);
  });

  after(() =>
    teardown([
      ["the assembly", () => assembly?.shutdown()],
      ["the assembly's files", () => assembly?.remove()],
      ["the etcd cluster", () => cluster?.stop()],
    ]),
  );

  it("is RUNNING and DEGRADED with the reason, not restarted nor FAILED, and SERVING once etcd is up", async () => {
    const config = JSON.stringify({ backend: "etcd", etcd: { endpoints: cluster.endpoints } });
    assembly = await Assembly.boot(`
components:
  container-store:
    command: ["node", ${JSON.stringify(join(repoRoot, STORE_BIN))}]
    services: [moby.container.store.v1.ContainerStoreService]
    health: { interval: 200ms, timeout: 2s, retries: 3, startPeriod: 30s, startInterval: 100ms }
    restart: { policy: on-failure, delay: 100ms, maxDelay: 1s, startLimitBurst: 2, startLimitInterval: 60s }
    config: ${config}
`);
    const waiting = await assembly.until("container-store", (c) => c.state === ComponentState.RUNNING && c.health === ComponentHealth.DEGRADED);
    assert.match(waiting.message, /moby\.container\.store\.v1\.ContainerStoreService is NOT_SERVING: etcd at http:\/\/127\.0\.0\.1:\d+ cannot be reached: /);
    // As an operator sees it: the state, the health and the reason on the component's line.
    const { stdout } = await run(process.execPath, ["--import", "tsx", join(repoRoot, "packages/cli/bin/moby.js"), "--run-dir", assembly.runDir, "components"], { cwd: repoRoot });
    const line = stdout.split("\n").find((l) => l.startsWith("container-store ")) ?? "";
    assert.match(line, /^container-store\s+running\s+degraded\s+\d+\s+0\s.*ContainerStoreService is NOT_SERVING: etcd at http:\/\/127\.0\.0\.1:\d+ cannot be reached: /, stdout);
    // A dozen health checks (three failed ones would restart it): still the same process, never restarted.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const still = await assembly.component("container-store");
    assert.deepEqual([still.state, still.health, still.pid, still.restarts], [ComponentState.RUNNING, ComponentHealth.DEGRADED, waiting.pid, 0]);

    cluster.restart(0);
    await cluster.waitUntilWritable();
    const serving = await assembly.until("container-store", (c) => c.health === ComponentHealth.SERVING);
    assert.deepEqual([serving.state, serving.pid, serving.restarts, serving.message], [ComponentState.RUNNING, waiting.pid, 0, ""]);
  });
});
