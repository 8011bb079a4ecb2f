/**
 * metrics-scrape: how long a Prometheus scrape of a whole assembly takes.
 * moby-init boots N idle SDK components with --metrics-address; each round
 * times S sequential scrapes of each peer, alternating:
 *   init-endpoint  GET /metrics on init's endpoint: init's own metrics and
 *                  each component's GetMetrics, asked at once, merged
 *   one-component  GetMetrics of one component over a kept connection: what
 *                  one component's exposition costs, the floor of a scrape
 * The goal: a whole-assembly scrape under 100 ms on this machine.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ComponentService } from "@moby-core/component-api/v1";
import { Health } from "@moby-core/component-api/v1";
import { dialSocket } from "@moby-core/sdk";
import { ComponentState, SupervisorService } from "@moby-core/supervisor-api/v1";
import { BenchChild } from "../support/child-process.js";
import type { BenchmarkResult, PeerResult } from "../support/results.js";
import { pollUntil, socketAccepts } from "../support/socket-probe.js";
import { median, pairedRatio, percentile, relativeSpread } from "../support/stats.js";
import { IDLE_COMPONENT, READY_TIMEOUT_MS, componentNames } from "./boot-peer.js";

/** The benchmark's name. */
export const METRICS_SCRAPE = "metrics-scrape";

/** The settings of the benchmark. */
export interface ScrapeSettings {
  /** How many rounds: each peer once per round. */
  rounds: number;
  /** How many components init supervises. */
  components: number;
  /** How many scrapes per peer per round. */
  scrapes: number;
}

const PEERS = ["init-endpoint", "one-component"] as const;
type Peer = (typeof PEERS)[number];

/** Times scrape `count` times in a row; returns each duration in ms. */
async function time(scrape: () => Promise<number>, count: number): Promise<{ ms: number[]; bytes: number }> {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    bytes = await scrape();
    ms.push(performance.now() - start);
  }
  return { ms, bytes };
}

/** Runs the benchmark; log gets one progress line per round. */
export async function runMetricsScrapeBenchmark(settings: ScrapeSettings, log: (line: string) => void): Promise<BenchmarkResult> {
  const dir = await mkdtemp(join(tmpdir(), "moby-bench-scrape-"));
  const names = componentNames(settings.components);
  const lines = ["components:"];
  for (const name of names) lines.push(`  ${name}:`, `    command: ${JSON.stringify([process.execPath, IDLE_COMPONENT])}`, "    health: { startInterval: 10ms }");
  const manifest = join(dir, "moby.yaml");
  await writeFile(manifest, `${lines.join("\n")}\n`);
  const runDir = join(dir, "run");
  const init = BenchChild.node("moby-init", "packages/init/bin/moby-init.js", {
    args: ["--manifest", manifest, "--run-dir", runDir, "--metrics-address", "127.0.0.1:0", "--log-format", "json"],
  });
  const initConnection = dialSocket(join(runDir, "init.sock"), { retry: false, timeoutMs: 2_000 });
  const component = dialSocket(join(runDir, `${names[0]}.sock`), { retry: false });
  const samples: Record<Peer, (number | undefined)[]> = { "init-endpoint": [], "one-component": [] };
  const p99s: Record<Peer, number[]> = { "init-endpoint": [], "one-component": [] };
  const sizes: Record<Peer, number> = { "init-endpoint": 0, "one-component": 0 };
  const errors: Record<Peer, string[]> = { "init-endpoint": [], "one-component": [] };
  try {
    let url = "";
    await pollUntil(
      "moby-init's metrics endpoint and every component serving",
      async () => {
        url ||= /serving the assembly's metrics on (http:\/\/[^"\s]+)/.exec(init.output)?.[1] ?? "";
        if (url === "" || !(await socketAccepts(join(runDir, "init.sock")))) return false;
        try {
          const { components } = await initConnection.client(SupervisorService).listComponents({});
          return components.filter((c) => names.includes(c.name) && c.state === ComponentState.RUNNING && c.health === Health.SERVING).length === names.length;
        } catch {
          return false;
        }
      },
      { intervalMs: 20, timeoutMs: READY_TIMEOUT_MS, abandon: () => init.deadReason() },
    );
    const scrapes: Record<Peer, () => Promise<number>> = {
      "init-endpoint": async () => {
        const response = await fetch(url);
        if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
        return (await response.text()).length;
      },
      "one-component": async () => (await component.client(ComponentService).getMetrics({})).text.length,
    };
    for (const peer of PEERS) await time(scrapes[peer], 5); // warm up: JIT, connections
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? PEERS : [...PEERS].reverse();
      for (const peer of order) {
        try {
          const { ms, bytes } = await time(scrapes[peer], settings.scrapes);
          samples[peer][round] = median(ms);
          p99s[peer].push(percentile(ms, 99));
          sizes[peer] = bytes;
        } catch (error) {
          samples[peer][round] = undefined;
          errors[peer].push((error as Error).message);
        }
      }
      log(`  ${METRICS_SCRAPE} round ${round + 1}/${settings.rounds}: ${PEERS.map((p) => `${p} ${samples[p][round]?.toFixed(2) ?? "failed"} ms`).join(", ")}`);
    }
  } finally {
    component.close();
    initConnection.close();
    await init.stop("SIGTERM", 20_000);
    await rm(dir, { recursive: true, force: true });
  }
  const peers: PeerResult[] = PEERS.map((peer) => {
    const measured = samples[peer].filter((v): v is number => v !== undefined);
    return {
      peer,
      median: median(measured),
      spread: relativeSpread(measured),
      rounds: samples[peer].map((v) => v ?? null),
      ratios: { "one-component": pairedRatio(samples[peer], samples["one-component"]) },
      extra: { p99Ms: median(p99s[peer]), textKiB: Math.round((sizes[peer] / 1024) * 10) / 10 },
      errors: errors[peer],
    };
  });
  return {
    name: METRICS_SCRAPE,
    title: `one Prometheus scrape: init's endpoint with ${settings.components} components, against one component's GetMetrics (goal: < 100 ms)`,
    unit: "ms",
    higherIsBetter: false,
    rounds: settings.rounds,
    settings: { components: settings.components, scrapesPerRound: settings.scrapes, peers: { "init-endpoint": "GET /metrics on init's --metrics-address: init and every component, merged", "one-component": "GetMetrics of one idle component over a kept connection" } },
    notes: ["Main value: the median time of one scrape in a round of sequential scrapes; p99Ms the median over rounds of each round's 99th percentile."],
    peers,
  };
}
