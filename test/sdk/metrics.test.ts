// Every component's metrics, through the SDK alone: a component served by
// serveComponent in this process, called over its real unix socket, and its
// GetMetrics text checked by promtool (Prometheus' own parser) and read back
// by a parser of the text format to see the counters move.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, dialSocket, serveComponent } from "@moby-core/sdk";
import type { ComponentServer, Connection } from "@moby-core/sdk";
import { ComponentService } from "@moby-core/component-api/v1";
import { Health } from "@moby-core/grpc-health-api/v1";
import { pino } from "pino";
import { scratchDirectory } from "../support/component-process.js";
import { parseExposition, promtoolCheck, sampleValue } from "../support/prometheus-text.js";

const COMPONENT = "moby.component.v1.ComponentService";
const HEALTH = "grpc.health.v1.Health";

describe("component metrics (SDK)", () => {
  const scratch = scratchDirectory("moby-metrics-");
  let server: ComponentServer;
  let connection: Connection;

  before(async () => {
    server = await serveComponent({
      name: "metered",
      version: "1.2.3",
      revision: "abc123",
      services: [],
      socketPath: join(scratch.dir, "metered.sock"),
      handleSignals: false,
      exitWithInit: false,
      logger: pino({ level: "silent" }),
    });
    connection = dialSocket(server.socketPath, { retry: false });
  });

  after(async () => {
    connection?.close();
    await server?.shutdown();
    scratch.remove();
  });

  const scrape = async () => (await connection.client(ComponentService).getMetrics({})).text;

  it("says so in GetInfo, and serves text that Prometheus' own parser accepts", async () => {
    const { info } = await connection.client(ComponentService).getInfo({});
    assert.ok(info?.capabilities.includes("moby.component.metrics"));
    const text = await scrape();
    const notes = promtoolCheck(text);
    // The SDK's own families follow Prometheus' naming rules; the linter's notes may only be about prom-client's defaults.
    for (const note of notes) assert.doesNotMatch(note, /grpc_server_|moby_component_/, note);
    const families = parseExposition(text);
    for (const name of ["grpc_server_started_total", "grpc_server_handled_total", "grpc_server_msg_received_total", "grpc_server_msg_sent_total", "grpc_server_handling_seconds"]) {
      assert.ok(families.has(name), `${name} is missing`);
    }
    assert.equal(families.get("grpc_server_handling_seconds")?.type, "HISTOGRAM");
    assert.equal(sampleValue(families, "moby_component_info", { name: "metered", version: "1.2.3", revision: "abc123" }), 1);
    assert.ok(families.has("process_cpu_user_seconds_total"), "the process defaults are missing");
    assert.ok(families.has("nodejs_eventloop_lag_seconds"), "the runtime defaults are missing");
  });

  it("counts unary calls: started, handled by code, messages both ways", async () => {
    const unary = { grpc_service: COMPONENT, grpc_method: "GetInfo", grpc_type: "unary" };
    const before = parseExposition(await scrape());
    for (let i = 0; i < 3; i++) await connection.client(ComponentService).getInfo({});
    await assert.rejects(connection.client(ComponentService).reload({}), (error: unknown) => ConnectError.from(error).code === Code.Unimplemented);
    const now = parseExposition(await scrape());
    const delta = (name: string, labels: Record<string, string>) => (sampleValue(now, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
    assert.equal(delta("grpc_server_started_total", unary), 3);
    assert.equal(delta("grpc_server_handled_total", { ...unary, grpc_code: "OK" }), 3);
    assert.equal(delta("grpc_server_msg_received_total", unary), 3);
    assert.equal(delta("grpc_server_msg_sent_total", unary), 3);
    const reload = { grpc_service: COMPONENT, grpc_method: "Reload", grpc_type: "unary" };
    assert.equal(delta("grpc_server_handled_total", { ...reload, grpc_code: "Unimplemented" }), 1);
    assert.equal(delta("grpc_server_msg_sent_total", reload), 0);
  });

  it("counts each message of a stream, and the code a cancelled stream ends with", async () => {
    const watch = { grpc_service: HEALTH, grpc_method: "Watch", grpc_type: "server_stream" };
    const controller = new AbortController();
    const stream = connection.client(Health).watch({ service: "" }, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    server.health.set("", 2);
    await iterator.next();
    controller.abort();
    await assert.rejects(iterator.next());
    // The server learns of the cancel when the stream closes: scrape until it has counted it.
    let families = parseExposition(await scrape());
    while (sampleValue(families, "grpc_server_handled_total", { ...watch, grpc_code: "Canceled" }) === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      families = parseExposition(await scrape());
    }
    server.health.set("", 1);
    assert.equal(sampleValue(families, "grpc_server_started_total", watch), 1);
    assert.equal(sampleValue(families, "grpc_server_msg_received_total", watch), 1);
    assert.equal(sampleValue(families, "grpc_server_msg_sent_total", watch), 2);
    assert.equal(sampleValue(families, "grpc_server_handled_total", { ...watch, grpc_code: "Canceled" }), 1);
  });

  it("serves the author's own metrics next to the SDK's, and refuses the SDK's names", async () => {
    const metrics = server.metrics!;
    const widgets = metrics.counter({ name: "metered_widgets_total", help: "Widgets made.", labelNames: ["color"] as const });
    widgets.inc({ color: "red" }, 2);
    metrics.gauge({
      name: "metered_queue_length",
      help: "Items waiting.",
      collect() {
        this.set(7);
      },
    });
    const families = parseExposition(await scrape());
    assert.equal(sampleValue(families, "metered_widgets_total", { color: "red" }), 2);
    assert.equal(sampleValue(families, "metered_queue_length"), 7);
    assert.throws(() => metrics.counter({ name: "grpc_server_started_total", help: "x" }), /grpc_server_.*SDK's own/);
    assert.throws(() => metrics.gauge({ name: "metered widgets", help: "x" }), /Invalid metric name/);
  });

  it("serves no metrics when asked not to: GetMetrics answers UNIMPLEMENTED", async () => {
    const quiet = await serveComponent({
      name: "quiet",
      version: "1.0.0",
      services: [],
      socketPath: join(scratch.dir, "quiet.sock"),
      handleSignals: false,
      exitWithInit: false,
      logger: pino({ level: "silent" }),
      metrics: false,
    });
    const client = dialSocket(quiet.socketPath, { retry: false });
    try {
      const { info } = await client.client(ComponentService).getInfo({});
      assert.ok(!info?.capabilities.includes("moby.component.metrics"));
      await assert.rejects(client.client(ComponentService).getMetrics({}), (error: unknown) => ConnectError.from(error).code === Code.Unimplemented);
    } finally {
      client.close();
      await quiet.shutdown();
    }
  });
});
