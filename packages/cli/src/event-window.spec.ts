import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { beforeSince, caughtUp, parseSince, parseUntil, pastUntil } from "./event-window.js";

const NOW = Date.parse("2026-12-06T10:00:00Z");

describe("parseUntil", () => {
  it("takes now, a date and time, or a duration ago", () => {
    assert.equal(parseUntil("now", () => NOW).toISOString(), "2026-12-06T10:00:00.000Z");
    assert.equal(parseUntil("10m", () => NOW).toISOString(), "2026-12-06T09:50:00.000Z");
    assert.equal(parseUntil("1h30m", () => NOW).toISOString(), "2026-12-06T08:30:00.000Z");
    assert.equal(parseUntil("2026-12-01T08:00:00Z").toISOString(), "2026-12-01T08:00:00.000Z");
    assert.equal(parseUntil("2026-12-01T08:00:00+02:00").toISOString(), "2026-12-01T06:00:00.000Z");
  });

  it("refuses anything else, saying what it takes", () => {
    for (const text of ["yesterday", "", "2026-13-45T99:00:00Z", "10", "-5m"]) {
      assert.throws(() => parseUntil(text), /is not "now", a date and time \(2026-12-06T10:00:00Z\) or a duration ago/, text);
    }
  });
});

describe("the stop rule", () => {
  it("ends on an event after the time, and once the latest sequence at the start has passed", () => {
    const rule = { until: new Date(NOW), latestSequence: 7n };
    assert.equal(pastUntil(rule, new Date(NOW + 1)), true);
    assert.equal(pastUntil(rule, new Date(NOW)), false);
    assert.equal(pastUntil(rule, undefined), false);
    assert.equal(caughtUp(rule, 6n), false);
    assert.equal(caughtUp(rule, 7n), true);
    assert.equal(caughtUp({ until: new Date(NOW) }, 100n), false, "a future time waits for the clock");
  });
});

describe("parseSince", () => {
  it("takes a sequence number, or a time as --until does", () => {
    assert.equal(parseSince("42"), 42n);
    assert.equal((parseSince("10m", () => NOW) as Date).toISOString(), "2026-12-06T09:50:00.000Z");
    assert.equal((parseSince("2026-12-01T08:00:00Z") as Date).toISOString(), "2026-12-01T08:00:00.000Z");
    assert.throws(() => parseSince("soon"), /"soon" is not a sequence number, a date and time .* or a duration ago/);
  });

  it("skips an event before the time", () => {
    assert.equal(beforeSince(new Date(NOW), new Date(NOW - 1)), true);
    assert.equal(beforeSince(new Date(NOW), new Date(NOW)), false);
  });
});
