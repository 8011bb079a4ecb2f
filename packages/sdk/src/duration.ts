/**
 * Durations as moby-core writes them in manifests, configuration and on the
 * command line: strings such as "500ms", "5s", "1.5s", "2h" or "1m30s" — one
 * or more parts, each an integer or decimal number followed by
 * a unit (ms, s, m, h). Bare numbers, negative values, signs, spaces and
 * other units are rejected, so that a mistake is reported rather than guessed.
 */

/** The examples shown when a duration is not understood. */
export const DURATION_EXAMPLES = "500ms, 5s, 1m30s";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** The whole of a valid duration. */
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
/** One part of a valid duration. */
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/**
 * The duration `text` in milliseconds, rounded to the nearest millisecond,
 * or undefined when it is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(PART)) {
    const amount = Number(match[1]);
    const unit = UNIT_MS[match[2] ?? ""];
    if (unit === undefined || !Number.isFinite(amount)) return undefined;
    total += amount * unit;
  }
  if (!Number.isFinite(total) || total > Number.MAX_SAFE_INTEGER) return undefined;
  return Math.round(total);
}

/** Whether `text` is a duration: the check behind the schema's "duration" format. */
export function isDuration(text: string): boolean {
  return parseDuration(text) !== undefined;
}

/** The message for a value that is not a duration. */
export function notADurationMessage(value: unknown): string {
  return `${JSON.stringify(value) ?? String(value)} is not a duration (examples: ${DURATION_EXAMPLES})`;
}

/** Milliseconds as a duration string that parseDuration reads back: 90000 is "1m30s", 0 is "0s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = Math.round(ms);
  let text = "";
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1_000], ["ms", 1]] as const) {
    const amount = Math.floor(rest / size);
    if (amount > 0) text += `${amount}${unit}`;
    rest -= amount * size;
  }
  return text;
}
