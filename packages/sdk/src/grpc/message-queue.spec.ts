import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MessageQueue } from "./message-queue.js";

function queue() {
  const events: string[] = [];
  const q = new MessageQueue<number>((raw) => raw[0]!, {
    pause: () => events.push("pause"),
    resume: () => events.push("resume"),
    cancel: () => events.push("cancel"),
  });
  return { q, events };
}

describe("MessageQueue", () => {
  it("hands messages to a waiting reader, in order, then ends", async () => {
    const { q } = queue();
    const first = q.next();
    q.push(new Uint8Array([1]));
    q.push(new Uint8Array([2]));
    q.end();
    assert.deepEqual(await first, { value: 1, done: false });
    assert.deepEqual(await q.next(), { value: 2, done: false });
    assert.deepEqual(await q.next(), { value: undefined, done: true });
  });

  it("tells decode whether each message arrived compressed, handed straight or queued", async () => {
    const flags: boolean[] = [];
    const q = new MessageQueue<number>((raw, compressed) => (flags.push(compressed), raw[0]!), { pause() {}, resume() {}, cancel() {} });
    const waiting = q.next();
    q.push(new Uint8Array([1]), true);
    q.push(new Uint8Array([2]), false);
    q.push(new Uint8Array([3]), true);
    q.push(new Uint8Array([4]));
    q.end();
    assert.deepEqual(await waiting, { value: 1, done: false });
    for (const value of [2, 3, 4]) assert.deepEqual(await q.next(), { value, done: false });
    assert.deepEqual(flags, [true, false, true, false]);
  });

  it("pauses its source past 32 queued messages and resumes at 16", async () => {
    const { q, events } = queue();
    for (let i = 0; i < 40; i++) q.push(new Uint8Array([i]));
    assert.deepEqual(events, ["pause"]);
    for (let i = 0; i < 23; i++) await q.next();
    assert.deepEqual(events, ["pause"]);
    await q.next();
    assert.deepEqual(events, ["pause", "resume"]);
  });

  it("pauses its source past 256 KiB queued", () => {
    const { q, events } = queue();
    for (let i = 0; i < 4; i++) q.push(new Uint8Array(64 * 1024));
    assert.deepEqual(events, ["pause"]);
  });

  it("reports an error after the messages queued before it", async () => {
    const { q } = queue();
    q.push(new Uint8Array([1]));
    q.end(new Error("broken"));
    assert.deepEqual(await q.next(), { value: 1, done: false });
    await assert.rejects(q.next(), /broken/);
    assert.deepEqual(await q.next(), { value: undefined, done: true });
  });

  it("cancels its source when the reader stops early, not after the end", async () => {
    const { q, events } = queue();
    q.push(new Uint8Array([1]));
    for await (const value of q) {
      assert.equal(value, 1);
      break;
    }
    assert.deepEqual(events, ["cancel"]);
    const ended = queue();
    ended.q.end();
    await ended.q.return();
    assert.deepEqual(ended.events, []);
  });

  it("fails the read of a message that does not decode, and cancels", async () => {
    const events: string[] = [];
    const q = new MessageQueue<number>(() => { throw new Error("bad message"); }, { pause() {}, resume() {}, cancel: () => events.push("cancel") });
    q.push(new Uint8Array([1]));
    await assert.rejects(q.next(), /bad message/);
    assert.deepEqual(events, ["cancel"]);
  });
});
