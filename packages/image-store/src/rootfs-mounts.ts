/**
 * Containers' root filesystems under rootfs/<container id>/: an overlayfs
 * mount (merged/) of the image's snapshots with the container's own upper/
 * and work/ directories, or, where overlayfs cannot be mounted, merged/ as a
 * copy of the snapshots applied in order (whiteouts delete, opaque
 * directories are emptied first).
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { MNT_DETACH, mountSyscalls } from "./mount-syscalls.js";

const run = promisify(execFile);

/** How a root filesystem is made. */
export type RootfsMethod = "overlayfs" | "copy";

/** Whether path is a mount point, from /proc/self/mountinfo. */
export function isMounted(path: string): boolean {
  const lines = readFileSync("/proc/self/mountinfo", "utf8").split("\n");
  return lines.some((line) => line.split(" ")[4]?.replace(/\\040/g, " ") === path);
}

/** The most bytes of options mount(2) takes (one page, with its NUL). */
export const MOUNT_OPTIONS_MAX = 4095;

/**
 * Mounts overlayfs at merged with the lower directories (top first, relative
 * to lowerRoot): by the mount(2) syscall with absolute paths when they fit in
 * its one page of options, else (many layers) by spawning `mount` in
 * lowerRoot with the shorter relative paths.
 */
export async function mountOverlay(lowerRoot: string, lowers: string[], upper: string, work: string, merged: string): Promise<void> {
  const syscalls = mountSyscalls();
  const absolute = `lowerdir=${lowers.map((lower) => resolve(lowerRoot, lower)).join(":")},upperdir=${upper},workdir=${work}`;
  if (syscalls !== undefined && Buffer.byteLength(absolute) <= MOUNT_OPTIONS_MAX) {
    await syscalls.mount("overlay", merged, "overlay", 0, absolute);
    return;
  }
  await run("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${lowers.join(":")},upperdir=${upper},workdir=${work}`, merged], { cwd: lowerRoot });
}

/** Unmounts path if it is mounted (lazily when it is busy), by umount2(2) where it can be called. */
export async function unmount(path: string): Promise<void> {
  if (!isMounted(path)) return;
  const syscalls = mountSyscalls();
  if (syscalls === undefined) {
    try {
      await run("umount", [path]);
    } catch {
      await run("umount", ["-l", path]);
    }
    return;
  }
  try {
    await syscalls.unmount(path, 0);
  } catch {
    await syscalls.unmount(path, MNT_DETACH);
  }
}

/** Applies one snapshot (fs directory, its opaque list) onto target, as the copying fallback. */
export function applySnapshot(fs: string, opaque: string[], target: string): void {
  for (const dir of opaque) {
    const path = join(target, dir);
    if (existsSync(path)) for (const name of readdirSync(path)) rmSync(join(path, name), { recursive: true, force: true });
  }
  applyTree(fs, target);
}

function applyTree(source: string, target: string): void {
  for (const name of readdirSync(source)) {
    const from = join(source, name);
    const to = join(target, name);
    const stat = lstatSync(from);
    if (stat.isCharacterDevice() && stat.rdev === 0) {
      rmSync(to, { recursive: true, force: true });
      continue;
    }
    let existing;
    try {
      existing = lstatSync(to);
    } catch {
      existing = undefined;
    }
    if (stat.isDirectory()) {
      if (existing && !existing.isDirectory()) rmSync(to, { recursive: true, force: true });
      if (!existing || !existing.isDirectory()) cpSync(from, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      else applyTree(from, to);
      continue;
    }
    if (existing) rmSync(to, { recursive: true, force: true });
    cpSync(from, to, { preserveTimestamps: true, verbatimSymlinks: true });
  }
}

/** Makes the directories of a root filesystem. */
export function makeRootfsDirs(dir: string): { upper: string; work: string; merged: string } {
  const upper = join(dir, "upper");
  const work = join(dir, "work");
  const merged = join(dir, "merged");
  for (const path of [upper, work, merged]) mkdirSync(path, { recursive: true, mode: 0o755 });
  return { upper, work, merged };
}
