import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { gzipSync } from "node:zlib";
import { gunzip } from "./compression.js";
import { FrameReader, encodeFrame } from "./frames.js";

/** Reads body fed in the given chunk sizes (cycled); returns the messages. */
function readAll(body: Buffer, sizes: number[], maxBytes = 1 << 20): Uint8Array[] {
  const out: Uint8Array[] = [];
  const reader = new FrameReader(maxBytes, { message: (message) => void out.push(new Uint8Array(message)) });
  for (let offset = 0, i = 0; offset < body.length; i++) {
    const size = sizes[i % sizes.length]!;
    reader.push(body.subarray(offset, offset + size));
    offset += size;
  }
  assert.ok(reader.atBoundary, "no partial frame left");
  return out;
}

describe("FrameReader", () => {
  const messages = [new Uint8Array([]), new Uint8Array([1, 2, 3]), new Uint8Array(70_000).fill(7), new Uint8Array([9])];
  const body = Buffer.concat(messages.map((message) => encodeFrame(message)));

  it("reads messages whole, and split at every possible point", () => {
    assert.deepEqual(readAll(body, [body.length]), messages);
    for (const size of [1, 2, 3, 4, 5, 6, 7, 16_384, 65_535]) assert.deepEqual(readAll(body, [size]), messages, `chunks of ${size}`);
    assert.deepEqual(readAll(body, [1, 5, 4, 9, 16_000, 3]), messages);
  });

  it("tells the sink which messages arrived compressed, inflated", () => {
    const plain = new Uint8Array(2000);
    const body = Buffer.concat([encodeFrame(gzipSync(plain), true), encodeFrame(new Uint8Array([5])), encodeFrame(gzipSync(new Uint8Array([6])), true)]);
    const seen: [number, boolean][] = [];
    const reader = new FrameReader(1 << 20, { message: (message, compressed) => void seen.push([message.byteLength, compressed]) }, gunzip);
    reader.push(body);
    assert.deepEqual(seen, [
      [2000, true],
      [1, false],
      [1, true],
    ]);
  });

  it("hands out plain Uint8Array views, not Buffers", () => {
    const reader = new FrameReader(100, { message: (message) => assert.equal(Object.getPrototypeOf(message), Uint8Array.prototype) });
    reader.push(encodeFrame(new Uint8Array([1])));
  });

  it("refuses a message over the limit as soon as its prefix is read, with RESOURCE_EXHAUSTED", () => {
    const reader = new FrameReader(10, { message: () => assert.fail("no message expected") });
    const big = encodeFrame(new Uint8Array(11));
    assert.throws(() => reader.push(big.subarray(0, 5)), (error: unknown) => error instanceof ConnectError && error.code === Code.ResourceExhausted);
    reader.push(big.subarray(5)); // ignored once stopped
  });

  it("refuses a compressed message with INTERNAL", () => {
    const frame = encodeFrame(new Uint8Array([1]));
    frame[0] = 1;
    const reader = new FrameReader(10, { message: () => assert.fail("no message expected") });
    assert.throws(() => reader.push(frame), (error: unknown) => error instanceof ConnectError && error.code === Code.Internal);
  });

  it("refuses a flag byte other than 0 or 1 with INTERNAL naming it", () => {
    for (const flag of [0x80, 0x02, 0xff]) {
      const frame = encodeFrame(new Uint8Array([1]));
      frame[0] = flag;
      const reader = new FrameReader(10, { message: () => assert.fail("no message expected") });
      assert.throws(() => reader.push(frame), (error: unknown) => error instanceof ConnectError && error.code === Code.Internal && error.rawMessage.includes(`invalid message flags 0x${flag.toString(16).padStart(2, "0")}`));
    }
  });

  it("tells when a stream ends inside a frame", () => {
    const reader = new FrameReader(10, { message: () => {} });
    reader.push(encodeFrame(new Uint8Array([1, 2])).subarray(0, 6));
    assert.equal(reader.atBoundary, false);
  });
});
