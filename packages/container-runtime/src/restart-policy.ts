/**
 * Restart policies (moby.container.runtime.v1 RestartPolicy, docker's
 * --restart): read from a container's runtime options, kept in task.json, and
 * the two decisions they make when a task's init process exits: whether to
 * restart it, and after how long.
 */
import { fromBinary } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "@moby-core/sdk";
import { RestartMode, RuntimeOptionsSchema } from "@moby-core/container-runtime-api/v1";

/** The type URL of the runtime options this runtime takes. */
export const RUNTIME_OPTIONS_TYPE_URL = "type.googleapis.com/moby.container.runtime.v1.RuntimeOptions";
/** The most max_retries of an on-failure policy. */
export const MAX_RETRIES_LIMIT = 1_000_000;
/** The wait before the first restart, and again after a run that lasted RESET_AFTER_MS. */
export const FIRST_DELAY_MS = 100;
/** The longest wait before a restart. */
export const MAX_DELAY_MS = 60_000;
/** A run at least this long resets the wait to FIRST_DELAY_MS. */
export const RESET_AFTER_MS = 10_000;

/** When a task is restarted: docker's policy names. */
export type RestartModeName = "on-failure" | "always" | "unless-stopped";

/** A task's restart policy and where it stands, as task.json keeps it. */
export interface RestartState {
  /** When to restart. */
  mode: RestartModeName;
  /** With on-failure: the most restarts, 0 for no limit. */
  maxRetries: number;
  /** How many times the runtime restarted the task. */
  count: number;
  /** The wait before the last restart, in ms; 0 before the first. */
  lastDelayMs: number;
  /** A client stopped the task (KillTask on its init process): not restarted, but see "always" at recovery. */
  stoppedByClient: boolean;
}

/** The RestartMode of each mode name, for the Task message. */
export const RESTART_MODES: Record<RestartModeName, RestartMode> = {
  "on-failure": RestartMode.ON_FAILURE,
  always: RestartMode.ALWAYS,
  "unless-stopped": RestartMode.UNLESS_STOPPED,
};

/** The mode name of each RestartMode that restarts: RESTART_MODES the other way round. */
const MODE_NAMES = new Map(Object.entries(RESTART_MODES).map(([name, mode]) => [mode, name as RestartModeName]));

/**
 * The restart policy of a container's runtime options (Runtime.options):
 * undefined when it has none or says never; INVALID_ARGUMENT naming the field
 * for options of another type, that do not decode, or break a rule.
 */
export function restartPolicyOf(options: Any | undefined): RestartState | undefined {
  if (options === undefined || options.typeUrl === "") return undefined;
  const field = "container.runtime.options";
  if (options.typeUrl !== RUNTIME_OPTIONS_TYPE_URL) {
    throw new InvalidArgumentError(field, `type URL ${JSON.stringify(options.typeUrl)} is not ${JSON.stringify(RUNTIME_OPTIONS_TYPE_URL)}: the runtime options this runtime takes`);
  }
  let policy;
  try {
    policy = fromBinary(RuntimeOptionsSchema, options.value).restartPolicy;
  } catch (error) {
    throw new InvalidArgumentError(field, `the value is not an encoded moby.container.runtime.v1.RuntimeOptions: ${(error as Error).message}`);
  }
  if (policy === undefined) return undefined;
  const mode = MODE_NAMES.get(policy.mode);
  if (policy.mode !== RestartMode.UNSPECIFIED && policy.mode !== RestartMode.NO && mode === undefined) {
    throw new InvalidArgumentError(`${field}.restart_policy.mode`, `${policy.mode} is not a RestartMode`);
  }
  if (policy.maxRetries !== 0 && mode !== "on-failure") {
    throw new InvalidArgumentError(`${field}.restart_policy.max_retries`, "applies to RESTART_MODE_ON_FAILURE only: leave it 0");
  }
  if (policy.maxRetries > MAX_RETRIES_LIMIT) {
    throw new InvalidArgumentError(`${field}.restart_policy.max_retries`, `${policy.maxRetries} is more than ${MAX_RETRIES_LIMIT}`);
  }
  if (mode === undefined) return undefined;
  return { mode, maxRetries: policy.maxRetries, count: 0, lastDelayMs: 0, stoppedByClient: false };
}

/**
 * Whether an exit with exitCode restarts the task: never once a client
 * stopped it, except an "always" task when the runtime itself has just
 * restarted (recovering), as docker does on a daemon restart.
 */
export function shouldRestart(state: RestartState, exitCode: number, recovering: boolean): boolean {
  if (state.stoppedByClient && !(recovering && state.mode === "always")) return false;
  if (state.mode !== "on-failure") return true;
  return exitCode !== 0 && (state.maxRetries === 0 || state.count < state.maxRetries);
}

/** The wait before the next restart: 100 ms, doubled each time up to 1 minute, back to 100 ms after a run of 10 s. */
export function restartDelayMs(state: RestartState, ranMs: number): number {
  if (state.lastDelayMs === 0 || ranMs >= RESET_AFTER_MS) return FIRST_DELAY_MS;
  return Math.min(state.lastDelayMs * 2, MAX_DELAY_MS);
}
