import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RingBuffer } from "./ring-buffer.js";

describe("RingBuffer", () => {
  it("keeps the newest capacity values, oldest first", () => {
    const ring = new RingBuffer<number>(3);
    assert.deepEqual(ring.toArray(), []);
    assert.equal(ring.newest(), undefined);
    for (const n of [1, 2]) ring.push(n);
    assert.deepEqual(ring.toArray(), [1, 2]);
    for (const n of [3, 4, 5]) ring.push(n);
    assert.deepEqual(ring.toArray(), [3, 4, 5]);
    assert.equal(ring.size, 3);
    assert.equal(ring.newest(), 5);
  });

  it("returns the newest limit values when asked for fewer", () => {
    const ring = new RingBuffer<number>(4);
    for (const n of [1, 2, 3, 4, 5, 6]) ring.push(n);
    assert.deepEqual(ring.toArray(2), [5, 6]);
    assert.deepEqual(ring.toArray(10), [3, 4, 5, 6]);
    assert.deepEqual(ring.toArray(0), [3, 4, 5, 6]);
  });

  it("refuses a capacity that is not a whole number of 1 or more", () => {
    assert.throws(() => new RingBuffer(0), /capacity: 0 is not a whole number of 1 or more/);
    assert.throws(() => new RingBuffer(1.5), /capacity/);
  });
});
