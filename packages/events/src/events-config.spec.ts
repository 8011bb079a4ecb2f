import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_STREAM, readEventsConfig } from "./events-config.js";

/** Asserts that reading config fails naming field first. */
function refuses(config: Record<string, unknown>, field: string): void {
  assert.throws(
    () => readEventsConfig(config as never, "/run/test"),
    (error: Error) => error.message.startsWith(`${field}: `),
    `${JSON.stringify(config)} is refused naming ${field}`,
  );
}

describe("readEventsConfig", () => {
  it("keeps SQLite the default, with its database under the run directory", () => {
    const config = readEventsConfig({}, "/run/test");
    assert.equal(config.backend, "sqlite");
    assert.equal(config.database, "/run/test/state/events/events.db");
    assert.equal(config.nats, undefined);
  });

  it("reads the nats backend: servers, the stream (MOBY_EVENTS by default) and replicas (1 by default)", () => {
    const config = readEventsConfig({ backend: "nats", nats: { servers: ["127.0.0.1:4222", "nats://n2.example:4222"] } }, "/run/test");
    assert.equal(config.backend, "nats");
    assert.deepEqual(config.nats, { servers: ["127.0.0.1:4222", "nats://n2.example:4222"], stream: DEFAULT_STREAM, replicas: 1 });
    const three = readEventsConfig({ backend: "nats", nats: { servers: ["a:1"], stream: "EVENTS-2", replicas: 3 } });
    assert.deepEqual(three.nats, { servers: ["a:1"], stream: "EVENTS-2", replicas: 3 });
  });

  it("refuses each wrong setting naming it", () => {
    refuses({ backend: "etcd" }, "config.backend");
    refuses({ backend: "nats" }, "config.nats");
    refuses({ backend: "nats", nats: "127.0.0.1:4222" }, "config.nats");
    refuses({ backend: "nats", nats: { servers: [] } }, "config.nats.servers");
    refuses({ backend: "nats", nats: { servers: "127.0.0.1:4222" } }, "config.nats.servers");
    refuses({ backend: "nats", nats: { servers: ["127.0.0.1"] } }, "config.nats.servers[0]");
    refuses({ backend: "nats", nats: { servers: ["a:1", "http://b:2"] } }, "config.nats.servers[1]");
    refuses({ backend: "nats", nats: { servers: ["a:1"], stream: "a.b" } }, "config.nats.stream");
    refuses({ backend: "nats", nats: { servers: ["a:1"], stream: "" } }, "config.nats.stream");
    refuses({ backend: "nats", nats: { servers: ["a:1"], replicas: 2 } }, "config.nats.replicas");
    refuses({ backend: "nats", nats: { servers: ["a:1"], subject: "x" } }, "config.nats.subject");
    refuses({ backend: "nats", database: "/x.db", nats: { servers: ["a:1"] } }, "config.database");
    refuses({ nats: { servers: ["a:1"] } }, "config.nats");
  });
});
