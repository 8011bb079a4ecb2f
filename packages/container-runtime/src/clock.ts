/**
 * Times and signal names as the runtime records and reports them: times are
 * microseconds since the epoch in its files, protobuf Timestamps on the wire.
 */
import { constants } from "node:os";
import { create } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";

/** The microseconds since the epoch, now. */
export function nowUs(): number {
  return Date.now() * 1000;
}

/** A Timestamp from microseconds since the epoch. */
export function timestampFromUs(us: number): Timestamp {
  const seconds = Math.floor(us / 1_000_000);
  return create(TimestampSchema, { seconds: BigInt(seconds), nanos: Math.round(us - seconds * 1_000_000) * 1000 });
}

/** The microseconds since the epoch of a Timestamp. */
export function microsecondsOf(timestamp: Timestamp): number {
  return Number(timestamp.seconds) * 1_000_000 + Math.floor(timestamp.nanos / 1000);
}

/** The name of a signal number, for example "SIGKILL". */
export function signalName(signal: number): string {
  const entry = Object.entries(constants.signals).find(([, value]) => value === signal);
  return entry?.[0] ?? `SIG${signal}`;
}

/** Resolves after ms. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
