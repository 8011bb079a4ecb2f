/**
 * User names resolved in a container's root filesystem, as docker and runc
 * resolve them: "NAME", "UID", "NAME:GROUP", "UID:GID" (any mix), looked up
 * in the rootfs's /etc/passwd and /etc/group. Without a group, the user's
 * primary group from /etc/passwd (0 for a uid that has no entry); the
 * supplementary groups are the groups of /etc/group that list the user
 * name as a member. Used for an image's User, a spec's
 * process.user.username and an exec's User.name.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FailedPreconditionError } from "@moby-core/sdk";

/** The numeric identity a user resolves to. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: those of /etc/group listing the user as a member (without gid). */
  additionalGids: number[];
}

/** The largest uid or gid (2^32 - 2; 2^32 - 1 is "no id"). */
const MAX_ID = 0xffff_fffe;

/** The entries of rootfs/etc/FILE as fields split at ":"; [] when the file is missing. */
function entries(rootfs: string, file: string): string[][] {
  let text: string;
  try {
    text = readFileSync(join(rootfs, "etc", file), "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => line.split(":"));
}

/** A field of an entry as an id, or undefined when it is not one. */
function idField(entry: string[], index: number): number | undefined {
  const text = entry[index] ?? "";
  return /^\d+$/.test(text) && Number(text) <= MAX_ID ? Number(text) : undefined;
}

function numeric(text: string): number | undefined {
  return /^\d+$/.test(text) && Number(text) <= MAX_ID ? Number(text) : undefined;
}

/**
 * Resolves user ("NAME", "UID", "NAME:GROUP", "UID:GID", ...) in rootfs.
 * A FailedPreconditionError in docker's words naming the user or group
 * when it is not there: `unable to find user NAME: no matching entries in
 * passwd file`; what names where the user came from (e.g. "the image's").
 */
export function resolveUser(user: string, rootfs: string): ResolvedUser {
  const colon = user.indexOf(":");
  const userPart = colon < 0 ? user : user.slice(0, colon);
  const groupPart = colon < 0 ? undefined : user.slice(colon + 1);
  if (userPart === "" || groupPart === "") throw new FailedPreconditionError(`unable to find user ${JSON.stringify(user)}: give NAME, UID, NAME:GROUP or UID:GID`);
  const passwd = entries(rootfs, "passwd");
  const byNumber = numeric(userPart);
  const entry = passwd.find((fields) => (byNumber === undefined ? fields[0] === userPart : idField(fields, 2) === byNumber));
  const uid = byNumber ?? (entry === undefined ? undefined : idField(entry, 2));
  if (uid === undefined) throw new FailedPreconditionError(`unable to find user ${userPart}: no matching entries in passwd file`);
  const groups = entries(rootfs, "group");
  let gid: number | undefined;
  if (groupPart === undefined) {
    gid = entry === undefined ? 0 : (idField(entry, 3) ?? 0);
  } else {
    gid = numeric(groupPart);
    if (gid === undefined) {
      const group = groups.find((fields) => fields[0] === groupPart);
      gid = group === undefined ? undefined : idField(group, 2);
      if (gid === undefined) throw new FailedPreconditionError(`unable to find group ${groupPart}: no matching entries in group file`);
    }
  }
  const name = entry?.[0];
  const additionalGids =
    name === undefined
      ? []
      : [
          ...new Set(
            groups
              .filter((fields) => (fields[3] ?? "").split(",").includes(name))
              .map((fields) => idField(fields, 2))
              .filter((id): id is number => id !== undefined && id !== gid),
          ),
        ];
  return { uid, gid, additionalGids };
}

/**
 * The spec with its process.user.username (a user as docker's --user)
 * resolved in its root.path: uid, gid and additionalGids set from the
 * rootfs, username removed (runc reads it on Windows only). The spec as is
 * when it has no username, or no usable root.path (checkOciSpec refuses
 * that one).
 */
export function resolveSpecUser(specJson: Uint8Array): Uint8Array {
  // Most specs have no username: they are not parsed again.
  if (!Buffer.from(specJson.buffer, specJson.byteOffset, specJson.byteLength).includes('"username"')) return specJson;
  let doc: { root?: { path?: unknown }; process?: { user?: { username?: unknown } & Record<string, unknown> } };
  try {
    doc = JSON.parse(Buffer.from(specJson).toString("utf8")) as typeof doc;
  } catch {
    return specJson;
  }
  const user = doc.process?.user;
  const rootfs = doc.root?.path;
  if (user === undefined || typeof user.username !== "string" || user.username === "" || typeof rootfs !== "string" || !rootfs.startsWith("/")) return specJson;
  const resolved = resolveUser(user.username, rootfs);
  const { username: _username, ...rest } = user;
  doc.process!.user = { ...rest, uid: resolved.uid, gid: resolved.gid, ...(resolved.additionalGids.length > 0 ? { additionalGids: resolved.additionalGids } : {}) };
  return new TextEncoder().encode(JSON.stringify(doc));
}
