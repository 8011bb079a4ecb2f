// 300 WatchContainers streams whose client never reads, against a real
// container-store on a real etcd (one member): each watcher has an etcd
// watch stream of its own, so each receives the changes itself. While 1,000
// changes of ~8 KiB are written, memory must stay bounded; when the clients
// go, every etcd watch must close and the memory be reusable (no growth
// from round to round). The SQLite store's case is in unread-streams.test.ts.
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { dialSocket } from "@moby-core/sdk";
import { ContainerSchema, ContainerStoreService, WatchContainersRequestSchema } from "@moby-core/container-store-api/v1";
import { OciSpecSchema } from "@moby-core/container-runtime-api/v1";
import { scratchDirectory, startContainerStore } from "../support/component-process.js";
import type { ComponentProcess } from "../support/component-process.js";
import { EtcdCluster } from "../support/etcd-cluster.js";
import { Figures, assertServing, grpcMessage, residentMiB, within } from "../support/fault-probe.js";
import { teardown } from "../support/teardown.js";

const UNREAD = 300;
const SPEC = anyPack(OciSpecSchema, create(OciSpecSchema, { json: new TextEncoder().encode('{"ociVersion":"1.1.0"}') }));

describe("faults: unread watchers on etcd", () => {
  const scratch = scratchDirectory("moby-faults-etcd-");
  const socketPath = join(scratch.dir, "cs.sock");
  let cluster: EtcdCluster;
  let store: ComponentProcess;

  before(async () => {
    cluster = await EtcdCluster.start(join(scratch.dir, "etcd"), 1);
    store = await startContainerStore(socketPath, { backend: "etcd", etcd: { endpoints: cluster.endpoints, prefix: "/unread/" } });
    const filler = dialSocket(socketPath);
    const client = filler.client(ContainerStoreService);
    for (let i = 0; i < 1000; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => client.createContainer({ container: create(ContainerSchema, { id: `c-${String(i + j).padStart(5, "0")}`, runtime: { name: "runc" }, spec: SPEC }) })));
    }
    filler.close();
  });
  after(() =>
    teardown([
      ["the container store", () => store?.stop("SIGKILL")],
      ["the etcd cluster", () => cluster?.stop()],
      ["the scratch directory", () => scratch.remove()],
    ]),
  );

  /** How many watchers etcd holds now (its own metric): the store's etcd watches still open. */
  async function etcdWatchers(): Promise<number> {
    const text = await (await fetch(`${cluster.endpoints[0]}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith("etcd_debugging_mvcc_watcher_total "));
    assert.ok(line !== undefined, "etcd reports etcd_debugging_mvcc_watcher_total");
    return Number(line.split(" ")[1]);
  }

  /** Resolves once etcd holds count watchers; fails saying what after within's guard. */
  async function watchersReach(count: number, what: string): Promise<void> {
    let now = await etcdWatchers();
    await within(
      (async () => {
        while ((now = await etcdWatchers()) !== count) await new Promise((resolve) => setTimeout(resolve, 100));
      })(),
      `${what} (etcd holds ${count} watchers)`,
    ).catch((error: unknown) => assert.fail(`${String(error)}; it held ${now}`));
  }

  it("300 unread WatchContainers while 1,000 changes of ~8 KiB are written, three times: memory bounded, every etcd watch closed, all freed", async (t) => {
    const figures = new Figures(store.pid);
    const baseWatchers = await etcdWatchers();
    const afterRound: number[] = [];
    for (let round = 1; round <= 3; round++) {
      const roundFigures = new Figures(store.pid);
      const sessions = Array.from({ length: 10 }, () => {
        const session = http2.connect("http://localhost", { createConnection: () => connect(socketPath) });
        session.on("error", () => {});
        return session;
      });
      const answered = Array.from({ length: UNREAD }, (_, i) => {
        const stream = sessions[i % sessions.length]!.request({ ":method": "POST", ":path": "/moby.container.store.v1.ContainerStoreService/WatchContainers", "content-type": "application/grpc", te: "trailers" });
        stream.on("error", () => {});
        stream.pause();
        const headers = new Promise<string>((resolve) => {
          stream.once("response", (h) => resolve(h["grpc-status"] === undefined ? "open" : `${String(h["grpc-status"])} ${String(h["grpc-message"])}`));
          stream.once("close", () => resolve("closed"));
        });
        stream.end(grpcMessage(toBinary(WatchContainersRequestSchema, create(WatchContainersRequestSchema, {}))));
        return headers;
      });
      const answers = await within(Promise.all(answered), "every watch established");
      const refused = answers.filter((a) => a !== "open");
      assert.equal(refused.length, 0, `round ${round}: ${refused.length} watches not open, first: ${refused[0]}`);
      await watchersReach(baseWatchers + UNREAD, "one etcd watch per WatchContainers");
      const writer = dialSocket(socketPath);
      const client = writer.client(ContainerStoreService);
      const value = String(round).repeat(4000);
      for (let i = 0; i < 1000; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            client.updateContainer({ container: { id: `c-${String(i + j).padStart(5, "0")}`, labels: { a: value, b: value } }, updateMask: { paths: ["labels.a", "labels.b"] } }),
          ),
        );
      }
      writer.close();
      figures.sample();
      roundFigures.sample();
      roundFigures.stop();
      assert.ok(roundFigures.peakMiB <= roundFigures.baseMiB + 256, `round ${round}: RSS rose ${(roundFigures.peakMiB - roundFigures.baseMiB).toFixed(0)} MiB with 300 unread watchers`);
      sessions.forEach((s) => s.destroy());
      await assertServing(socketPath);
      await watchersReach(baseWatchers, "every etcd watch closed once its client went");
      afterRound.push(residentMiB(store.pid));
      t.diagnostic(`round ${round}: ${roundFigures.baseMiB.toFixed(0)} MiB before, peak ${roundFigures.peakMiB.toFixed(0)}, ${afterRound.at(-1)!.toFixed(0)} after`);
    }
    // Each watcher has an etcd watch stream of its own, so each receives the changes itself: the
    // peak is ~+210 MiB a round. After a round the V8 heap is back near 40 MB (measured with
    // --trace-gc: 38.9, 41.2, 44.0 MB after rounds 1 to 3), but the allocator keeps what the
    // watch streams' buffers took for reuse: measured 357, 451, 470 and 364, 438, 471 MiB after
    // rounds 1 to 3 from a base of ~150. A leak would grow by a round's worth each round; the third
    // round must add less than a quarter of the first one's peak rise.
    assert.ok(afterRound[2]! - afterRound[1]! <= 64, `the third round added ${(afterRound[2]! - afterRound[1]!).toFixed(0)} MiB: ${afterRound.map((m) => m.toFixed(0)).join(", ")}`);
    await figures.settle(t, { files: 5, mib: 384 });
  });
});
