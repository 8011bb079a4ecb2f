/**
 * The moby-init peer: moby-init (built, packages/init/bin/moby-init.js)
 * booting N idle SDK components from a manifest; ready when the supervisor
 * API lists every component RUNNING with health SERVING. Restart: SIGKILL of
 * one component's process, until init reports it RUNNING and SERVING again
 * under a new pid.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Health } from "@moby-core/component-api/v1";
import { dialSocket } from "@moby-core/sdk";
import { ComponentState, SupervisorService } from "@moby-core/supervisor-api/v1";
import type { Component } from "@moby-core/supervisor-api/v1";
import { BenchChild } from "../support/child-process.js";
import { pollUntil, socketAccepts } from "../support/socket-probe.js";
import { IDLE_COMPONENT, POLL_INTERVAL_MS, READY_TIMEOUT_MS, componentNames } from "./boot-peer.js";
import type { BootPeer, Booted } from "./boot-peer.js";
import { restartPhases } from "./restart-phases.js";
import type { RestartPhases } from "./restart-phases.js";

/**
 * The manifest's health and restart settings: init's own machinery is
 * measured, not its configurable waits. With the defaults (startInterval
 * 100ms, restart delay 100ms) boot and restart each take up to ~100 ms more.
 */
export const INIT_MANIFEST_SETTINGS = { health: { startInterval: "10ms" }, restart: { delay: "0ms" } } as const;

/** The manifest of n idle components, each with how it runs (its command, or its container section). */
export function idleManifest(n: number, runs: string[] = [`command: ${JSON.stringify([process.execPath, IDLE_COMPONENT])}`]): string {
  const lines = ["components:"];
  for (const name of componentNames(n)) {
    lines.push(
      `  ${name}:`,
      ...runs.map((line) => `    ${line}`),
      `    health: { startInterval: ${INIT_MANIFEST_SETTINGS.health.startInterval} }`,
      `    restart: { delay: ${INIT_MANIFEST_SETTINGS.restart.delay} }`,
    );
  }
  return lines.join("\n") + "\n";
}

/** How a moby-init peer lays out its assembly: its manifest, its run directory, and the pid to kill -9 for a restart. */
export interface InitLayout {
  /** The manifest of n components. */
  manifest(n: number): string;
  /** The run directory, given the round's scratch directory. */
  runDir(dir: string): string;
  /** The process to kill: the component's own (for a contained one, its container's process, not runc's). */
  victim(component: Component, runDir: string): number;
}

/** The process peer's layout: components as host processes, a fresh run directory each round. */
const processLayout: InitLayout = {
  manifest: (n) => idleManifest(n),
  runDir: (dir) => join(dir, "run"),
  victim: (component) => component.pid,
};

/** Whether init reports the component running and healthy. */
const healthy = (c: Component) => c.state === ComponentState.RUNNING && c.health === Health.SERVING;

/** Tells whether a process is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A moby-init peer: init booting N idle components laid out by layout. */
export function initPeer(name: string, description: string, layout: InitLayout): BootPeer {
  return {
  name,
  description,
  async boot(n, dir) {
    const names = componentNames(n);
    const file = join(dir, "moby.yaml");
    const runDir = layout.runDir(dir);
    const manifest = (count: number) => layout.manifest(count);
    const initSocket = join(runDir, "init.sock");
    await writeFile(file, manifest(n));
    const started = performance.now();
    const init = BenchChild.node("moby-init", "packages/init/bin/moby-init.js", { args: ["--manifest", file, "--run-dir", runDir] });
    const connection = dialSocket(initSocket, { retry: false, timeoutMs: 2_000 });
    const supervisor = connection.client(SupervisorService);
    let pids: number[] = [];
    const allHealthy = async () => {
      if (!(await socketAccepts(initSocket))) return false;
      try {
        const { components } = await supervisor.listComponents({});
        const ours = components.filter((c) => names.includes(c.name));
        pids = ours.map((c) => c.pid).filter((pid) => pid > 0);
        return ours.length === n && ours.every(healthy);
      } catch {
        return false;
      }
    };
    const stop = async () => {
      connection.close();
      await init.stop("SIGTERM", 20_000);
      for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
    };
    try {
      await pollUntil("moby-init boot", allHealthy, { intervalMs: POLL_INTERVAL_MS, timeoutMs: READY_TIMEOUT_MS, abandon: () => init.deadReason() });
    } catch (error) {
      await stop();
      throw error;
    }
    const bootMs = performance.now() - started;
    let phases: RestartPhases | undefined;
    const booted: Booted = {
      bootMs,
      get restartPhases() {
        return phases;
      },
      async restartOne() {
        const name = names[0]!;
        const before = (await supervisor.getComponent({ name })).component!;
        const started = performance.now();
        const killedAt = Date.now();
        process.kill(layout.victim(before, runDir), "SIGKILL");
        let after: Component | undefined;
        const back = async () => {
          try {
            const now = (await supervisor.getComponent({ name })).component!;
            if (now.pid > 0) pids = [...pids.filter((p) => p !== before.pid), now.pid];
            after = now;
            return healthy(now) && now.pid !== before.pid;
          } catch {
            return false;
          }
        };
        await pollUntil(`moby-init restart of ${name}`, back, { intervalMs: POLL_INTERVAL_MS, timeoutMs: READY_TIMEOUT_MS, abandon: () => init.deadReason() });
        const took = performance.now() - started;
        phases = restartPhases(killedAt, Date.now(), after!, init.output);
        return took;
      },
      stop,
    };
    return booted;
  },
  };
}

/** moby-init with N idle components. */
export const initAssembly: BootPeer = initPeer(
  "moby-init",
  "moby-init booting N idle SDK components from a manifest; ready when the supervisor lists all RUNNING and SERVING",
  processLayout,
);
