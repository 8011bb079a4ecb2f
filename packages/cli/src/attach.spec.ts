import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ExitStatusSchema } from "@moby-core/types-api/v1";
import { Interrupts, exitCodeOf } from "./attach.js";

describe("exitCodeOf", () => {
  it("is the exit code, or 128 + the signal", () => {
    assert.equal(exitCodeOf(create(ExitStatusSchema, { exitCode: 3 })), 3);
    assert.equal(exitCodeOf(create(ExitStatusSchema, { exitCode: 137, signal: "SIGKILL" })), 137);
    assert.equal(exitCodeOf(create(ExitStatusSchema, {})), 0);
    assert.equal(exitCodeOf(undefined), 0);
  });
});

describe("Interrupts", () => {
  it("counts interrupts and passes them on, also those that came before", () => {
    const interrupts = new Interrupts();
    try {
      process.emit("SIGINT", "SIGINT");
      const seen: number[] = [];
      interrupts.forwardTo((count) => seen.push(count));
      process.emit("SIGTERM", "SIGTERM");
      assert.deepEqual(seen, [1, 2]);
      assert.equal(interrupts.count, 2);
    } finally {
      interrupts.dispose();
    }
    assert.equal(process.listenerCount("SIGINT"), 0);
  });
});
