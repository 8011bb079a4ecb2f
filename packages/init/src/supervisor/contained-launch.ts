/**
 * How init starts a contained component: its bundle written under
 * <run dir>/containers/<name>/, then `runc run` in the foreground as the
 * supervised child, so its output, exit and signals work as for a host
 * process; init's pipe goes through as file descriptor 3 (--preserve-fds 1),
 * so the component still ends with its init. runc keeps its state under
 * <run dir>/runc, so container ids (the component's name) are unique per
 * run directory, and what an earlier init left there is deleted at boot.
 * Signals go through `runc kill`; runc run deletes its container when its
 * program ends, and if runc run itself was killed, leaving its container,
 * init removes it with `runc delete --force`, both in the background (the
 * event loop of init never waits for runc, but a start waits for a delete
 * still due). A restart after the component died thus starts no runc but
 * its successor's runc run.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ENV_INIT_PIPE_FD } from "@moby-core/sdk/internal";
import type { ComponentSpec } from "../manifest/manifest.js";
import { bundleConfig, requiredSocketMount, stateDirectory } from "./container-bundle.js";
import type { PreparedImage } from "./contained-rootfs.js";
import { INIT_PIPE_FD } from "./managed-process.js";
import type { ProcessControl } from "./managed-process.js";

/** The runc program init uses: $MOBY_RUNC, else runc on PATH. */
export function runcProgram(env: NodeJS.ProcessEnv = process.env): string {
  return env.MOBY_RUNC !== undefined && env.MOBY_RUNC !== "" ? env.MOBY_RUNC : "runc";
}

/** The directory runc keeps the state of a run directory's containers in. */
export function runcRoot(runDir: string): string {
  return join(runDir, "runc");
}

/** A contained component ready to spawn: the runc command line and how to reach the container. */
export interface ContainedLaunch {
  /** runc run ... <id>. */
  command: string[];
  /** Signals and cleanup through runc. */
  control: ProcessControl;
  /** The container's id. */
  containerId: string;
  /** The image, "name@digest" (the digest alone when it has no name). */
  image: string;
}

/** Runs runc with args in the background: a failure (a container already gone) is the state wanted, and init's event loop never waits for it. */
function runcLater(runDir: string, args: string[]): void {
  execFile(runcProgram(), ["--root", runcRoot(runDir), ...args], { timeout: 10_000 }, () => undefined);
}

/** Runs runc with args and waits, ignoring failures (a container already gone is fine). */
function runc(runDir: string, args: string[]): void {
  try {
    execFileSync(runcProgram(), ["--root", runcRoot(runDir), ...args], { stdio: "ignore", timeout: 10_000 });
  } catch {
    // gone already, or never created: both are the state wanted
  }
}

/** Deletes every container an earlier init left in runDir's runc state. */
export function deleteLeftoverContainers(runDir: string): string[] {
  let ids: string[];
  try {
    ids = execFileSync(runcProgram(), ["--root", runcRoot(runDir), "list", "-q"], { encoding: "utf8", timeout: 10_000 }).split("\n").filter(Boolean);
  } catch {
    return [];
  }
  for (const id of ids) runc(runDir, ["delete", "--force", id]);
  return ids;
}

/**
 * Writes the bundle of spec's container and returns the command that runs
 * it. env is the component's environment (the MOBY_* variables and its own).
 */
export function prepareLaunch(spec: ComponentSpec, image: PreparedImage, env: NodeJS.ProcessEnv, runDir: string, sockets: (name: string) => string): ContainedLaunch {
  const container = spec.container!;
  const containerId = spec.name;
  const bundle = join(runDir, "containers", spec.name);
  const stateDir = stateDirectory(runDir, spec.name);
  const socketDir = join(spec.socket, "..");
  for (const dir of [bundle, stateDir, socketDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const imageEnv = Object.fromEntries(image.config.env.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
  const environment = { ...imageEnv, ...env, [ENV_INIT_PIPE_FD]: String(INIT_PIPE_FD) };
  const args = spec.command.length > 0 ? spec.command : [...image.config.entrypoint, ...image.config.cmd];
  const config = bundleConfig({
    name: spec.name,
    container,
    image,
    args,
    env: Object.entries(environment).filter((e): e is [string, string] => e[1] !== undefined).map(([key, value]) => `${key}=${value}`),
    stateDir,
    socketDir,
    requiredSockets: spec.requires.map((name) => requiredSocketMount(sockets(name), runDir)),
  });
  writeFileSync(join(bundle, "config.json"), JSON.stringify(config, null, 2));
  // A container of this id from the previous run of this component, if its cleanup has not finished.
  if (existsSync(join(runcRoot(runDir), containerId))) runc(runDir, ["delete", "--force", containerId]);
  return {
    command: [runcProgram(), "--root", runcRoot(runDir), "run", "--preserve-fds", "1", "--bundle", bundle, containerId],
    containerId,
    image: image.refName === "" ? image.digest : `${image.refName}@${image.digest}`,
    control: {
      signal: (signal) => runcLater(runDir, ["kill", containerId, signal.replace(/^SIG/, "")]),
      // runc run deletes its container before it exits, unless it was killed itself: only then is there one to delete.
      cleanup: () => {
        if (existsSync(join(runcRoot(runDir), containerId))) runcLater(runDir, ["delete", "--force", containerId]);
      },
    },
  };
}
