/**
 * The events component's configuration (the `config` of its manifest entry,
 * and Reload): which backend keeps the log (SQLite, the default, or NATS
 * JetStream) and where, how much it keeps, and how far a subscriber may fall
 * behind.
 */
import { join } from "node:path";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@moby-core/sdk";
import { notADurationMessage, parseDuration } from "@moby-core/sdk/list";
import { defaultRunDir } from "@moby-core/sdk/internal";
import type { Retention } from "./backend/event-log.js";

/** Where a JetStream-backed log lives. */
export interface NatsConfig {
  /** The NATS servers to connect to, as host:port or nats://host:port; the client fails over between them. */
  servers: string[];
  /** The JetStream stream of the log; components that share it share one log. */
  stream: string;
  /** How many servers keep each event (1, 3 or 5; the stream's replicas). */
  replicas: number;
}

/** The events component's settings. */
export interface EventsConfig {
  /** Which backend keeps the log. */
  backend: "sqlite" | "nats";
  /** The SQLite file of the log (the sqlite backend). */
  database: string;
  /** The JetStream stream of the log (the nats backend). */
  nats: NatsConfig | undefined;
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

/** The default stream name of a JetStream-backed log. */
export const DEFAULT_STREAM = "MOBY_EVENTS";
/** A stream name JetStream takes that is also one token of a subject: letters, digits, "_" and "-". */
const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** host:port, or a nats:// URL with one. */
const SERVER = /^(nats:\/\/)?[^\s/:,]+:\d{1,5}$/;

/** Reads config.nats: the servers (required), the stream and its replicas. */
function readNats(value: JsonValue | undefined): NatsConfig {
  if (value === undefined) throw new InvalidArgumentError("config.nats", 'is required with backend "nats"');
  const nats = object(value, "config.nats");
  for (const key of Object.keys(nats)) {
    if (!["servers", "stream", "replicas"].includes(key)) throw new InvalidArgumentError(`config.nats.${key}`, "unknown setting");
  }
  const servers = nats.servers;
  if (!Array.isArray(servers) || servers.length === 0) throw new InvalidArgumentError("config.nats.servers", 'must be a list of one or more "host:port"');
  servers.forEach((server, i) => {
    if (typeof server !== "string" || !SERVER.test(server)) throw new InvalidArgumentError(`config.nats.servers[${i}]`, `${JSON.stringify(server)} is not "host:port" or "nats://host:port"`);
  });
  const stream = nats.stream ?? DEFAULT_STREAM;
  if (typeof stream !== "string" || !STREAM_NAME.test(stream)) throw new InvalidArgumentError("config.nats.stream", "must be 1 to 64 letters, digits, \"_\" or \"-\"");
  const replicas = nats.replicas ?? 1;
  if (replicas !== 1 && replicas !== 3 && replicas !== 5) throw new InvalidArgumentError("config.nats.replicas", "must be 1, 3 or 5");
  return { servers: servers as string[], stream, replicas };
}

/** Reads the configuration, naming the first field that is wrong. */
export function readEventsConfig(config: JsonObject, runDir = defaultRunDir()): EventsConfig {
  const known = new Set(["backend", "database", "nats", "retention", "subscriberBufferEvents"]);
  for (const key of Object.keys(config)) if (!known.has(key)) throw new InvalidArgumentError(`config.${key}`, "unknown setting");
  const retention = object(config.retention, "config.retention");
  for (const key of Object.keys(retention)) {
    if (!["maxEvents", "maxBytes", "maxAge"].includes(key)) throw new InvalidArgumentError(`config.retention.${key}`, "unknown setting");
  }
  const backend = config.backend ?? "sqlite";
  if (backend !== "sqlite" && backend !== "nats") throw new InvalidArgumentError("config.backend", `${JSON.stringify(backend)} is not "sqlite" or "nats"`);
  if (config.database !== undefined && typeof config.database !== "string") throw new InvalidArgumentError("config.database", "must be a path");
  if (backend === "nats" && config.database !== undefined) throw new InvalidArgumentError("config.database", 'is for backend "sqlite"; the nats backend keeps its log in config.nats.stream');
  if (backend === "sqlite" && config.nats !== undefined) throw new InvalidArgumentError("config.nats", 'is for backend "nats"; set backend: nats to use it');
  const buffer = count(config.subscriberBufferEvents, "config.subscriberBufferEvents", DEFAULT_SUBSCRIBER_BUFFER);
  if (buffer < 1) throw new InvalidArgumentError("config.subscriberBufferEvents", "must be at least 1");
  return {
    backend,
    nats: backend === "nats" ? readNats(config.nats) : undefined,
    database: (config.database as string | undefined) ?? join(runDir, "state", "events", "events.db"),
    retention: {
      maxEvents: count(retention.maxEvents, "config.retention.maxEvents", DEFAULT_RETENTION.maxEvents),
      maxBytes: count(retention.maxBytes, "config.retention.maxBytes", DEFAULT_RETENTION.maxBytes),
      maxAgeMs: duration(retention.maxAge, "config.retention.maxAge", DEFAULT_RETENTION.maxAgeMs),
    },
    subscriberBufferEvents: buffer,
  };
}
