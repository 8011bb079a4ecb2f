/**
 * What the boot benchmark compares: ways of getting N processes serving on
 * unix sockets, each able to boot them, kill one with SIGKILL and get it
 * serving again, and stop them all.
 */
import { join } from "node:path";
import { REPO_ROOT, stopAll } from "../support/child-process.js";
import type { BenchChild } from "../support/child-process.js";
import type { RestartPhases } from "./restart-phases.js";

/** How often readiness is polled, in ms: the same for every peer. */
export const POLL_INTERVAL_MS = 5;

/** How long a boot or a restart may take before the round fails, in ms. */
export const READY_TIMEOUT_MS = 60_000;

/** The component every SDK-based peer starts. */
export const IDLE_COMPONENT = join(REPO_ROOT, "bench", "init", "idle-component.mjs");

/** The component names of a boot of n: c1..cn. */
export function componentNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `c${i + 1}`);
}

/** N processes booted by a peer. */
export interface Booted {
  /** From the first spawn to all N ready, in ms. */
  readonly bootMs: number;
  /** Kills one process with SIGKILL and resolves with the ms until it is ready again. */
  restartOne(): Promise<number>;
  /** The phases of the last restartOne, for peers that can tell them (moby-init's). */
  readonly restartPhases?: RestartPhases | undefined;
  /** Stops everything the peer started. */
  stop(): Promise<void>;
}

/** A way to boot N processes. */
export interface BootPeer {
  /** The peer's name in the report. */
  readonly name: string;
  /** What the peer does, for the report. */
  readonly description: string;
  /** Boots n processes with their sockets in dir. */
  boot(n: number, dir: string): Promise<Booted>;
}

/**
 * Boots n processes the benchmark spawns itself (spawn), each with its socket
 * in dir, ready when ready says so; a killed one is respawned the same way.
 */
export async function bootSpawned(
  n: number,
  dir: string,
  spawn: (name: string, socketPath: string) => BenchChild,
  ready: (child: BenchChild, socketPath: string) => Promise<void>,
): Promise<Booted> {
  const names = componentNames(n);
  const sockets = names.map((name) => join(dir, `${name}.sock`));
  const started = performance.now();
  const children = names.map((name, i) => spawn(name, sockets[i]!));
  try {
    await Promise.all(children.map((child, i) => ready(child, sockets[i]!)));
  } catch (error) {
    await stopAll(children, "SIGKILL");
    throw error;
  }
  return {
    bootMs: performance.now() - started,
    async restartOne() {
      const victim = children[0]!;
      const started = performance.now();
      victim.process.kill("SIGKILL");
      await victim.exited;
      children[0] = spawn(names[0]!, sockets[0]!);
      await ready(children[0], sockets[0]!);
      return performance.now() - started;
    },
    stop: () => stopAll(children),
  };
}
