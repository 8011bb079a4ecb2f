// Streams whose client never reads, against real container-store and events
// processes: 300 StreamContainers calls (at most 16 snapshots open: the rest
// RESOURCE_EXHAUSTED at once), 300 WatchContainers and 300 Subscribe streams
// while writes and publishes go on. After each, a new client must get
// SERVING and the component's open files and memory must come back within a
// stated bound; each case prints its figures (peak fds, peak RSS, time).
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import * as http2 from "node:http2";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ContainerSchema, ContainerStoreService, StreamContainersRequestSchema, WatchContainersRequestSchema } from "@moby-core/container-store-api/v1";
import { OciSpecSchema } from "@moby-core/container-runtime-api/v1";
import { EventsService, StartPosition, SubscribeRequestSchema } from "@moby-core/events-api/v1";
import { ComponentProcess, scratchDirectory } from "../support/component-process.js";
import { EventsComponent, containerCreate } from "../support/events-component.js";
import { Figures, assertServing, grpcMessage, residentMiB, within } from "../support/fault-probe.js";

const UNREAD = 300;

/** A call some client started and never reads: its response headers (and so a trailers-only status) as they come. */
interface UnreadCall {
  /** The grpc-status of a trailers-only answer, once one came; undefined while the stream is open. */
  status: string | undefined;
  /** Resolves with the first response headers. */
  answered: Promise<void>;
}

/** Starts a call on session with one request message and reads nothing of its response. */
function unreadCall<Desc extends DescMessage>(session: http2.ClientHttp2Session, path: string, schema: Desc, request: MessageInitShape<Desc>): UnreadCall {
  const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
  stream.on("error", () => {});
  stream.pause();
  const call: UnreadCall = { status: undefined, answered: Promise.resolve() };
  call.answered = new Promise((resolve) => {
    stream.once("response", (headers) => {
      const status = headers["grpc-status"];
      if (status !== undefined) call.status = String(status);
      resolve();
    });
    stream.once("close", () => resolve());
  });
  stream.end(grpcMessage(toBinary(schema, create(schema, request))));
  return call;
}

/** Opens sessions HTTP/2 connections to socketPath. */
function sessionsTo(socketPath: string, count: number): http2.ClientHttp2Session[] {
  return Array.from({ length: count }, () => {
    const session = http2.connect("http://localhost", { createConnection: () => connect(socketPath) });
    session.on("error", () => {});
    return session;
  });
}

const SPEC = anyPack(OciSpecSchema, create(OciSpecSchema, { json: new TextEncoder().encode('{"ociVersion":"1.1.0"}') }));

