import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatUptime } from "./uptime.js";

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
