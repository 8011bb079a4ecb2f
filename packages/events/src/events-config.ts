/**
 * The events component's configuration (the `config` of its manifest entry,
 * and Reload): where the log lives, how much it keeps, and how far a
 * subscriber may fall behind.
 */
import { join } from "node:path";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@moby-core/sdk";
import { notADurationMessage, parseDuration } from "@moby-core/sdk/list";
import { defaultRunDir } from "@moby-core/sdk/internal";
import type { Retention } from "./event-log.js";

/** The events component's settings. */
export interface EventsConfig {
  /** The SQLite file of the log. */
  database: string;
  /** How much the log keeps. */
  retention: Retention;
  /** The most selected events waiting for one live subscriber before it is cut off. */
  subscriberBufferEvents: number;
}

/** The defaults: 100,000 events, 256 MiB, 24 hours, 1024 events per subscriber. */
export const DEFAULT_RETENTION: Retention = { maxEvents: 100_000, maxBytes: 256 * 1024 * 1024, maxAgeMs: 24 * 60 * 60 * 1000 };
export const DEFAULT_SUBSCRIBER_BUFFER = 1024;


function count(value: JsonValue | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(field, "must be a whole number, 0 or more (0: no bound)");
  }
  return value;
}

function duration(value: JsonValue | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = typeof value === "string" ? parseDuration(value) : undefined;
  if (ms === undefined) throw new InvalidArgumentError(field, `${notADurationMessage(value)}; "0s" for no bound`);
  return ms;
}

function object(value: JsonValue | undefined, field: string): JsonObject {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidArgumentError(field, "must be an object");
  return value;
}

/** Reads the configuration, naming the first field that is wrong. */
export function readEventsConfig(config: JsonObject, runDir = defaultRunDir()): EventsConfig {
  const known = new Set(["database", "retention", "subscriberBufferEvents"]);
  for (const key of Object.keys(config)) if (!known.has(key)) throw new InvalidArgumentError(`config.${key}`, "unknown setting");
  const retention = object(config.retention, "config.retention");
  for (const key of Object.keys(retention)) {
    if (!["maxEvents", "maxBytes", "maxAge"].includes(key)) throw new InvalidArgumentError(`config.retention.${key}`, "unknown setting");
  }
  if (config.database !== undefined && typeof config.database !== "string") throw new InvalidArgumentError("config.database", "must be a path");
  const buffer = count(config.subscriberBufferEvents, "config.subscriberBufferEvents", DEFAULT_SUBSCRIBER_BUFFER);
  if (buffer < 1) throw new InvalidArgumentError("config.subscriberBufferEvents", "must be at least 1");
  return {
    database: (config.database as string | undefined) ?? join(runDir, "state", "events", "events.db"),
    retention: {
      maxEvents: count(retention.maxEvents, "config.retention.maxEvents", DEFAULT_RETENTION.maxEvents),
      maxBytes: count(retention.maxBytes, "config.retention.maxBytes", DEFAULT_RETENTION.maxBytes),
      maxAgeMs: duration(retention.maxAge, "config.retention.maxAge", DEFAULT_RETENTION.maxAgeMs),
    },
    subscriberBufferEvents: buffer,
  };
}
