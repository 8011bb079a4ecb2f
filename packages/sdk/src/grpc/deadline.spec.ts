import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import { DeadlineTimer, MAX_TIMER_MS } from "./deadline.js";

describe("DeadlineTimer", () => {
  it("expires once the deadline passed, also one further away than a Node timer waits; clear() stops it", () => {
    mock.timers.enable({ apis: ["setTimeout", "Date"] });
    try {
      const expired: string[] = [];
      const month = 31 * 24 * 3600 * 1000;
      new DeadlineTimer(month, (name) => expired.push(name), "month");
      new DeadlineTimer(1450, (name) => expired.push(name), "coarse", true);
      const cleared = new DeadlineTimer(200, (name) => expired.push(name), "cleared");
      cleared.clear();
      mock.timers.tick(1450);
      assert.deepEqual(expired, [], "a coarse timer rounds its delay up to a multiple of 100 ms");
      mock.timers.tick(50);
      assert.deepEqual(expired, ["coarse"]);
      mock.timers.tick(MAX_TIMER_MS - 1500);
      assert.deepEqual(expired, ["coarse"], "the first Node timer fired before the month was over: it waits again");
      mock.timers.tick(month - MAX_TIMER_MS);
      assert.deepEqual(expired, ["coarse", "month"]);
    } finally {
      mock.timers.reset();
    }
  });

  it("tells the time left, 0 once passed", () => {
    const deadline = new DeadlineTimer(60_000, () => {}, undefined);
    assert.ok(deadline.remaining() > 59_000 && deadline.remaining() <= 60_000);
    deadline.clear();
    const passed = new DeadlineTimer(0, () => {}, undefined);
    passed.clear();
    assert.equal(passed.remaining(), 0);
  });
});
