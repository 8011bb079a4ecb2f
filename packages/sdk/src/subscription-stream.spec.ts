import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { ComponentError } from "./errors.js";
import { DEFAULT_MAX_QUEUED, subscriptionStream } from "./subscription-stream.js";

/** A source to subscribe to: push sends a value to every listener. */
function source<T>() {
  const listeners = new Set<(value: T) => void>();
  return {
    subscribe(listener: (value: T) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    push(value: T) {
      for (const listener of listeners) listener(value);
    },
    get listeners() {
      return listeners.size;
    },
  };
}

/** Asserts that promise rejects with RESOURCE_EXHAUSTED and a message matching pattern. */
async function assertExhausted(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ComponentError, String(error));
    assert.equal(error.code, Code.ResourceExhausted);
    assert.match(error.message, pattern);
    return true;
  });
}

describe("subscriptionStream", () => {
  it("yields pushed values in order and unsubscribes when the signal aborts", async () => {
    const feed = source<number>();
    const abort = new AbortController();
    const stream = subscriptionStream<number>(abort.signal, (push) => feed.subscribe(push));
    feed.push(1);
    feed.push(2);
    assert.deepEqual(await stream.next(), { value: 1, done: false });
    assert.deepEqual(await stream.next(), { value: 2, done: false });
    const waiting = stream.next();
    feed.push(3);
    assert.deepEqual(await waiting, { value: 3, done: false });
    abort.abort();
    assert.equal(feed.listeners, 0);
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
  });

  it("ends a client that stops reading with RESOURCE_EXHAUSTED once more values than the count bound wait", async () => {
    const feed = source<number>();
    const stream = subscriptionStream<number>(new AbortController().signal, (push) => feed.subscribe(push), {
      maxQueued: 3,
      noun: "log lines",
      resume: "read the logs again to resume",
    });
    feed.push(0);
    assert.deepEqual(await stream.next(), { value: 0, done: false });
    // The client stalls: the generator waits at its yield while values arrive.
    for (let i = 1; i <= 3; i++) feed.push(i);
    assert.equal(feed.listeners, 1, "three waiting values are within the bound");
    feed.push(4);
    assert.equal(feed.listeners, 0, "cut off at once, before the client reads again");
    await assertExhausted(stream.next(), /more than 3 log lines were waiting to be sent.*read the logs again to resume/);
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
  });

  it("bounds the queued bytes as sizeOf counts them", async () => {
    const feed = source<string>();
    const stream = subscriptionStream<string>(new AbortController().signal, (push) => feed.subscribe(push), {
      maxQueuedBytes: 10,
      sizeOf: (text) => text.length,
    });
    feed.push("12345");
    assert.equal((await stream.next()).value, "12345");
    feed.push("12345");
    feed.push("12345");
    assert.equal(feed.listeners, 1, "ten bytes are within the bound");
    assert.equal((await stream.next()).value, "12345");
    feed.push("123456");
    assert.equal(feed.listeners, 0, "5 + 6 bytes are over it");
    await assertExhausted(stream.next(), /more than 10 bytes of updates were waiting to be sent.*call again to resume/);
  });

  it("bounds the queue by default", async () => {
    const feed = source<number>();
    const stream = subscriptionStream<number>(new AbortController().signal, (push) => feed.subscribe(push));
    for (let i = 0; i <= DEFAULT_MAX_QUEUED; i++) feed.push(i);
    assert.equal(feed.listeners, 0);
    await assertExhausted(stream.next(), new RegExp(`more than ${DEFAULT_MAX_QUEUED} updates`));
  });
});
