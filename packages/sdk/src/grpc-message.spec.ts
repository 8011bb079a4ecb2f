import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeGrpcMessage } from "./grpc-message.js";

describe("encodeGrpcMessage", () => {
  it("keeps printable ASCII, escapes % and everything else as UTF-8 bytes", () => {
    assert.equal(encodeGrpcMessage("name: required, a/b?"), "name: required, a/b?");
    assert.equal(encodeGrpcMessage("100%"), "100%25");
    assert.equal(encodeGrpcMessage("line\nbreak"), "line%0Abreak");
    assert.equal(encodeGrpcMessage("café"), "caf%C3%A9");
  });

  it("decodes back with both decodeURI and decodeURIComponent", () => {
    const message = "container.labels[\"a b\"]: 100% too long, über";
    assert.equal(decodeURI(encodeGrpcMessage(message)), message);
    assert.equal(decodeURIComponent(encodeGrpcMessage(message)), message);
  });
});
