/**
 * The command-line values of the container commands, parsed and checked
 * before anything is sent: K=V pairs (--env, --label), --user UID[:GID],
 * signals (--signal TERM, SIGKILL, 9), working directories, container ids
 * (--name), restart policies (--restart) and the ids moby makes up when none
 * is given. Each parser throws
 * commander's InvalidArgumentError, so a bad value is a usage error (exit 2).
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:os";
import { resolve as resolvePath } from "node:path";
import { InvalidArgumentError } from "commander";
import { MAX_ID_LENGTH, isId, parseDuration } from "@moby-core/sdk/list";
import { RestartMode } from "@moby-core/container-runtime-api/v1";

/** The highest signal number the runtime accepts (KillTask's rule). */
export const MAX_SIGNAL = 64;

/** SIGTERM, what a first Ctrl-C of `moby run` or `moby exec` sends. */
export const SIGTERM = 15;

/** SIGPIPE, what `moby run` and `moby exec` send when the reader of their stdout has gone. */
export const SIGPIPE = 13;

/** SIGKILL: the default of `moby kill` (as docker kill), and what `moby rm -f` and a second Ctrl-C send. */
export const SIGKILL = 9;

/** A restart policy from --restart: when, and with on-failure the most restarts (0: no limit). */
export interface RestartFlag {
  mode: RestartMode;
  maxRetries: number;
}

/** The most restarts --restart on-failure:N takes (the runtime's limit). */
export const MAX_RESTART_RETRIES = 1_000_000;

/** Parses --restart as docker's: no, on-failure[:N], always or unless-stopped. */
export function parseRestart(text: string): RestartFlag {
  const [name, count, ...rest] = text.split(":");
  const modes: Record<string, RestartMode> = {
    no: RestartMode.NO,
    "on-failure": RestartMode.ON_FAILURE,
    always: RestartMode.ALWAYS,
    "unless-stopped": RestartMode.UNLESS_STOPPED,
  };
  const mode = modes[name ?? ""];
  if (mode === undefined || rest.length > 0) {
    throw new InvalidArgumentError(`${JSON.stringify(text)} is not a restart policy: give no, on-failure[:max-retries], always or unless-stopped`);
  }
  if (count === undefined) return { mode, maxRetries: 0 };
  if (mode !== RestartMode.ON_FAILURE) throw new InvalidArgumentError(`${JSON.stringify(text)}: only on-failure takes a maximum retry count`);
  if (!/^\d+$/.test(count) || Number(count) > MAX_RESTART_RETRIES) {
    throw new InvalidArgumentError(`${JSON.stringify(text)}: the maximum retry count is a whole number from 0 (no limit) to ${MAX_RESTART_RETRIES}`);
  }
  return { mode, maxRetries: Number(count) };
}

/** A key and its value, from "K=V". */
export interface KeyValue {
  key: string;
  value: string;
}

/**
 * Parses "K=V" (split at the first "="; V may be empty or hold more "=").
 * what names the option in messages, e.g. "--env".
 */
export function parseKeyValue(text: string, what: string): KeyValue {
  const at = text.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError(`${what} ${JSON.stringify(text)}: expected KEY=VALUE with a non-empty KEY`);
  if (text.includes("\0")) throw new InvalidArgumentError(`${what} ${JSON.stringify(text)}: contains a NUL byte`);
  return { key: text.slice(0, at), value: text.slice(at + 1) };
}

/** Parses one --env value "NAME=VALUE" and returns it as is. */
export function parseEnvEntry(text: string): string {
  parseKeyValue(text, "--env");
  return text;
}

/** A commander collector of repeated --env values. */
export function collectEnv(text: string, previous: string[] = []): string[] {
  return [...previous, parseEnvEntry(text)];
}

/** A commander collector of repeated --label values; a later KEY replaces an earlier one. */
export function collectLabel(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const { key, value } = parseKeyValue(text, "--label");
  return { ...previous, [key]: value };
}

/** The identity of --user: numeric ids, or a name the runtime resolves in the container's /etc/passwd and /etc/group. */
export type UserIds = { uid: number; gid: number } | { name: string };

/** The largest uid or gid (2^32 - 2; 2^32 - 1 is "no id"). */
const MAX_ID_NUMBER = 0xffff_fffe;

