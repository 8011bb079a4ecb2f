/**
 * What the runtime needs to run containers: root, runc, and perl for the
 * shims (perl-base, on every Debian system), on an architecture whose
 * syscall numbers it knows. Without them the component still serves, its
 * ContainerRuntimeService health is NOT_SERVING, and every call fails with
 * FAILED_PRECONDITION and this module's message saying how to fix it.
 */
import { execFile } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import type { RuntimeConfig } from "./runtime-config.js";

/**
 * The syscall and ioctl numbers a shim needs: prctl (to become a child
 * subreaper), clock_gettime, recvmsg (to receive a terminal from runc) and
 * the TIOCSWINSZ ioctl (to resize it).
 */
export interface ShimSyscalls {
  prctl: number;
  clockGettime: number;
  recvmsg: number;
  tiocswinsz: number;
}

/** The numbers by Node's process.arch (Linux's asm-generic tables, or the architecture's own). */
const SYSCALLS: Partial<Record<NodeJS.Architecture, ShimSyscalls>> = {
  x64: { prctl: 157, clockGettime: 228, recvmsg: 47, tiocswinsz: 0x5414 },
  arm64: { prctl: 167, clockGettime: 113, recvmsg: 212, tiocswinsz: 0x5414 },
  riscv64: { prctl: 167, clockGettime: 113, recvmsg: 212, tiocswinsz: 0x5414 },
  loong64: { prctl: 167, clockGettime: 113, recvmsg: 212, tiocswinsz: 0x5414 },
  ppc64: { prctl: 171, clockGettime: 246, recvmsg: 342, tiocswinsz: 0x80087467 },
  s390x: { prctl: 172, clockGettime: 260, recvmsg: 372, tiocswinsz: 0x5414 },
};

/** The shim's syscall numbers on this machine, or undefined for an architecture the shim does not know. */
export function shimSyscalls(arch: NodeJS.Architecture = process.arch): ShimSyscalls | undefined {
  return SYSCALLS[arch];
}

/** The outcome of a probe. */
export type Prerequisites =
  | { ready: true; runc: string; perl: string; syscalls: ShimSyscalls; runcVersion: string }
  | { ready: false; message: string };

/** The absolute path of an executable: a path as given, or a name found in PATH. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const usable = (candidate: string) => {
    try {
      if (!statSync(candidate).isFile()) return false;
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (name.includes("/")) {
    const full = isAbsolute(name) ? name : resolve(name);
    return usable(full) ? full : undefined;
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (usable(candidate)) return candidate;
  }
  return undefined;
}

function runVersion(path: string): Promise<{ ok: true; version: string } | { ok: false; message: string }> {
  return new Promise((done) => {
    execFile(path, ["--version"], { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) done({ ok: false, message: (stderr || error.message).trim().split("\n")[0] ?? error.message });
      else done({ ok: true, version: stdout.trim().split("\n")[0] ?? "" });
    });
  });
}

/** Checks every prerequisite; the message lists each one missing and how to fix it. */
export async function probePrerequisites(config: RuntimeConfig, env: NodeJS.ProcessEnv = process.env): Promise<Prerequisites> {
  const problems: string[] = [];
  const runc = findExecutable(config.runc, env);
  let runcVersion = "";
  if (runc === undefined) {
    problems.push(
      config.runc.includes("/") || config.runcSource !== "default"
        ? `runc not found at ${JSON.stringify(config.runc)} (from ${config.runcSource}): install runc (Debian: apt-get install runc) or set ${config.runcSource} to its path`
        : `runc not found in PATH (${env.PATH ?? ""}): install runc (Debian: apt-get install runc) or set config.runc to its path`,
    );
  } else {
    const version = await runVersion(runc);
    if (version.ok) runcVersion = version.version;
    else problems.push(`${runc} --version failed (${version.message}): reinstall runc (Debian: apt-get install --reinstall runc)`);
  }
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) {
    problems.push(`container-runtime must run as root (it runs as uid ${uid}; runc needs root to create containers): start it as root`);
  }
  const perl = findExecutable(config.perl, env);
  if (perl === undefined) {
    problems.push(`perl not found (${JSON.stringify(config.perl)}), which runs the per-container shims: install perl (Debian: apt-get install perl-base) or set config.perl to its path`);
  }
  const syscalls = SYSCALLS[process.arch];
  if (syscalls === undefined) problems.push(`the ${process.arch} architecture is not supported by the shim (it needs its prctl syscall number)`);
  if (process.platform !== "linux") problems.push(`containers need Linux, not ${process.platform}`);
  if (problems.length > 0 || runc === undefined || perl === undefined || syscalls === undefined) {
    return { ready: false, message: problems.join("; ") };
  }
  return { ready: true, runc, perl, syscalls, runcVersion };
}
