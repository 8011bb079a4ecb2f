/**
 * Registry credentials, from a file in docker's config.json shape
 * (`{"auths": {"host": {"username": "...", "password": "..."} | {"auth": "<base64 user:pass>"}}}`),
 * which must be mode 0600 (no access for group or others). Credentials are
 * never logged: this module returns them only to the registry client.
 */
import { readFileSync, statSync } from "node:fs";
import { InvalidArgumentError } from "@moby-core/sdk";

/** A username and password for one registry. */
export interface Credentials {
  username: string;
  password: string;
}

/** Reads the credentials file; a missing path means no credentials. */
export function readCredentials(path: string | undefined): Map<string, Credentials> {
  const out = new Map<string, Credentials>();
  if (!path) return out;
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return out;
  }
  if ((mode & 0o077) !== 0) {
    throw new InvalidArgumentError("config.credentialsFile", `${path} is mode ${(mode & 0o777).toString(8)}; it must be 0600 (no access for group or others)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new InvalidArgumentError("config.credentialsFile", `${path} is not JSON`);
  }
  const auths = (parsed as { auths?: unknown }).auths;
  if (typeof auths !== "object" || auths === null) throw new InvalidArgumentError("config.credentialsFile", `${path} has no "auths" object`);
  for (const [host, entry] of Object.entries(auths as Record<string, { username?: unknown; password?: unknown; auth?: unknown }>)) {
    const key = host.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
    if (typeof entry.username === "string" && typeof entry.password === "string") {
      out.set(key, { username: entry.username, password: entry.password });
    } else if (typeof entry.auth === "string") {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) throw new InvalidArgumentError("config.credentialsFile", `auths["${host}"].auth is not base64 of user:password`);
      out.set(key, { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) });
    } else {
      throw new InvalidArgumentError("config.credentialsFile", `auths["${host}"] needs username and password, or auth`);
    }
  }
  return out;
}
