/**
 * A minimal rootfs from a statically linked busybox: <dir>/bin/busybox and
 * a symlink per applet. Enough to run shell commands in a container, for
 * tests and demonstrations (`moby run --rootfs DIR -- sh -c ...`).
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";

/** Where busybox usually is (Debian: busybox-static installs /bin/busybox). */
export const DEFAULT_BUSYBOX = "/bin/busybox";

/** The applets linked by default. */
export const DEFAULT_APPLETS = [
  "sh", "echo", "sleep", "cat", "ls", "true", "false", "env", "id", "kill", "ps", "printf", "head", "tail",
  "yes", "seq", "wc", "grep", "test", "[", "pwd", "hostname", "mkdir", "rm", "touch", "date", "dd", "tr",
];

/** Makes dir a busybox rootfs (bin/, plus empty proc, dev, sys, tmp); returns dir. */
export function makeBusyboxRootfs(dir: string, busybox = DEFAULT_BUSYBOX, applets = DEFAULT_APPLETS): string {
  if (!existsSync(busybox)) throw new Error(`${busybox} not found: install busybox-static (Debian: apt-get install busybox-static)`);
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  for (const sub of ["proc", "dev", "sys", "tmp", "etc"]) mkdirSync(join(dir, sub), { recursive: true });
  copyFileSync(busybox, join(bin, "busybox"));
  chmodSync(join(bin, "busybox"), 0o755);
  for (const applet of applets) {
    const link = join(bin, applet);
    if (!existsSync(link)) symlinkSync("busybox", link);
  }
  return dir;
}
