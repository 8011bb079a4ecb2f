/**
 * The container-runtime component's configuration (the `config` of its
 * manifest entry): where it keeps its state and which runc and perl it runs.
 * $MOBY_RUNC, when set, overrides config.runc.
 */
import { join } from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@moby-core/sdk";
import { defaultRunDir } from "@moby-core/sdk/internal";

/** The variable that overrides the runc to run. */
export const ENV_RUNC = "MOBY_RUNC";

/** The container runtime's settings. */
export interface RuntimeConfig {
  /** The directory of the runtime's state: tasks (bundles, output, exit files) and runc's root. */
  stateDir: string;
  /** The runc to run: a path, or a name looked up in PATH. */
  runc: string;
  /** Where the runc setting came from, for messages. */
  runcSource: "default" | "config.runc" | "$MOBY_RUNC";
  /** The perl that runs the shims: a path, or a name looked up in PATH. */
  perl: string;
}

function path(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "" || value.includes("\0")) throw new InvalidArgumentError(field, "must be a path");
  return value;
}

/** Reads the configuration, naming the first field that is wrong. */
export function readRuntimeConfig(config: JsonObject, env: NodeJS.ProcessEnv = process.env, runDir = defaultRunDir(env)): RuntimeConfig {
  for (const key of Object.keys(config)) {
    if (!["stateDir", "runc", "perl"].includes(key)) throw new InvalidArgumentError(`config.${key}`, "unknown setting");
  }
  const stateDir = path(config.stateDir, "config.stateDir") ?? join(runDir, "container-runtime");
  const fromEnv = env[ENV_RUNC];
  const fromConfig = path(config.runc, "config.runc");
  const [runc, runcSource] =
    fromEnv !== undefined && fromEnv !== ""
      ? ([fromEnv, "$MOBY_RUNC"] as const)
      : fromConfig !== undefined
        ? ([fromConfig, "config.runc"] as const)
        : (["runc", "default"] as const);
  return { stateDir, runc, runcSource, perl: path(config.perl, "config.perl") ?? "perl" };
}
