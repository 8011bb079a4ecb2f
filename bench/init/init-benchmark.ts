/**
 * The boot benchmarks: boot to all-healthy, and restart-to-healthy after
 * SIGKILL of one process, for moby-init with N idle SDK components, against
 * the same N components spawned directly and N bare Node processes, all
 * measured in the same rounds in a rotating order.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchmarkResult, PeerResult } from "../support/results.js";
import { RoundSamples, roundOrder } from "../support/rounds.js";
import { sleep } from "../support/socket-probe.js";
import { median, pairedRatio, relativeSpread } from "../support/stats.js";
import { bareProcesses } from "./bare-processes.js";
import { POLL_INTERVAL_MS } from "./boot-peer.js";
import type { BootPeer } from "./boot-peer.js";
import { directComponents } from "./direct-components.js";
import { cleanupContained, containedAssembly, containedModulesAssembly, prepareContained } from "./contained-assembly.js";
import { INIT_MANIFEST_SETTINGS, initAssembly } from "./init-assembly.js";
import { RESTART_PHASES } from "./restart-phases.js";

/**
 * The peers, in the order their rows are printed; the first two are the
 * baselines, and the contained assembly is also compared with moby-init's
 * process assembly (goal: boot <= 1.3x; restart after kill -9 <= 1 s); the
 * last is the contained one from an image of modules, not bundled.
 */
export const BOOT_PEERS: readonly BootPeer[] = [bareProcesses, directComponents, initAssembly, containedAssembly, containedModulesAssembly];

/** The names of the benchmarks this module measures (both in the same rounds). */
export const INIT_BENCHMARKS = ["init-boot", "init-restart"] as const;

/** How often and how big. */
export interface InitSettings {
  /** Rounds: each peer boots once per round. */
  rounds: number;
  /** Processes per boot. */
  components: number;
}

/** A pause between peers so that the previous one's exits are behind us, in ms. */
const SETTLE_MS = 200;

/** Builds one benchmark's result from its samples. */
function summarise(
  name: string,
  title: string,
  samples: RoundSamples<string>,
  errors: Map<string, string[]>,
  settings: InitSettings,
  extras: Record<string, RoundSamples<string>> = {},
): BenchmarkResult {
  const peers: PeerResult[] = BOOT_PEERS.map(({ name: peer }) => {
    const measured = samples.measured(peer);
    return {
      peer,
      median: median(measured),
      spread: relativeSpread(measured),
      rounds: samples.of(peer).map((v) => v ?? null),
      ratios: {
        [bareProcesses.name]: pairedRatio(samples.of(peer), samples.of(bareProcesses.name)),
        [directComponents.name]: pairedRatio(samples.of(peer), samples.of(directComponents.name)),
        [initAssembly.name]: pairedRatio(samples.of(peer), samples.of(initAssembly.name)),
      },
      extra: Object.fromEntries(Object.entries(extras).map(([key, values]) => [key, median(values.measured(peer))])),
      errors: errors.get(peer) ?? [],
    };
  });
  return {
    name,
    title,
    unit: "ms",
    higherIsBetter: false,
    rounds: settings.rounds,
    settings: {
      components: settings.components,
      pollIntervalMs: POLL_INTERVAL_MS,
      initManifest: INIT_MANIFEST_SETTINGS,
      peers: Object.fromEntries(BOOT_PEERS.map((p) => [p.name, p.description])),
    },
    peers,
  };
}

/** Runs the boot and restart benchmarks; log receives one progress line per round. */
export async function runInitBenchmarks(settings: InitSettings, log: (line: string) => void): Promise<BenchmarkResult[]> {
  const names = BOOT_PEERS.map((p) => p.name);
  const boot = new RoundSamples(names, settings.rounds);
  const restart = new RoundSamples(names, settings.rounds);
  const stop = new RoundSamples(names, settings.rounds);
  const phases = Object.fromEntries(RESTART_PHASES.map((phase) => [phase, new RoundSamples(names, settings.rounds)]));
  const errors = new Map<string, string[]>();
  // The contained peers' images, and the first boot of each, which unpacks its image once: not a round.
  await prepareContained();
  try {
    for (const peer of [containedAssembly, containedModulesAssembly]) {
      const dir = await mkdtemp(join(tmpdir(), "moby-bench-init-"));
      const started = performance.now();
      try {
        await (await peer.boot(settings.components, dir)).stop();
        log(`${peer.name}: first boot, unpacking its image, ${Math.round(performance.now() - started)} ms`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  for (let round = 0; round < settings.rounds; round++) {
    const line: string[] = [];
    for (const peer of roundOrder(BOOT_PEERS, round)) {
      const dir = await mkdtemp(join(tmpdir(), "moby-bench-init-"));
      try {
        const booted = await peer.boot(settings.components, dir);
        boot.set(peer.name, round, booted.bootMs);
        try {
          restart.set(peer.name, round, await booted.restartOne());
          for (const [phase, ms] of Object.entries(booted.restartPhases ?? {})) phases[phase]!.set(peer.name, round, ms);
        } finally {
          const stopping = performance.now();
          await booted.stop();
          stop.set(peer.name, round, performance.now() - stopping);
        }
        line.push(`${peer.name} ${Math.round(boot.of(peer.name)[round]!)}/${Math.round(restart.of(peer.name)[round]!)}`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        errors.set(peer.name, [...(errors.get(peer.name) ?? []), message]);
        line.push(`${peer.name} FAILED`);
        log(`  ${peer.name} failed in round ${round + 1}: ${message.split("\n")[0]}`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      await sleep(SETTLE_MS);
    }
    log(`round ${round + 1}/${settings.rounds}  boot/restart ms  ${line.join("  ")}`);
  }
  } finally {
    cleanupContained();
  }
  const n = settings.components;
  return [
    summarise("init-boot", `boot ${n} processes to all ready (spawn of the first to the last ready)`, boot, errors, settings, { stopMs: stop }),
    summarise("init-restart", `restart one of ${n} after SIGKILL, to ready again (phases of moby-init's: bench/init/restart-phases.ts)`, restart, errors, settings, phases),
  ];
}
