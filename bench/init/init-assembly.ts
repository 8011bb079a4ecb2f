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

/**
 * The manifest's health and restart settings: init's own machinery is
 * measured, not its configurable waits. With the defaults (startInterval
 * 100ms, restart delay 100ms) boot and restart each take up to ~100 ms more.
 */
export const INIT_MANIFEST_SETTINGS = { health: { startInterval: "10ms" }, restart: { delay: "0ms" } } as const;

/** The manifest of n idle components. */
function manifest(n: number): string {
  const lines = ["components:"];
  for (const name of componentNames(n)) {
    lines.push(
      `  ${name}:`,
      `    command: ${JSON.stringify([process.execPath, IDLE_COMPONENT])}`,
      `    health: { startInterval: ${INIT_MANIFEST_SETTINGS.health.startInterval} }`,
      `    restart: { delay: ${INIT_MANIFEST_SETTINGS.restart.delay} }`,
    );
  }
  return lines.join("\n") + "\n";
}

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

/** moby-init with N idle components. */
export const initAssembly: BootPeer = {
  name: "moby-init",
  description: "moby-init booting N idle SDK components from a manifest; ready when the supervisor lists all RUNNING and SERVING",
  async boot(n, dir) {
    const names = componentNames(n);
    const file = join(dir, "moby.yaml");
    const runDir = join(dir, "run");
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
    const booted: Booted = {
      bootMs,
      async restartOne() {
        const name = names[0]!;
        const before = (await supervisor.getComponent({ name })).component!;
        const started = performance.now();
        process.kill(before.pid, "SIGKILL");
        const back = async () => {
          try {
            const now = (await supervisor.getComponent({ name })).component!;
            if (now.pid > 0) pids = [...pids.filter((p) => p !== before.pid), now.pid];
            return healthy(now) && now.pid !== before.pid;
          } catch {
            return false;
          }
        };
        await pollUntil(`moby-init restart of ${name}`, back, { intervalMs: POLL_INTERVAL_MS, timeoutMs: READY_TIMEOUT_MS, abandon: () => init.deadReason() });
        return performance.now() - started;
      },
      stop,
    };
    return booted;
  },
};
