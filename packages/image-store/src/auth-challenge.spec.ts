import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseChallenges } from "./auth-challenge.js";

describe("WWW-Authenticate challenges", () => {
  it("parse docker hub's bearer challenge", () => {
    assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), [
      { scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/busybox:pull" } },
    ]);
  });

  it("parse basic, several challenges, tokens and escapes", () => {
    assert.deepEqual(parseChallenges('Basic realm="test-realm"'), [{ scheme: "basic", params: { realm: "test-realm" } }]);
    assert.deepEqual(parseChallenges('Basic realm="a \\"b\\"", Bearer realm=https://x/token, service=reg'), [
      { scheme: "basic", params: { realm: 'a "b"' } },
      { scheme: "bearer", params: { realm: "https://x/token", service: "reg" } },
    ]);
    assert.deepEqual(parseChallenges(""), []);
  });
});
