import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatDuration, notADurationMessage, parseDuration } from "./duration.js";

describe("parseDuration", () => {
  it("reads numbers with a unit, combined", () => {
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("5s"), 5_000);
    assert.equal(parseDuration("1m30s"), 90_000);
    assert.equal(parseDuration("1.5s"), 1_500);
    assert.equal(parseDuration("2h"), 7_200_000);
    assert.equal(parseDuration("1h2m3s4ms"), 3_723_004);
    assert.equal(parseDuration("0s"), 0);
    assert.equal(parseDuration("0.5ms"), 1);
  });

  it("rejects bare numbers, spaces, signs and unknown units", () => {
    for (const text of ["5", "0", "5 seconds", "5 s", "-1s", "+1s", "1d", "1.s", ".5s", "s", "", "1e3ms", "5S", " 5s"]) {
      assert.equal(parseDuration(text), undefined, text);
    }
  });

  it("says what a duration looks like", () => {
    assert.equal(notADurationMessage("5 seconds"), '"5 seconds" is not a duration (examples: 500ms, 5s, 1m30s)');
    assert.equal(notADurationMessage(5), "5 is not a duration (examples: 500ms, 5s, 1m30s)");
  });
});

describe("formatDuration", () => {
  it("writes milliseconds back as a duration", () => {
    assert.equal(formatDuration(0), "0s");
    assert.equal(formatDuration(100), "100ms");
    assert.equal(formatDuration(90_000), "1m30s");
    assert.equal(formatDuration(7_200_000), "2h");
    for (const ms of [1, 999, 1_000, 61_001, 3_723_004]) assert.equal(parseDuration(formatDuration(ms)), ms);
  });
});
