import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import type { Http2Server } from "node:http2";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import { ConnectionGuard, DEFAULT_CONNECTION_LIMITS, resolveConnectionLimits } from "./connection-guard.js";

describe("connection limits", () => {
  it("takes the code's value, else the variable's, else the default", () => {
    const limits = resolveConnectionLimits({ idleTimeoutMs: 1234 }, { MOBY_IDLE_TIMEOUT: "1s", MOBY_HANDSHAKE_TIMEOUT: "250ms", MOBY_MAX_CONNECTIONS: "7" });
    assert.equal(limits.idleTimeoutMs, 1234);
    assert.equal(limits.handshakeTimeoutMs, 250);
    assert.equal(limits.maxConnections, 7);
    assert.equal(limits.keepaliveIntervalMs, DEFAULT_CONNECTION_LIMITS.keepaliveIntervalMs);
    assert.equal(limits.keepaliveTimeoutMs, DEFAULT_CONNECTION_LIMITS.keepaliveTimeoutMs);
    assert.equal(resolveConnectionLimits({}, { MOBY_KEEPALIVE_INTERVAL: "0s" }).keepaliveIntervalMs, 0, "0s turns it off");
  });

  it("caps connections by default at 4096 or half the open-file limit, whichever is lower", () => {
    const cap = resolveConnectionLimits({}, {}).maxConnections;
    assert.ok(cap >= 1 && cap <= DEFAULT_CONNECTION_LIMITS.maxConnections, String(cap));
  });

  it("refuses a bad value, naming where it came from", () => {
    assert.throws(() => resolveConnectionLimits({}, { MOBY_IDLE_TIMEOUT: "5" }), /^Error: \$MOBY_IDLE_TIMEOUT: "5" is not a duration/);
    assert.throws(() => resolveConnectionLimits({}, { MOBY_MAX_CONNECTIONS: "-1" }), /^Error: \$MOBY_MAX_CONNECTIONS: "-1" is not a whole number/);
    assert.throws(() => resolveConnectionLimits({ keepaliveTimeoutMs: 1.5 }, {}), /^Error: connections\.keepaliveTimeoutMs: 1\.5 is not a whole number of ms/);
    assert.throws(() => resolveConnectionLimits({ maxConnections: -3 }, {}), /^Error: connections\.maxConnections: -3 is not a whole number of connections/);
  });
});

describe("connection guard audit", () => {
  it("closes a socket no session ever owned once the handshake deadline passes", { timeout: 10_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "moby-guard-"));
    // A server that never makes a session for a socket: what the audit exists for, with node:http2's part left out.
    const server = createServer();
    const limits = resolveConnectionLimits({ handshakeTimeoutMs: 50, keepaliveIntervalMs: 0, idleTimeoutMs: 0 }, {});
    const guard = new ConnectionGuard(server as unknown as Http2Server, limits, pino({ level: "silent" }));
    await new Promise<void>((resolve) => server.listen(join(dir, "g.sock"), resolve));
    const client = connect(join(dir, "g.sock"));
    try {
      const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
      client.on("error", () => {});
      await closed;
      assert.equal(guard.stats.orphansClosed, 1);
    } finally {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
