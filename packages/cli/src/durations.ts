/**
 * Durations on the command line and in output: `--timeout 5s` parsed with
 * the grammar of the manifest (500ms, 5s, 1.5s, 1m30s, 2h), and uptimes
 * written the short human way (5s, 3m12s, 2h1m, 3d4h).
 */
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import type { Duration } from "@bufbuild/protobuf/wkt";

/** The examples shown when a duration is not understood. */
export const DURATION_EXAMPLES = "500ms, 5s, 1m30s";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** The whole of a valid duration: one or more parts, each a number and a unit. */
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
/** One part of a valid duration. */
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/**
 * The duration `text` in milliseconds, rounded to the nearest millisecond,
 * or undefined when it is not a duration. Bare numbers, signs, spaces and
 * other units are rejected, as in the manifest.
 */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(PART)) {
    const unit = UNIT_MS[match[2] ?? ""];
    if (unit === undefined) return undefined;
    total += Number(match[1]) * unit;
  }
  if (!Number.isFinite(total) || total > Number.MAX_SAFE_INTEGER) return undefined;
  return Math.round(total);
}

/** The message for a value that is not a duration. */
export function notADurationMessage(text: string): string {
  return `${JSON.stringify(text)} is not a duration (examples: ${DURATION_EXAMPLES})`;
}

/** A google.protobuf.Duration of ms milliseconds (ms >= 0). */
export function durationFromMs(ms: number): Duration {
  const whole = Math.floor(ms / 1_000);
  return create(DurationSchema, { seconds: BigInt(whole), nanos: Math.round(ms - whole * 1_000) * 1_000_000 });
}

/**
 * An uptime in whole seconds the short human way, with its two largest
 * units and zero parts left out: 0s, 5s, 3m12s, 3m, 2h1m, 2h, 3d4h.
 * Negative values (clock skew) count as 0.
 */
export function formatUptime(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const units: [string, number][] = [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ];
  const first = units.findIndex(([, size]) => total >= size);
  if (first === -1) return "0s";
  let rest = total;
  let text = "";
  for (const [name, size] of units.slice(first, first + 2)) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0) text += `${amount}${name}`;
  }
  return text;
}
