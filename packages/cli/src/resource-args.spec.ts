import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCpus, parseSize, parseWhole } from "./resource-args.js";

describe("moby update's values", () => {
  it("parses sizes as docker does: binary units, bytes, -1", () => {
    assert.equal(parseSize("64m"), 64n * 1024n * 1024n);
    assert.equal(parseSize("1g"), 1024n ** 3n);
    assert.equal(parseSize("1.5g"), (3n * 1024n ** 3n) / 2n);
    assert.equal(parseSize("512k"), 512n * 1024n);
    assert.equal(parseSize("64MiB"), 64n * 1024n * 1024n);
    assert.equal(parseSize("100"), 100n);
    assert.equal(parseSize("100b"), 100n);
    assert.equal(parseSize("-1"), -1n);
    for (const bad of ["", "m", "64x", "-2", "1..5m", "ten"]) assert.throws(() => parseSize(bad), /is not a size/, bad);
  });

  it("parses --cpus into a quota per 100 ms period", () => {
    assert.equal(parseCpus("1.5"), 150000n);
    assert.equal(parseCpus("2"), 200000n);
    assert.equal(parseCpus("0.01"), 1000n);
    for (const bad of ["0", "-1", "1.", "abc", "1.123456"]) assert.throws(() => parseCpus(bad), /is not a number of CPUs/, bad);
  });

  it("parses whole numbers, -1 only where it means no limit", () => {
    assert.equal(parseWhole("50"), 50n);
    assert.equal(parseWhole("-1"), -1n);
    assert.throws(() => parseWhole("-1", false), /is not a whole number/);
    assert.throws(() => parseWhole("1.5"), /is not a whole number/);
  });
});