describe("faults: unread streams", () => {
  const scratch = scratchDirectory("moby-faults-");
  const storeSocket = join(scratch.dir, "cs.sock");
  const database = join(scratch.dir, "state", "containers.db");
  let store: ComponentProcess;
  const events = new EventsComponent(join(scratch.dir, "events"), { subscriberBufferEvents: 1000 });
  const connections: Connection[] = [];

  before(async () => {
    store = new ComponentProcess("packages/container-store/bin/moby-container-store.js", {
      MOBY_SOCKET: storeSocket,
      MOBY_COMPONENT_NAME: "container-store",
      MOBY_LOG_LEVEL: "warn",
      MOBY_REGISTRY_ENDPOINT: "",
      MOBY_ENDPOINT_EVENTS: join(scratch.dir, "no-events.sock"),
      MOBY_COMPONENT_CONFIG: JSON.stringify({ database }),
    });
    await store.waitForSocket(storeSocket);
    await events.start();
    // 1,000 containers of ~8 KiB: a listing of ~8 MiB, far more than one unread stream can hand over.
    const filler = dial(storeSocket);
    const client = filler.client(ContainerStoreService);
    const value = "v".repeat(4000);
    for (let i = 0; i < 1000; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          client.createContainer({ container: create(ContainerSchema, { id: `c-${String(i + j).padStart(5, "0")}`, runtime: { name: "runc" }, spec: SPEC, labels: { a: value, b: value } }) }),
        ),
      );
    }
    filler.close();
  });
  after(async () => {
    connections.splice(0).forEach((c) => c.close());
    await store?.stop("SIGKILL");
    await events.close();
    scratch.remove();
  });

  function dial(socketPath: string): Connection {
    const connection = dialSocket(socketPath);
    connections.push(connection);
    return connection;
  }

  it("300 unread StreamContainers, three times: 16 snapshots open, the rest RESOURCE_EXHAUSTED at once; all freed when the clients go", async (t) => {
    const figures = new Figures(store.pid);
    const afterRound: number[] = [];
    for (let round = 1; round <= 3; round++) {
      const sessions = sessionsTo(storeSocket, 10);
      const calls = Array.from({ length: UNREAD }, (_, i) => unreadCall(sessions[i % sessions.length]!, "/moby.container.store.v1.ContainerStoreService/StreamContainers", StreamContainersRequestSchema, {}));
      await within(Promise.all(calls.map((c) => c.answered)), "an answer to every call");
      // Writes go on while the snapshots are held: the WAL cannot be reset meanwhile, so it grows.
      const writer = dial(storeSocket);
      const client = writer.client(ContainerStoreService);
      for (let i = 0; i < 100; i++) await client.updateContainer({ container: { id: `c-${String(i).padStart(5, "0")}`, labels: { w: String(i) } }, updateMask: { paths: ["labels.w"] } });
      writer.close();
      figures.sample();
      const refused = calls.filter((c) => c.status === "8").length;
      const open = calls.filter((c) => c.status === undefined).length;
      t.diagnostic(`round ${round}: ${open} open, ${refused} RESOURCE_EXHAUSTED; WAL ${(statSync(`${database}-wal`).size / 1048576).toFixed(1)} MiB`);
      assert.equal(open, 16);
      assert.equal(refused, UNREAD - 16);
      sessions.forEach((s) => s.destroy());
      await assertServing(storeSocket);
      afterRound.push(residentMiB(store.pid));
      t.diagnostic(`round ${round}: RSS ${afterRound.at(-1)!.toFixed(0)} MiB after`);
    }
    // What the rounds leave resident (allocator arenas, V8 heap, SQLite caches) is kept for reuse, not
    // leaked: measured 240, 267, 264 MiB after rounds 1 to 3, and 276 from round 4 to 6.
    // SQLite keeps the file descriptors of a closed connection for reuse while another connection
    // of the process (the store's own) holds a lock on the file: up to one per snapshot slot, reused
    // by the next snapshots (later rounds add none). Before the cap, one round of 300 unread streams
    // took the store from 146 to 792 MiB (+646); the bound here is +192 MiB for three rounds.
    await figures.settle(t, { files: 16 + 5, mib: 192 });
  });

  it("300 unread WatchContainers while 1,000 changes of ~8 KiB are written: memory bounded, all freed", async (t) => {
    const figures = new Figures(store.pid);
    const sessions = sessionsTo(storeSocket, 10);
    const calls = Array.from({ length: UNREAD }, (_, i) => unreadCall(sessions[i % sessions.length]!, "/moby.container.store.v1.ContainerStoreService/WatchContainers", WatchContainersRequestSchema, {}));
    await within(Promise.all(calls.map((c) => c.answered)), "every watch established");
    const writer = dial(storeSocket);
    const client = writer.client(ContainerStoreService);
    const value = "w".repeat(4000);
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          client.updateContainer({ container: { id: `c-${String(i + j).padStart(5, "0")}`, labels: { a: value, b: value } }, updateMask: { paths: ["labels.a", "labels.b"] } }),
        ),
      );
    }
    writer.close();
    figures.sample();
    t.diagnostic(`peak while 300 watchers held ~8 MiB of changes unread: ${figures.peakMiB.toFixed(0)} MiB`);
    assert.ok(figures.peakMiB <= figures.baseMiB + 256, `RSS rose ${(figures.peakMiB - figures.baseMiB).toFixed(0)} MiB with 300 unread watchers`);
    sessions.forEach((s) => s.destroy());
    await assertServing(storeSocket);
    await figures.settle(t, { files: 5, mib: 96 });
  });

  it("300 unread Subscribe streams while 5,000 events are published: memory bounded, publishers answered, all freed", async (t) => {
    const figures = new Figures(events.process!.pid);
    const sessions = sessionsTo(events.socketPath, 10);
    const calls = Array.from({ length: UNREAD }, (_, i) =>
      unreadCall(sessions[i % sessions.length]!, "/moby.events.v1.EventsService/Subscribe", SubscribeRequestSchema, { start: StartPosition.NOW }),
    );
    await within(Promise.all(calls.map((c) => c.answered)), "every subscription established");
    const publisher = events.dial();
    const client = publisher.client(EventsService);
    for (let i = 0; i < 5000; i += 250) {
      await Promise.all(Array.from({ length: 250 }, (_, j) => client.publish(containerCreate(`e-${i + j}`))));
    }
    publisher.close();
    figures.sample();
    assert.ok(figures.peakMiB <= figures.baseMiB + 256, `RSS rose ${(figures.peakMiB - figures.baseMiB).toFixed(0)} MiB with 300 unread subscribers`);
    sessions.forEach((s) => s.destroy());
    await assertServing(events.socketPath);
    await figures.settle(t, { files: 5, mib: 96 });
  });
});
