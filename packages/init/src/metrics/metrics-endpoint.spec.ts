import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isLoopback, parseListenAddress } from "./metrics-endpoint.js";

describe("parseListenAddress", () => {
  it("reads HOST:PORT, [IPv6]:PORT, and a port alone as loopback", () => {
    assert.deepEqual(parseListenAddress("127.0.0.1:9323"), { host: "127.0.0.1", port: 9323 });
    assert.deepEqual(parseListenAddress("[::1]:9323"), { host: "::1", port: 9323 });
    assert.deepEqual(parseListenAddress("0.0.0.0:80"), { host: "0.0.0.0", port: 80 });
    assert.deepEqual(parseListenAddress("9323"), { host: "127.0.0.1", port: 9323 });
  });

  it("refuses what is not an IP address and a port, naming it", () => {
    assert.throws(() => parseListenAddress("localhost:9323"), /"localhost" is not an IP address/);
    assert.throws(() => parseListenAddress("127.0.0.1:99999"), /"99999" is not a port/);
    assert.throws(() => parseListenAddress("127.0.0.1:"), /"" is not a port/);
    assert.throws(() => parseListenAddress("::1:9323"), /IPv6 address goes in brackets/);
  });

  it("tells loopback from the rest", () => {
    assert.ok(isLoopback("127.0.0.1") && isLoopback("::1"));
    assert.ok(!isLoopback("0.0.0.0") && !isLoopback("192.168.1.2") && !isLoopback("::"));
  });
});
