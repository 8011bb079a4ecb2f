/**
 * The container-store component's configuration (the `config` of its
 * manifest entry, and Reload): the backend (`sqlite`, the default, or
 * `etcd`); for SQLite where the database lives and how much change history
 * WatchContainers can replay; for etcd the cluster's endpoints, the key
 * prefix and timeouts (its history is what etcd's compaction keeps); and how
 * many StreamContainers snapshots may be open at once (maxSnapshots,
 * default 16).
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

/** Where the etcd backend keeps the records. */
export interface EtcdConfig {
  /** The client URLs of the cluster's members, for example "http://127.0.0.1:2379". */
  endpoints: string[];
  /** The prefix of every key of the store, ending with "/"; stores sharing it share the records. */
  prefix: string;
  /** How long connecting to a member may take, in ms. */
  dialTimeoutMs: number;
  /** How long one request to etcd may take before the call fails with UNAVAILABLE, in ms. */
  requestTimeoutMs: number;
}

/** The container store's settings. */
export interface StoreConfig {
  /** Where the records live: "sqlite" (one machine, the default) or "etcd" (shared by several nodes). */
  backend: "sqlite" | "etcd";
  /** The SQLite file of the store (backend sqlite). */
  database: string;
  /** The cluster and prefix (backend etcd). */
  etcd?: EtcdConfig;
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

/** The default key prefix of the etcd backend. */
export const DEFAULT_ETCD_PREFIX = "/moby/containers/";
/** The default etcd dial timeout, in ms. */
export const DEFAULT_ETCD_DIAL_TIMEOUT_MS = 3000;
/** The default etcd request timeout, in ms. */
export const DEFAULT_ETCD_REQUEST_TIMEOUT_MS = 5000;

/** A member's client URL: http://host:port or host:port. */
const ENDPOINT = /^(?:http:\/\/)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/;

function milliseconds(value: JsonValue | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(field, "must be a whole number of milliseconds, 1 or more");
  return value;
}

/** Reads config.etcd. */
function readEtcdConfig(value: JsonValue | undefined): EtcdConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidArgumentError("config.etcd", "must be an object with the cluster's endpoints");
  for (const key of Object.keys(value)) {
    if (!["endpoints", "prefix", "dialTimeoutMs", "requestTimeoutMs"].includes(key)) throw new InvalidArgumentError(`config.etcd.${key}`, "unknown setting");
  }
  const { endpoints, prefix = DEFAULT_ETCD_PREFIX } = value;
  if (!Array.isArray(endpoints) || endpoints.length === 0) throw new InvalidArgumentError("config.etcd.endpoints", "must list at least one member's client URL, for example http://127.0.0.1:2379");
  endpoints.forEach((endpoint, i) => {
    if (typeof endpoint !== "string" || !ENDPOINT.test(endpoint)) {
      throw new InvalidArgumentError(`config.etcd.endpoints[${i}]`, `${JSON.stringify(endpoint)} is not http://host:port (TLS is not supported)`);
    }
  });
  if (typeof prefix !== "string" || prefix.length < 2 || !prefix.endsWith("/") || Buffer.byteLength(prefix) > 1024) {
    throw new InvalidArgumentError("config.etcd.prefix", "must be a key prefix ending with \"/\", at most 1024 bytes, for example /moby/containers/");
  }
  return {
    endpoints: endpoints as string[],
    prefix,
    dialTimeoutMs: milliseconds(value.dialTimeoutMs, "config.etcd.dialTimeoutMs", DEFAULT_ETCD_DIAL_TIMEOUT_MS),
    requestTimeoutMs: milliseconds(value.requestTimeoutMs, "config.etcd.requestTimeoutMs", DEFAULT_ETCD_REQUEST_TIMEOUT_MS),
  };
}

/** Reads the configuration, naming the first field that is wrong; runDir gives the default database path. */
export function readStoreConfig(config: JsonObject, runDir = defaultRunDir()): StoreConfig {
  for (const key of Object.keys(config)) {
    if (!["backend", "database", "retention", "maxSnapshots", "etcd"].includes(key)) throw new InvalidArgumentError(`config.${key}`, "unknown setting");
  }
  const backend = config.backend ?? "sqlite";
  if (backend !== "sqlite" && backend !== "etcd") throw new InvalidArgumentError("config.backend", `${JSON.stringify(backend)} is not "sqlite" or "etcd"`);
  if (backend === "etcd") {
    for (const key of ["database", "retention"]) {
      if (config[key] !== undefined) {
        throw new InvalidArgumentError(`config.${key}`, "is a setting of the sqlite backend; with etcd the history is what the cluster's compaction keeps");
      }
    }
    return { backend, database: "", etcd: readEtcdConfig(config.etcd), retention: { maxChanges: 0, maxBytes: 0 }, maxSnapshots: snapshotCap(config.maxSnapshots) };
  }
  if (config.etcd !== undefined) throw new InvalidArgumentError("config.etcd", "is a setting of the etcd backend: set config.backend to \"etcd\"");
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
    backend,
    database: (config.database as string | undefined) ?? join(runDir, "state", "container-store", "containers.db"),
    retention: {
      maxChanges: count(retention.maxChanges, "config.retention.maxChanges", DEFAULT_RETENTION.maxChanges),
      maxBytes: count(retention.maxBytes, "config.retention.maxBytes", DEFAULT_RETENTION.maxBytes),
    },
    maxSnapshots: snapshotCap(config.maxSnapshots),
  };
}
