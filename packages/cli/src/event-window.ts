/**
 * `moby events --since/--until`: where a stream of events starts and stops,
 * as docker's options take them: "now", a date and time, or a duration ago;
 * --since also takes a sequence number, to resume where a stream stopped.
 */
import { InvalidArgumentError } from "commander";
import { parseDuration } from "@moby-core/sdk/list";

/** The time --until names: "now", an ISO 8601 / RFC 3339 date and time, or a duration ago (10m, 1h30m). */
export function parseUntil(text: string, now: () => number = Date.now): Date {
  if (text === "now") return new Date(now());
  const ago = parseDuration(text);
  if (ago !== undefined) return new Date(now() - ago);
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const time = new Date(text);
    if (!Number.isNaN(time.getTime())) return time;
  }
  throw new InvalidArgumentError(
    `${JSON.stringify(text)} is not "now", a date and time (2026-12-06T10:00:00Z) or a duration ago (10m, 1h30m)`,
  );
}

/** Where --since starts: after a sequence number (all digits), or at a time as parseUntil reads it. */
export function parseSince(text: string, now: () => number = Date.now): bigint | Date {
  if (/^\d+$/.test(text)) return BigInt(text);
  try {
    return parseUntil(text, now);
  } catch {
    throw new InvalidArgumentError(
      `${JSON.stringify(text)} is not a sequence number, a date and time (2026-12-06T10:00:00Z) or a duration ago (10m, 1h30m)`,
    );
  }
}

/** Whether an event at this time comes before a --since time (and so is not printed). */
export function beforeSince(since: Date, eventTime: Date | undefined): boolean {
  return eventTime !== undefined && eventTime.getTime() < since.getTime();
}

/** What ends a stream that stops at a time. */
export interface StopRule {
  /** An event after this time is not printed, and ends the stream. */
  until: Date;
  /** For a time already past: the stream ends once it has passed this sequence (the latest when it began). */
  latestSequence?: bigint;
}

/** Whether an event at this time is past the rule's time (and so ends the stream unprinted). */
export function pastUntil(rule: StopRule, eventTime: Date | undefined): boolean {
  return eventTime !== undefined && eventTime.getTime() > rule.until.getTime();
}

/** Whether the stream has delivered everything up to the latest sequence it began with. */
export function caughtUp(rule: StopRule, resumeAfterSequence: bigint): boolean {
  return rule.latestSequence !== undefined && resumeAfterSequence >= rule.latestSequence;
}