/** A user or group name as /etc/passwd and /etc/group hold them (POSIX portable names, and $ at the end as Samba's). */
const NAME = "[A-Za-z_][A-Za-z0-9_.-]{0,31}\\$?";

/**
 * Parses --user as docker's: "UID:GID" (numbers, used as they are), or
 * "UID", "NAME", "NAME:GROUP", "UID:GROUP", "NAME:GID", resolved by the
 * runtime in the container's /etc/passwd and /etc/group (without a group:
 * the user's primary group, 0 for a UID /etc/passwd does not have).
 */
export function parseUser(text: string): UserIds {
  const numeric = /^(\d+):(\d+)$/.exec(text);
  if (numeric !== null) {
    const uid = Number(numeric[1]);
    const gid = Number(numeric[2]);
    if (uid > MAX_ID_NUMBER || gid > MAX_ID_NUMBER) throw new InvalidArgumentError(`${JSON.stringify(text)}: a uid or gid is at most ${MAX_ID_NUMBER}`);
    return { uid, gid };
  }
  if (/^\d+$/.test(text) && Number(text) > MAX_ID_NUMBER) throw new InvalidArgumentError(`${JSON.stringify(text)}: a uid or gid is at most ${MAX_ID_NUMBER}`);
  if (!new RegExp(`^(?:${NAME}|\\d+)(?::(?:${NAME}|\\d+))?$`).test(text)) {
    throw new InvalidArgumentError(`${JSON.stringify(text)} is not a user: give NAME, UID, NAME:GROUP or UID:GID (as docker's --user)`);
  }
  return { name: text };
}

/** Parses --workdir: an absolute path inside the container. */
export function parseWorkdir(text: string): string {
  if (!text.startsWith("/")) throw new InvalidArgumentError(`${JSON.stringify(text)} is not an absolute path inside the container`);
  if (text.includes("\0")) throw new InvalidArgumentError(`${JSON.stringify(text)} contains a NUL byte`);
  return text;
}

/** The signal names of this node, "SIGTERM" -> 15. */
const SIGNALS = constants.signals as Readonly<Record<string, number>>;

/**
 * Parses a signal: a name with or without "SIG", in any case (TERM, sigkill,
 * SIGHUP), or a number from 1 to 64.
 */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const number = Number(text);
    if (number >= 1 && number <= MAX_SIGNAL) return number;
    throw new InvalidArgumentError(`signal ${text} is out of range: 1 to ${MAX_SIGNAL}`);
  }
  const upper = text.toUpperCase();
  const name = upper.startsWith("SIG") ? upper : `SIG${upper}`;
  const number = SIGNALS[name];
  if (number === undefined || number < 1 || number > MAX_SIGNAL) {
    throw new InvalidArgumentError(`${JSON.stringify(text)} is not a signal: give a name such as TERM, SIGKILL, HUP or a number from 1 to ${MAX_SIGNAL}`);
  }
  return number;
}

/** Parses --name: a container id by the store's rule. */
export function parseContainerId(text: string): string {
  if (!isId(text)) {
    throw new InvalidArgumentError(
      `${JSON.stringify(text)} is not a container id: 1 to ${MAX_ID_LENGTH} ASCII letters and digits, where ".", "_" and "-" appear only singly between two of them`,
    );
  }
  return text;
}

/** A new id with a prefix and 8 random hex digits, e.g. "c-3fa9b2c1"; it follows the id rule. */
function newId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** A new container id, "c-" and 8 hex digits. */
export function newContainerId(): string {
  return newId("c");
}

/** A new exec id, "e-" and 8 hex digits. */
export function newExecId(): string {
  return newId("e");
}

/** A bind mount of `-v SRC:DST[:ro]` or `--mount type=bind,...`: a host path shown at a path inside the container. */
export interface BindMount {
  /** The host path, absolute. */
  source: string;
  /** The path inside the container, absolute. */
  target: string;
  /** Mounted read-only. */
  readonly: boolean;
}

/** Checks the parts of a bind mount every form shares; what names the option in messages. */
function bindMount(source: string, target: string, readonly: boolean, what: string, cwd: string): BindMount {
  if (source === "") throw new InvalidArgumentError(`${what}: the source (a host path) is empty`);
  if (!target.startsWith("/")) throw new InvalidArgumentError(`${what}: the target ${JSON.stringify(target)} is not an absolute path inside the container`);
  if (source.includes("\0") || target.includes("\0")) throw new InvalidArgumentError(`${what}: contains a NUL byte`);
  return { source: resolvePath(cwd, source), target, readonly };
}

