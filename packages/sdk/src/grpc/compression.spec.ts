import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { compressedOrNot } from "./compression.js";

describe("compressedOrNot", () => {
  const large = new Uint8Array(4096);
  const small = new Uint8Array(16);

  it("compresses nothing unless gzip was announced, whatever is asked", () => {
    assert.equal(compressedOrNot(large, false, 0, undefined), undefined);
    assert.equal(compressedOrNot(large, false, 0, true), undefined);
  });

  it("by default, compresses a message of at least minBytes that gzip makes smaller", () => {
    assert.deepEqual(new Uint8Array(gunzipSync(compressedOrNot(large, true, 1024, undefined)!)), large);
    assert.equal(compressedOrNot(small, true, 1024, undefined), undefined, "under minBytes");
    assert.equal(compressedOrNot(small, true, 0, undefined), undefined, "gzip makes 16 bytes larger");
    assert.equal(compressedOrNot(large, true, undefined, undefined), undefined, "the side does not compress by default");
  });

  it("forced on, compresses every message, even one gzip makes larger; forced off, none", () => {
    assert.deepEqual(new Uint8Array(gunzipSync(compressedOrNot(small, true, undefined, true)!)), small);
    assert.equal(compressedOrNot(large, true, 0, false), undefined);
  });
});
