/**
 * Structured logs: JSON lines on standard error through pino, with the
 * component's name on every line.
 */
import { pino } from "pino";
import type { DestinationStream, Logger } from "pino";
import { ENV_LOG_LEVEL } from "./env.js";

export type { Logger } from "pino";

/** The log levels a component accepts, most verbose first. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/**
 * Creates the logger of a component: level from the option, else $MOBY_LOG_LEVEL, else info;
 * JSON lines on standard error unless another destination is given (init's readable form).
 */
export function createComponentLogger(component: string, level?: string, destination?: DestinationStream): Logger {
  const chosen = level ?? process.env[ENV_LOG_LEVEL] ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(chosen)) {
    throw new Error(`log level ${JSON.stringify(chosen)} is not one of ${LOG_LEVELS.join(", ")}`);
  }
  return pino(
    { level: chosen, base: { component }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? pino.destination({ fd: 2, sync: true }),
  );
}
