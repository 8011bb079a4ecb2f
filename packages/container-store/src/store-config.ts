/**
 * The container-store component's configuration (the `config` of its
 * manifest entry, and Reload): where the database lives, how much change
 * history WatchContainers can replay, and how many StreamContainers
 * snapshots may be open at once (maxSnapshots, default 16).
 */
import { join } from "node:path";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@moby-core/sdk";
import { defaultRunDir } from "@moby-core/sdk/internal";
import { DEFAULT_MAX_SNAPSHOTS } from "./container-snapshot.js";

/** How much change history the store keeps for WatchContainers; 0 means no bound. */
export interface HistoryRetention {
  /** The most changes kept. */
  maxChanges: number;
  /** The most bytes of changes kept (the encoded records they carry). */
  maxBytes: number;
}

/** The container store's settings. */
export interface StoreConfig {
  /** The SQLite file of the store. */
  database: string;
  /** How much change history is kept. */
  retention: HistoryRetention;
  /** The most StreamContainers snapshots open at once; one more call gets RESOURCE_EXHAUSTED. */
  maxSnapshots: number;
}

/** The default history: the last 100,000 changes, at most 256 MiB of them. */
export const DEFAULT_RETENTION: HistoryRetention = { maxChanges: 100_000, maxBytes: 256 * 1024 * 1024 };

function count(value: JsonValue | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(field, "must be a whole number, 0 or more (0: no bound)");
  }
  return value;
}

function snapshotCap(value: JsonValue | undefined): number {
  if (value === undefined) return DEFAULT_MAX_SNAPSHOTS;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError("config.maxSnapshots", "must be a whole number, 1 or more");
  }
  return value;
}

/** Reads the configuration, naming the first field that is wrong; runDir gives the default database path. */
export function readStoreConfig(config: JsonObject, runDir = defaultRunDir()): StoreConfig {
  for (const key of Object.keys(config)) {
    if (key !== "database" && key !== "retention" && key !== "maxSnapshots") throw new InvalidArgumentError(`config.${key}`, "unknown setting");
  }
  if (config.database !== undefined && (typeof config.database !== "string" || config.database === "")) {
    throw new InvalidArgumentError("config.database", "must be a path");
  }
  const retention = config.retention ?? {};
  if (typeof retention !== "object" || retention === null || Array.isArray(retention)) {
    throw new InvalidArgumentError("config.retention", "must be an object");
  }
  for (const key of Object.keys(retention)) {
    if (key !== "maxChanges" && key !== "maxBytes") throw new InvalidArgumentError(`config.retention.${key}`, "unknown setting");
  }
  return {
    database: (config.database as string | undefined) ?? join(runDir, "state", "container-store", "containers.db"),
    retention: {
      maxChanges: count(retention.maxChanges, "config.retention.maxChanges", DEFAULT_RETENTION.maxChanges),
      maxBytes: count(retention.maxBytes, "config.retention.maxBytes", DEFAULT_RETENTION.maxBytes),
    },
    maxSnapshots: snapshotCap(config.maxSnapshots),
  };
}
