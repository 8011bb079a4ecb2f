/**
 * A component running as a real child process for a test: started with tsx
 * as an OwnedProcess (it dies with the test process), waited for until its
 * socket answers, stopped with a signal and SIGKILL after a grace period,
 * its output kept.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { probeSocket } from "@moby-core/sdk/internal";
import { repoRoot } from "./contract-copy.js";
import { OwnedProcess, STOP_GRACE_MS } from "./owned-process.js";
import type { Exit } from "./owned-process.js";

export type { Exit } from "./owned-process.js";

/** A component process started by a test. */
export class ComponentProcess {
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  private readonly process: OwnedProcess;

  constructor(script: string, env: NodeJS.ProcessEnv, args: string[] = []) {
    this.process = new OwnedProcess(process.execPath, ["--import", "tsx", join(repoRoot, script), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
    });
    this.exited = this.process.exited;
  }

  /** Everything the process wrote to stdout and stderr so far. */
  get output(): string {
    return this.process.output;
  }

  /** The process id. */
  get pid(): number {
    return this.process.pid!;
  }

  /** Resolves once something listens on socketPath; rejects if the process exits first or after timeoutMs. */
  async waitForSocket(socketPath: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`process exited before serving on ${socketPath}:\n${this.output}`);
      if ((await probeSocket(socketPath)) === "live") return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`nothing served on ${socketPath} within ${timeoutMs} ms:\n${this.output}`);
  }

  /** Resolves once the output matches pattern; rejects with the output after timeoutMs. */
  async waitForOutput(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (Date.now() > deadline) throw new Error(`no output matched ${pattern} within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Sends signal and waits for the process to exit; SIGKILLs it if it has not after graceMs. */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = STOP_GRACE_MS): Promise<Exit> {
    return this.process.stop(signal, graceMs);
  }
}

/** Starts the example hello component on socketPath with serveComponent overrides. */
export async function startHello(socketPath: string, overrides: Record<string, unknown> = {}): Promise<ComponentProcess> {
  const child = new ComponentProcess("test/fixtures/hello-server.ts", {
    MOBY_SOCKET: socketPath,
    MOBY_TEST_SERVE_OPTIONS: JSON.stringify(overrides),
  });
  await child.waitForSocket(socketPath);
  return child;
}

/**
 * Starts the container store alone on socketPath with config (its events go
 * to a socket nothing listens on, beside socketPath) and waits until it
 * serves; a store that does not serve is killed before the error is thrown.
 */
export async function startContainerStore(socketPath: string, config: Record<string, unknown>, logLevel = "warn"): Promise<ComponentProcess> {
  const store = new ComponentProcess("packages/container-store/bin/moby-container-store.js", {
    MOBY_SOCKET: socketPath,
    MOBY_COMPONENT_NAME: "container-store",
    MOBY_LOG_LEVEL: logLevel,
    MOBY_REGISTRY_ENDPOINT: "",
    MOBY_ENDPOINT_EVENTS: join(dirname(socketPath), "no-events.sock"),
    MOBY_COMPONENT_CONFIG: JSON.stringify(config),
  });
  try {
    await store.waitForSocket(socketPath);
  } catch (error) {
    await store.stop("SIGKILL");
    throw error;
  }
  return store;
}

/** A fresh temporary directory for sockets, removed by the returned function. */
export function scratchDirectory(prefix = "moby-test-"): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Tells whether a process is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
