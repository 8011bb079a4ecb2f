import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { MESSAGE_ID_LENGTH, messageId } from "./message-id.js";

describe("message id", () => {
  it("is the SHA-256 of (source, publish id) in base64url, the same on every call", () => {
    const id = messageId("container-store", "create-42");
    assert.equal(id, createHash("sha256").update("container-store\ncreate-42").digest("base64url"));
    assert.equal(messageId("container-store", "create-42"), id);
    assert.notEqual(messageId("container-runtime", "create-42"), id);
    assert.notEqual(messageId("container-store", "create-43"), id);
  });

  it("is unique for events without a publish id", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) ids.add(messageId("container-store", ""));
    assert.equal(ids.size, 10_000);
  });

  it(`is always ${MESSAGE_ID_LENGTH} header-safe characters`, () => {
    for (const id of [messageId("a", "b"), messageId("a", ""), messageId("x".repeat(63), "y".repeat(128))]) {
      assert.match(id, new RegExp(`^[A-Za-z0-9_-]{${MESSAGE_ID_LENGTH}}$`));
    }
  });
});
