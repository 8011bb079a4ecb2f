import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { OciSpecSchema, RestartMode, RuntimeOptionsSchema } from "@moby-core/container-runtime-api/v1";
import { restartDelayMs, restartPolicyOf, shouldRestart } from "./restart-policy.js";
import type { RestartState } from "./restart-policy.js";

function options(mode: RestartMode, maxRetries = 0) {
  return anyPack(RuntimeOptionsSchema, create(RuntimeOptionsSchema, { restartPolicy: { mode, maxRetries } }));
}

function state(mode: RestartState["mode"], extra: Partial<RestartState> = {}): RestartState {
  return { mode, maxRetries: 0, count: 0, lastDelayMs: 0, stoppedByClient: false, ...extra };
}

describe("restart policies", () => {
  it("are read from the runtime options, none when absent or RESTART_MODE_NO", () => {
    assert.equal(restartPolicyOf(undefined), undefined);
    assert.equal(restartPolicyOf(anyPack(RuntimeOptionsSchema, create(RuntimeOptionsSchema))), undefined);
    assert.equal(restartPolicyOf(options(RestartMode.NO)), undefined);
    assert.equal(restartPolicyOf(options(RestartMode.UNSPECIFIED)), undefined);
    assert.deepEqual(restartPolicyOf(options(RestartMode.ON_FAILURE, 3)), state("on-failure", { maxRetries: 3 }));
    assert.deepEqual(restartPolicyOf(options(RestartMode.ALWAYS)), state("always"));
    assert.deepEqual(restartPolicyOf(options(RestartMode.UNLESS_STOPPED)), state("unless-stopped"));
  });

  it("refuse options of another type, undecodable ones and broken rules, naming the field", () => {
    const refused = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (error: Error) => pattern.test(error.message));
    refused(() => restartPolicyOf(anyPack(OciSpecSchema, create(OciSpecSchema))), /^container\.runtime\.options: type URL ".*OciSpec" is not/);
    refused(() => restartPolicyOf({ $typeName: "google.protobuf.Any", typeUrl: "type.googleapis.com/moby.container.runtime.v1.RuntimeOptions", value: new Uint8Array([0xff]) }), /^container\.runtime\.options: the value is not an encoded/);
    refused(() => restartPolicyOf(options(RestartMode.ALWAYS, 2)), /^container\.runtime\.options\.restart_policy\.max_retries: applies to RESTART_MODE_ON_FAILURE only/);
    refused(() => restartPolicyOf(options(RestartMode.ON_FAILURE, 1_000_001)), /max_retries: 1000001 is more than 1000000/);
    const unknownMode = { $typeName: "google.protobuf.Any" as const, typeUrl: "type.googleapis.com/moby.container.runtime.v1.RuntimeOptions", value: toBinary(RuntimeOptionsSchema, create(RuntimeOptionsSchema, { restartPolicy: { mode: 9 as RestartMode } })) };
    refused(() => restartPolicyOf(unknownMode), /restart_policy\.mode: 9 is not a RestartMode/);
  });

  it("restart on failure only for a non-zero exit, up to max_retries", () => {
    assert.equal(shouldRestart(state("on-failure"), 0, false), false);
    assert.equal(shouldRestart(state("on-failure"), 1, false), true);
    assert.equal(shouldRestart(state("on-failure"), 137, false), true);
    assert.equal(shouldRestart(state("on-failure", { maxRetries: 2, count: 1 }), 1, false), true);
    assert.equal(shouldRestart(state("on-failure", { maxRetries: 2, count: 2 }), 1, false), false);
    assert.equal(shouldRestart(state("on-failure", { count: 500 }), 1, false), true, "0 is no limit");
  });

  it("restart always and unless-stopped whatever the code, never after a client stopped the task, except always at recovery", () => {
    for (const mode of ["always", "unless-stopped"] as const) {
      assert.equal(shouldRestart(state(mode), 0, false), true);
      assert.equal(shouldRestart(state(mode), 2, false), true);
      assert.equal(shouldRestart(state(mode, { stoppedByClient: true }), 143, false), false);
    }
    assert.equal(shouldRestart(state("always", { stoppedByClient: true }), 143, true), true);
    assert.equal(shouldRestart(state("unless-stopped", { stoppedByClient: true }), 143, true), false);
    assert.equal(shouldRestart(state("on-failure", { stoppedByClient: true }), 143, true), false);
  });

  it("wait 100 ms, then twice as long each time up to a minute, and 100 ms again after a run of 10 s", () => {
    assert.equal(restartDelayMs(state("always"), 5), 100);
    assert.equal(restartDelayMs(state("always", { lastDelayMs: 100 }), 5), 200);
    assert.equal(restartDelayMs(state("always", { lastDelayMs: 200 }), 9_999), 400);
    assert.equal(restartDelayMs(state("always", { lastDelayMs: 51_200 }), 5), 60_000);
    assert.equal(restartDelayMs(state("always", { lastDelayMs: 60_000 }), 5), 60_000);
    assert.equal(restartDelayMs(state("always", { lastDelayMs: 60_000 }), 10_000), 100);
  });
});
