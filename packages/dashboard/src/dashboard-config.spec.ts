import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readDashboardConfig } from "./dashboard-config.js";

describe("readDashboardConfig", () => {
  it("has loopback defaults", () => {
    assert.deepEqual(readDashboardConfig({}), { host: "127.0.0.1", port: 9324, token: undefined, sampleIntervalMs: 2000, historySamples: 300 });
  });

  it("reads every setting", () => {
    assert.deepEqual(readDashboardConfig({ address: "[::1]:0", token: "0123456789abcdefg", sampleInterval: "500ms", history: 10 }), {
      host: "::1",
      port: 0,
      token: "0123456789abcdefg",
      sampleIntervalMs: 500,
      historySamples: 10,
    });
  });

  it("names the wrong field", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ adress: "x" }, /config\.adress: unknown setting/],
      [{ address: "127.0.0.1" }, /config\.address: "127\.0\.0\.1" is not host:port/],
      [{ address: "127.0.0.1:70000" }, /config\.address: .* is not host:port/],
      [{ address: "example.com:80" }, /config\.address: "example\.com" is not an IP address or "localhost"/],
      [{ token: "short" }, /config\.token: must be at least 16/],
      [{ sampleInterval: "2 s" }, /config\.sampleInterval: "2 s" is not a duration/],
      [{ sampleInterval: "10ms" }, /config\.sampleInterval: must be at least 100ms/],
      [{ history: 1 }, /config\.history: must be a whole number of samples, 2 to/],
    ];
    for (const [raw, message] of cases) assert.throws(() => readDashboardConfig(raw as never), message);
  });
});
