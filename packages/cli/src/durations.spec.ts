import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { durationFromMs, formatUptime, notADurationMessage, parseDuration } from "./durations.js";

describe("parseDuration", () => {
  it("reads the manifest's duration grammar in milliseconds", () => {
    const cases: [string, number][] = [
      ["500ms", 500],
      ["5s", 5_000],
      ["1.5s", 1_500],
      ["1m30s", 90_000],
      ["2h", 7_200_000],
      ["0s", 0],
      ["1h1m1s1ms", 3_661_001],
    ];
    for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  });

  it("rejects bare numbers, signs, spaces and unknown units", () => {
    for (const text of ["", "5", "-5s", "+5s", "5 s", "5sec", "1d", "s", "5s ", ".5s", "1e3s"]) {
      assert.equal(parseDuration(text), undefined, JSON.stringify(text));
    }
  });

  it("explains a rejected value with examples", () => {
    assert.equal(notADurationMessage("5 seconds"), '"5 seconds" is not a duration (examples: 500ms, 5s, 1m30s)');
  });
});

describe("durationFromMs", () => {
  it("splits milliseconds into seconds and nanos", () => {
    const duration = durationFromMs(1_500);
    assert.equal(duration.seconds, 1n);
    assert.equal(duration.nanos, 500_000_000);
    assert.equal(durationFromMs(0).seconds, 0n);
    assert.equal(durationFromMs(600_000).seconds, 600n);
  });
});

describe("formatUptime", () => {
  it("keeps the two largest units and leaves zero parts out", () => {
    const cases: [number, string][] = [
      [0, "0s"],
      [0.9, "0s"],
      [5, "5s"],
      [59, "59s"],
      [60, "1m"],
      [192, "3m12s"],
      [3_599, "59m59s"],
      [3_600, "1h"],
      [7_260, "2h1m"],
      [7_201, "2h"],
      [86_400, "1d"],
      [3 * 86_400 + 4 * 3_600 + 59, "3d4h"],
      [-3, "0s"],
    ];
    for (const [seconds, text] of cases) assert.equal(formatUptime(seconds), text, String(seconds));
  });
});
