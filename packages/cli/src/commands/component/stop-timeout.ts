/** The --timeout option of `moby component stop` and `restart`, and the deadline of those calls. */
import { InvalidArgumentError, Option } from "commander";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { Duration } from "@bufbuild/protobuf/wkt";
import { notADurationMessage, parseDuration } from "@moby-core/sdk/list";
import { MAX_STOP_TIMEOUT_MS } from "@moby-core/sdk/internal";


/** How much longer than the stop timeout a stop or restart may take before the CLI gives up, in ms. */
const CALL_MARGIN_MS = 30_000;

/** Parses a --timeout value: a duration of at most 10 minutes, in ms. */
export function parseTimeoutOption(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new InvalidArgumentError(notADurationMessage(text));
  if (ms > MAX_STOP_TIMEOUT_MS) throw new InvalidArgumentError(`${JSON.stringify(text)} is longer than the largest stop timeout, 10m`);
  return ms;
}

/** The --timeout option of stop and restart. */
export function timeoutOption(): Option {
  return new Option("-t, --timeout <duration>", "how long to wait after SIGTERM before SIGKILL, e.g. 5s (default: the manifest's stop timeout)").argParser(
    parseTimeoutOption,
  );
}

/** The deadline of a stop or restart call: the stop timeout (or the largest allowed) plus a margin. */
export function stopCallTimeout(timeoutMs: number | undefined): number {
  return (timeoutMs ?? MAX_STOP_TIMEOUT_MS) + CALL_MARGIN_MS;
}

/** The request's timeout field for timeoutMs: absent for the manifest's. */
export function timeoutField(timeoutMs: number | undefined): { timeout?: Duration } {
  return timeoutMs === undefined ? {} : { timeout: durationFromMs(timeoutMs) };
}
