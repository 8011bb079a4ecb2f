// What the CLI's integration tests share: running `moby` as a real process
// (to completion or in the background) and booting a real moby-init on a
// manifest in a scratch run directory.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_BUSYBOX } from "../../packages/container-runtime/src/busybox-rootfs.js";
import type { Exit } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";
import { OwnedProcess } from "../support/owned-process.js";

/** The runc the container tests use, if this machine has one. */
export const RUNC = ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"].find((path) => existsSync(path));
/** Why container tests are skipped here, or false when they can run (root, runc and busybox). */
export const skipContainers: false | string =
  process.getuid?.() === 0 && RUNC !== undefined && existsSync(DEFAULT_BUSYBOX) ? false : "needs root, runc and busybox";

/** A suffix unique to this run: runc's cgroups are per container id, node-wide. */
/** The suffix that makes ids unique to this run (cid adds it). */
export const suffix = Math.random().toString(36).slice(2, 8);
/** A container id unique to this run. */
export const cid = (name: string): string => `${name}-${suffix}`;

/** One container as `moby ps --format json` prints it: the CLI's own type. */
export type { ContainerJson } from "../../packages/cli/src/containers-table.js";

/** The CLI's entry point. */
export const MOBY = join(repoRoot, "packages/cli/bin/moby.js");
/** init's entry point. */
export const MOBY_INIT = join(repoRoot, "packages/init/bin/moby-init.js");
/** How long the assembly may take to become ready. */
const READY_TIMEOUT_MS = 60_000;

/** How a moby command ended. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `moby --run-dir runDir ...args` to completion (without blocking the test process). */
export function moby(runDir: string, ...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MOBY, "--run-dir", runDir, ...args], { cwd: repoRoot, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs moby and fails the test unless it exits 0. */
export async function ok(runDir: string, ...args: string[]): Promise<Result> {
  const result = await moby(runDir, ...args);
  assert.equal(result.code, 0, `moby ${args.join(" ")}: exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

/** A moby command running in the background, its output collected. */
export class Background {
  stdout = "";
  stderr = "";
  readonly exited: Promise<Exit>;
  private readonly process: OwnedProcess;

  constructor(runDir: string, args: string[]) {
    this.process = new OwnedProcess(process.execPath, [MOBY, "--run-dir", runDir, ...args], { cwd: repoRoot });
    this.process.child.stdout!.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.process.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = this.process.exited;
  }

  /** Resolves once stdout includes text. */
  async waitFor(text: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stdout.includes(text)) {
      if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(text)} within ${timeoutMs} ms; stdout: ${this.stdout}; stderr: ${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Sends signal to the moby process. */
  kill(signal: NodeJS.Signals): void {
    this.process.signal(signal);
  }
}

/** Polls until check holds; fails with what after timeoutMs. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A moby-init booted on a manifest in a scratch run directory. */
export class Init {
  readonly runDir: string;
  private init: OwnedProcess | undefined;

  constructor(
    private readonly dir: string,
    private readonly components: Record<string, unknown>,
  ) {
    this.runDir = join(dir, "run");
  }

  /** Starts init and waits until every component is running and serving. */
  async boot(): Promise<void> {
    const manifestFile = join(this.dir, "moby.yaml");
    writeFileSync(manifestFile, JSON.stringify({ components: this.components }, null, 2)); // JSON is YAML
    this.init = new OwnedProcess(process.execPath, [MOBY_INIT, "--manifest", manifestFile, "--run-dir", this.runDir], { cwd: repoRoot });
    const expected = Object.keys(this.components).length + 1;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = "";
    while (Date.now() < deadline) {
      const result = await moby(this.runDir, "components", "--json");
      last = result.code === 0 ? result.stdout : result.stderr;
      if (result.code === 0) {
        const components = JSON.parse(result.stdout) as { state: string; health: string }[];
        if (components.length === expected && components.every((c) => c.state === "running" && c.health === "serving")) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const error = new Error(`the assembly was not ready within ${READY_TIMEOUT_MS} ms; last: ${last}\ninit's output:\n${this.output}`);
    await this.stop();
    throw error;
  }

  /** init's stdout and stderr so far. */
  get output(): string {
    return this.init?.output ?? "";
  }

  /** Stops init with SIGTERM (SIGKILL after a grace period) and returns how it exited. */
  async stop(): Promise<Exit | undefined> {
    return this.init?.stop("SIGTERM");
  }

  /** Stops init with SIGTERM and asserts that it exited 0 (when it was started), with its output if not. */
  async stopCleanly(): Promise<void> {
    const exit = await this.stop();
    if (exit !== undefined) assert.deepEqual(exit, { code: 0, signal: null }, `init did not exit cleanly:\n${this.output}`);
  }
}

/** A component of the reference assembly, run from the repository root. */
export function component(script: string, extra: Record<string, unknown>): Record<string, unknown> {
  return { command: [process.execPath, script], workingDir: repoRoot, ...extra };
}
