/**
 * An ExecProcess request: the checks of its fields (INVALID_ARGUMENT naming
 * the field, before anything changes) and the OCI process it becomes, the
 * container spec's process with the request's overrides.
 */
import { InvalidArgumentError } from "@moby-core/sdk";
import { checkId } from "@moby-core/sdk/list";
import type { ExecProcessRequest } from "@moby-core/container-runtime-api/v1";
import { mergeEnv } from "./oci-spec-builder.js";
import { resolveUser } from "./user-lookup.js";

const MAX_ARGS = 1024;
const MAX_ENV = 1024;
const MAX_ARGS_ENV_BYTES = 256 * 1024;
const MAX_CWD_BYTES = 4096;
const MAX_GIDS = 32;
const MAX_USER_NAME_BYTES = 256;

function quote(text: string): string {
  return JSON.stringify(text);
}

/** Checks the fields of an ExecProcessRequest. */
export function checkExecRequest(request: ExecProcessRequest): void {
  checkId(request.containerId, "container_id");
  checkId(request.execId, "exec_id");
  if (request.args.length === 0) throw new InvalidArgumentError("args", "required: give the program to run");
  if (request.args.length > MAX_ARGS) throw new InvalidArgumentError("args", `has ${request.args.length} entries, more than ${MAX_ARGS}`);
  request.args.forEach((arg, index) => {
    if (arg.includes("\0")) throw new InvalidArgumentError(`args[${index}]`, "contains a NUL byte");
  });
  if (request.args[0] === "") throw new InvalidArgumentError("args[0]", "is empty: give the program to run");
  if (request.env.length > MAX_ENV) throw new InvalidArgumentError("env", `has ${request.env.length} entries, more than ${MAX_ENV}`);
  request.env.forEach((entry, index) => {
    if (entry.includes("\0")) throw new InvalidArgumentError(`env[${index}]`, "contains a NUL byte");
    if (entry.indexOf("=") <= 0) throw new InvalidArgumentError(`env[${index}]`, `${quote(entry)} is not NAME=VALUE with a non-empty NAME`);
  });
  const bytes = [...request.args, ...request.env].reduce((sum, text) => sum + Buffer.byteLength(text, "utf8"), 0);
  if (bytes > MAX_ARGS_ENV_BYTES) throw new InvalidArgumentError("args", `args and env are ${bytes} bytes together, more than ${MAX_ARGS_ENV_BYTES}`);
  if (request.cwd !== "") {
    if (request.cwd.includes("\0")) throw new InvalidArgumentError("cwd", "contains a NUL byte");
    if (!request.cwd.startsWith("/")) throw new InvalidArgumentError("cwd", `${quote(request.cwd)} is not an absolute path`);
    if (Buffer.byteLength(request.cwd, "utf8") > MAX_CWD_BYTES) throw new InvalidArgumentError("cwd", `is longer than ${MAX_CWD_BYTES} bytes`);
  }
  if (request.user !== undefined && request.user.additionalGids.length > MAX_GIDS) {
    throw new InvalidArgumentError("user.additional_gids", `has ${request.user.additionalGids.length} entries, more than ${MAX_GIDS}`);
  }
  const name = request.user?.name ?? "";
  if (name.includes("\0")) throw new InvalidArgumentError("user.name", "contains a NUL byte");
  if (Buffer.byteLength(name, "utf8") > MAX_USER_NAME_BYTES) throw new InvalidArgumentError("user.name", `is longer than ${MAX_USER_NAME_BYTES} bytes`);
}

/**
 * The OCI process of an exec: base (the spec's process) with the request's
 * args, env, cwd, user and terminal; a user name is resolved in rootfs (the
 * container's root filesystem), FAILED_PRECONDITION naming it when it is
 * not there.
 */
export function execProcessSpec(base: Record<string, unknown>, request: ExecProcessRequest, rootfs: string): object {
  const process: Record<string, unknown> = { ...base, terminal: request.terminal, args: request.args };
  delete process.consoleSize;
  const baseEnv = Array.isArray(base.env) ? (base.env as string[]) : [];
  process.env = mergeEnv(baseEnv, request.env);
  process.cwd = request.cwd !== "" ? request.cwd : typeof base.cwd === "string" && base.cwd !== "" ? base.cwd : "/";
  if (request.user !== undefined && request.user.name !== "") {
    const { uid, gid, additionalGids } = resolveUser(request.user.name, rootfs);
    process.user = { uid, gid, ...(additionalGids.length > 0 ? { additionalGids } : {}) };
  } else if (request.user !== undefined) {
    process.user = {
      uid: request.user.uid,
      gid: request.user.gid,
      ...(request.user.additionalGids.length > 0 ? { additionalGids: request.user.additionalGids } : {}),
    };
  }
  return process;
}
