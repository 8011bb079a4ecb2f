import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JetStreamApiError } from "@nats-io/jetstream";
import { StreamConfigRefused, refusesUs } from "./jetstream-refusal.js";

/** A JetStream API error as the server sends it: HTTP-like status, JetStream code, description. */
function apiError(status: number, code: number, description: string): JetStreamApiError {
  return new JetStreamApiError({ code: status, err_code: code, description });
}

/** An error named as the NATS client names its errors. */
function named(name: string, message = name): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

describe("refusesUs: a NATS answer of no, told from no answer", () => {
  it("takes a refused stream configuration, JetStream not enabled and authorization as no", () => {
    assert.equal(refusesUs(apiError(500, 10074, "replicas > 1 not supported in non-clustered mode")), true);
    assert.equal(refusesUs(apiError(400, 10058, "stream name already in use with a different configuration")), true);
    assert.equal(refusesUs(apiError(503, 10076, "JetStream not enabled")), true);
    assert.equal(refusesUs(named("JetStreamNotEnabled", "jetstream is not enabled")), true);
    assert.equal(refusesUs(named("AuthorizationError", "Authorization Violation")), true);
    assert.equal(refusesUs(new Error("cannot open", { cause: named("PermissionViolationError") })), true, "through a cause");
    assert.equal(refusesUs(new StreamConfigRefused("replicas a single server cannot keep")), true, "what the component itself finds the servers cannot keep");
  });

  it("takes a cluster that is not ready, a timeout, no responders and a refused connection as no answer", () => {
    assert.equal(refusesUs(apiError(503, 10008, "JetStream system temporarily unavailable")), false);
    assert.equal(refusesUs(apiError(500, 10023, "insufficient resources")), false);
    assert.equal(refusesUs(apiError(400, 10005, "no suitable peers for placement")), false);
    assert.equal(refusesUs(named("TimeoutError", "timeout")), false);
    assert.equal(refusesUs(named("NoResponders", "no responders")), false);
    assert.equal(refusesUs(named("ConnectionError", "connection refused")), false);
    assert.equal(refusesUs("a string"), false);
  });
});
