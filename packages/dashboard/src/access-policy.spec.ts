import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { accessPolicy, authorized, isLoopback, refusal } from "./access-policy.js";

describe("access policy", () => {
  it("knows loopback addresses", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost"]) assert.ok(isLoopback(host), host);
    for (const host of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.2"]) assert.ok(!isLoopback(host), host);
  });

  it("on loopback: accepts its own Host and Origin, refuses other hosts (DNS rebinding) and origins, needs no token", () => {
    const { policy, generated } = accessPolicy("127.0.0.1", 9324, undefined);
    assert.equal(generated, undefined);
    assert.equal(refusal(policy, "127.0.0.1:9324", undefined), undefined);
    assert.equal(refusal(policy, "localhost:9324", "http://localhost:9324"), undefined);
    assert.equal(refusal(policy, "evil.example:9324", "http://evil.example:9324"), 'Host "evil.example:9324" is not this dashboard');
    assert.equal(refusal(policy, "127.0.0.1:9324", "http://evil.example"), `Origin "http://evil.example" is not this dashboard's (http://127.0.0.1:9324)`);
    assert.equal(refusal(policy, "127.0.0.1:9324", "http://localhost:9324"), `Origin "http://localhost:9324" is not this dashboard's (http://127.0.0.1:9324)`);
    assert.equal(refusal(policy, "127.0.0.1:1", undefined), 'Host "127.0.0.1:1" is not this dashboard');
    assert.equal(refusal(policy, undefined, undefined), "the request has no Host header");
    assert.ok(authorized(policy, undefined));
  });

  it("beyond loopback: makes a random token when none is configured, and checks it", () => {
    const { policy, generated } = accessPolicy("0.0.0.0", 9324, undefined);
    assert.ok(generated !== undefined && generated.length >= 32);
    assert.notEqual(accessPolicy("0.0.0.0", 9324, undefined).generated, generated);
    assert.equal(refusal(policy, "dash.example:9324", "http://dash.example:9324"), undefined);
    assert.ok(!authorized(policy, undefined));
    assert.ok(!authorized(policy, `Bearer ${generated}x`));
    assert.ok(!authorized(policy, generated));
    assert.ok(authorized(policy, `Bearer ${generated}`));
  });

  it("uses a configured token, even on loopback", () => {
    const { policy, generated } = accessPolicy("127.0.0.1", 1, "0123456789abcdef");
    assert.equal(generated, undefined);
    assert.ok(!authorized(policy, "Bearer wrong"));
    assert.ok(authorized(policy, "Bearer 0123456789abcdef"));
  });
});
