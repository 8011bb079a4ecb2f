import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { PublishQueue } from "./publish-queue.js";

/** A send whose results the test settles by hand, recording in which synchronous run each item was sent. */
function manualSend() {
  const pending = new Map<number, { resolve: (value: string) => void; reject: (error: Error) => void }>();
  const runs: number[][] = [];
  let run: number[] | undefined;
  const send = (item: number) => {
    if (run === undefined) {
      run = [];
      runs.push(run);
      queueMicrotask(() => (run = undefined));
    }
    run.push(item);
    return new Promise<string>((resolve, reject) => pending.set(item, { resolve, reject }));
  };
  return { send, pending, runs };
}

describe("publish queue", () => {
  it("sends the items of one turn together at its end, in push order", async () => {
    const { send, runs } = manualSend();
    const queue = new PublishQueue(send);
    for (const item of [1, 2, 3]) void queue.push(item);
    assert.deepEqual(runs, [], "nothing is sent before the turn ends");
    await nextTurn();
    assert.deepEqual(runs, [[1, 2, 3]]);
    void queue.push(4);
    await nextTurn();
    assert.deepEqual(runs, [[1, 2, 3], [4]]);
  });

  it("answers in push order, whatever order the sends settle in, errors included", async () => {
    const { send, pending } = manualSend();
    const queue = new PublishQueue(send);
    const answered: string[] = [];
    const answers = [1, 2, 3, 4].map((item) =>
      queue.push(item).then(
        (value) => answered.push(value),
        (error: Error) => answered.push(`error ${error.message}`),
      ),
    );
    await nextTurn();
    pending.get(4)!.resolve("four");
    pending.get(2)!.reject(new Error("two"));
    await nextTurn();
    assert.deepEqual(answered, [], "nothing is answered while the first is outstanding");
    assert.equal(queue.size, 4);
    pending.get(1)!.resolve("one");
    await nextTurn();
    assert.deepEqual(answered, ["one", "error two"]);
    pending.get(3)!.resolve("three");
    await Promise.all(answers);
    assert.deepEqual(answered, ["one", "error two", "three", "four"]);
    assert.equal(queue.size, 0);
  });

  it("answers a send that throws as a rejection, in its turn", async () => {
    const queue = new PublishQueue((item: number) => {
      if (item === 2) throw new Error("refused");
      return Promise.resolve(item * 10);
    });
    const outcomes = await Promise.allSettled([queue.push(1), queue.push(2), queue.push(3)]);
    assert.deepEqual(
      outcomes.map((o) => (o.status === "fulfilled" ? o.value : (o.reason as Error).message)),
      [10, "refused", 30],
    );
  });

  it("is idle once every item pushed so far is answered", async () => {
    const { send, pending } = manualSend();
    const queue = new PublishQueue(send);
    await queue.idle();
    void queue.push(1);
    void queue.push(2).catch(() => {});
    let idle = false;
    const waiting = queue.idle().then(() => (idle = true));
    await nextTurn();
    pending.get(1)!.resolve("one");
    await nextTurn();
    assert.equal(idle, false);
    pending.get(2)!.reject(new Error("two"));
    await waiting;
    assert.equal(idle, true);
  });
});
