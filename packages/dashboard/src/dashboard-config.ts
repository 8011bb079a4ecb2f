/**
 * The dashboard's configuration (the `config` of its manifest entry): where
 * it listens, the token its mutating calls need, how often it samples the
 * assembly's metrics for its charts and how many samples it keeps.
 */
import { isIP } from "node:net";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@moby-core/sdk";
import { notADurationMessage, parseDuration } from "@moby-core/sdk/list";

/** The dashboard's settings. */
export interface DashboardConfig {
  /** The IP address to listen on (an IPv4 or IPv6 literal, or "localhost"). */
  host: string;
  /** The TCP port to listen on; 0 lets the system pick one (logged at start). */
  port: number;
  /** The bearer token the mutating calls need; undefined: none configured (see accessPolicy). */
  token: string | undefined;
  /** How often the assembly's metrics are sampled, in ms. */
  sampleIntervalMs: number;
  /** How many samples of each series are kept. */
  historySamples: number;
}

/** The default address: loopback only, the port after init's usual metrics port. */
export const DEFAULT_ADDRESS = "127.0.0.1:9324";
/** The default sampling interval: 2 s. */
export const DEFAULT_SAMPLE_INTERVAL_MS = 2_000;
/** The default history: 300 samples (10 minutes at 2 s). */
export const DEFAULT_HISTORY_SAMPLES = 300;
/** The shortest sampling interval accepted: 100 ms. */
const MIN_SAMPLE_INTERVAL_MS = 100;
/** The most samples per series accepted. */
const MAX_HISTORY_SAMPLES = 100_000;
/** The shortest token accepted, in characters. */
const MIN_TOKEN_LENGTH = 16;

const KEYS = ["address", "token", "sampleInterval", "history"];

/** Splits "host:port" or "[v6]:port" into its parts; throws naming config.address. */
export function parseAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (match === null || host === undefined || port > 65_535) {
    throw new InvalidArgumentError("config.address", `${JSON.stringify(text)} is not host:port (for example 127.0.0.1:9324, [::1]:9324)`);
  }
  if (host !== "localhost" && isIP(host) === 0) {
    throw new InvalidArgumentError("config.address", `${JSON.stringify(host)} is not an IP address or "localhost"`);
  }
  return { host, port };
}

function text(value: JsonValue | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new InvalidArgumentError(field, "must be a string");
  return value;
}

/** Reads the dashboard's config, throwing InvalidArgumentError naming the wrong field. */
export function readDashboardConfig(raw: JsonObject): DashboardConfig {
  for (const key of Object.keys(raw)) {
    if (!KEYS.includes(key)) throw new InvalidArgumentError(`config.${key}`, `unknown setting (the settings are ${KEYS.join(", ")})`);
  }
  const { host, port } = parseAddress(text(raw.address, "config.address") ?? DEFAULT_ADDRESS);
  const token = text(raw.token, "config.token");
  if (token !== undefined && (token.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token))) {
    throw new InvalidArgumentError("config.token", `must be at least ${MIN_TOKEN_LENGTH} printable ASCII characters without spaces`);
  }
  const interval = text(raw.sampleInterval, "config.sampleInterval");
  const sampleIntervalMs = interval === undefined ? DEFAULT_SAMPLE_INTERVAL_MS : parseDuration(interval);
  if (sampleIntervalMs === undefined) throw new InvalidArgumentError("config.sampleInterval", notADurationMessage(interval));
  if (sampleIntervalMs < MIN_SAMPLE_INTERVAL_MS) throw new InvalidArgumentError("config.sampleInterval", `must be at least ${MIN_SAMPLE_INTERVAL_MS}ms`);
  const history = raw.history ?? DEFAULT_HISTORY_SAMPLES;
  if (typeof history !== "number" || !Number.isSafeInteger(history) || history < 2 || history > MAX_HISTORY_SAMPLES) {
    throw new InvalidArgumentError("config.history", `must be a whole number of samples, 2 to ${MAX_HISTORY_SAMPLES}`);
  }
  return { host, port, token, sampleIntervalMs, historySamples: history };
}
