/**
 * The values of `moby update`, parsed as docker's: sizes with a unit
 * (`--memory 64m`: b, k, m, g, t, binary multiples as docker's RAMInBytes),
 * -1 for no limit, decimal CPUs (`--cpus 1.5`), and whole numbers. Each
 * parser throws commander's InvalidArgumentError, so a bad value is a
 * usage error; the ranges are the runtime's (UpdateTask), which names the
 * field when one is out of range.
 */
import { InvalidArgumentError } from "commander";

const UNITS: Record<string, bigint> = { "": 1n, b: 1n, k: 1024n, m: 1024n ** 2n, g: 1024n ** 3n, t: 1024n ** 4n };

/** Parses a size: "64m", "1g", "512k", "1048576" (bytes), or -1 for no limit. */
export function parseSize(text: string): bigint {
  if (text.trim() === "-1") return -1n;
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (match === null) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a size: a number with an optional unit b, k, m, g or t (64m, 1g), or -1 for no limit`);
  const [whole, fraction = ""] = match[1]!.split(".");
  const unit = UNITS[match[2]!.toLowerCase()]!;
  const scale = 10n ** BigInt(fraction.length);
  return (BigInt(whole! + fraction) * unit) / scale;
}

/** Parses a whole number, -1 allowed when minusOne. */
export function parseWhole(text: string, minusOne = true): bigint {
  if (!(minusOne ? /^-?\d+$/ : /^\d+$/).test(text.trim())) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a whole number${minusOne ? " (or -1 for no limit)" : ""}`);
  return BigInt(text.trim());
}

/** The CFS period `--cpus` uses, in µs (docker's: 100 ms). */
export const CPUS_PERIOD_US = 100_000n;

/** Parses --cpus, a decimal number of CPUs such as 1.5, into the quota per CPUS_PERIOD_US, in µs. */
export function parseCpus(text: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,5}))?$/.exec(text.trim());
  if (match === null || Number(text) <= 0) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a number of CPUs: a decimal above 0, such as 1.5`);
  const fraction = (match[2] ?? "").padEnd(5, "0");
  return (BigInt(match[1]! + fraction) * CPUS_PERIOD_US) / 100000n;
}
