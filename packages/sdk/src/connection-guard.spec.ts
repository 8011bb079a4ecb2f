import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_CONNECTION_LIMITS, resolveConnectionLimits } from "./connection-guard.js";

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