/**
 * Parses -v "SRC:DST" or "SRC:DST:ro" (or ":rw"): a bind mount of the host
 * path SRC (made absolute against cwd) at DST. Named volumes do not exist
 * here, so SRC must be a path.
 */
export function parseVolume(text: string, cwd = process.cwd()): BindMount {
  const parts = text.split(":");
  const [source = "", target = "", mode] = parts;
  if (parts.length < 2 || parts.length > 3 || (mode !== undefined && mode !== "ro" && mode !== "rw")) {
    throw new InvalidArgumentError(`--volume ${JSON.stringify(text)}: expected SRC:DST or SRC:DST:ro (a host path and an absolute path in the container)`);
  }
  if (!source.startsWith("/") && !source.startsWith(".")) {
    throw new InvalidArgumentError(`--volume ${JSON.stringify(text)}: ${JSON.stringify(source)} is not a host path (named volumes do not exist here; write ./${source} for a relative path)`);
  }
  return bindMount(source, target, mode === "ro", `--volume ${JSON.stringify(text)}`, cwd);
}

/**
 * Parses --mount "type=bind,source=SRC,target=DST[,readonly]" (docker's
 * keys: src and source, dst, destination and target, readonly and ro,
 * readonly=true|false). Only type=bind exists here.
 */
export function parseMount(text: string, cwd = process.cwd()): BindMount {
  const what = `--mount ${JSON.stringify(text)}`;
  let type: string | undefined;
  let source: string | undefined;
  let target: string | undefined;
  let readonly = false;
  for (const field of text.split(",")) {
    const at = field.indexOf("=");
    const key = (at < 0 ? field : field.slice(0, at)).trim().toLowerCase();
    const value = at < 0 ? undefined : field.slice(at + 1);
    if (key === "type") type = value;
    else if (key === "source" || key === "src") source = value;
    else if (key === "target" || key === "dst" || key === "destination") target = value;
    else if (key === "readonly" || key === "ro") {
      if (value !== undefined && !["true", "false", "1", "0"].includes(value)) throw new InvalidArgumentError(`${what}: readonly=${value} is not true or false`);
      readonly = value === undefined || value === "true" || value === "1";
    } else throw new InvalidArgumentError(`${what}: unknown key ${JSON.stringify(key)}; the keys are type, source, target, readonly`);
  }
  if (type !== "bind") throw new InvalidArgumentError(`${what}: type=${type ?? "(missing)"} is not supported: only type=bind (a host path)`);
  if (source === undefined || target === undefined) throw new InvalidArgumentError(`${what}: give both source=HOST_PATH and target=CONTAINER_PATH`);
  return bindMount(source, target, readonly, what, cwd);
}

/** A commander collector of repeated -v values. */
export function collectVolume(text: string, previous: BindMount[] = []): BindMount[] {
  return [...previous, parseVolume(text)];
}

/** A commander collector of repeated --mount values. */
export function collectMount(text: string, previous: BindMount[] = []): BindMount[] {
  return [...previous, parseMount(text)];
}

/** Parses docker stop's -t/--time: whole seconds to wait after SIGTERM, 0 to 600. */
export function parseStopSeconds(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 600) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a number of seconds from 0 to 600`);
  return Number(text);
}

/** A commander collector of variadic container ids (rm, stop, wait, ...): each checked by the id rule. */
export function collectContainerId(text: string, previous: string[] | undefined): string[] {
  return [...(Array.isArray(previous) ? previous : []), parseContainerId(text)];
}

/**
 * Parses docker logs' --since/--until: a duration before now ("10m",
 * "1h30m"), an RFC 3339 time ("2026-12-06T02:00:00Z"), or Unix seconds
 * ("1765000000", "1765000000.5"). what names the option in messages.
 */
export function parseLogTime(text: string, what: string, now = new Date()): Date {
  const ms = parseDuration(text);
  if (ms !== undefined) return new Date(now.getTime() - ms);
  if (/^\d+(\.\d+)?$/.test(text)) return new Date(Number(text) * 1_000);
  if (/^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text))) return new Date(Date.parse(text));
  throw new InvalidArgumentError(`${what} ${JSON.stringify(text)}: give a duration before now (10m), an RFC 3339 time (2026-12-06T02:00:00Z) or Unix seconds`);
}
