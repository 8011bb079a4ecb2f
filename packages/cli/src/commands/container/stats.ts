/**
 * `moby stats [ID...]`: live resource use of running containers, as docker
 * stats: a table redrawn every second on a terminal (printed again and again
 * when piped), `--no-stream` for one table, `--json` for a JSON line per
 * container and round. It reads the runtime's WatchTaskMetrics stream; CPU
 * % needs two samples, so `--no-stream` prints after the second (about a
 * second). Without ids: every running container, including ones started
 * meanwhile; with ids: those, until all are removed.
 */
import type { Command } from "commander";
import type { TaskMetrics } from "@moby-core/container-runtime-api/v1";
import { collectContainerId } from "../../container-args.js";
import { withContainerServices } from "../../container-client.js";
import { formatStatsJsonLine, formatStatsTable, statsRow } from "../../stats-table.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { addFormatOptions, untilInterrupted, wantsJson } from "../shared.js";
import type { OutputFormat, SocketOf } from "../shared.js";

/** ANSI: clear the screen and go home, as docker stats redraws its table on a terminal. */
const CLEAR_SCREEN = "\x1b[2J\x1b[H";

/** The settings of `moby stats`. */
export interface StatsOptions {
  /** One table (after two samples) instead of a live one. */
  noStream: boolean;
  json: boolean;
  /** Redraw in place (stdout is a terminal). */
  redraw: boolean;
  /** The time between rounds, in ms (1000, as docker's). */
  intervalMs?: number;
  /** Ends a live stream quietly (Ctrl-C). */
  stop?: AbortSignal;
}

/** `moby stats`: prints rounds of samples until stop, the named containers are gone, or (--no-stream) the second round. */
export async function statsCommand(initSocket: string, ids: string[], options: StatsOptions, write: Write = writeStdout): Promise<void> {
  await withContainerServices(initSocket, async (services) => {
    const runtime = await services.runtime();
    const previous = new Map<string, TaskMetrics>();
    let rounds = 0;
    try {
      for await (const { metrics } of runtime.watchTaskMetrics({ containerIds: ids, intervalMs: options.intervalMs ?? 0 }, { signal: options.stop })) {
        rounds++;
        const rows = metrics.map((sample) => ({ sample, row: statsRow(sample, previous.get(sample.containerId)) }));
        previous.clear();
        for (const sample of metrics) previous.set(sample.containerId, sample);
        // CPU % needs a previous sample: a single table waits for the second round.
        if (options.noStream && rounds < 2) continue;
        if (options.json) write(rows.map(({ row, sample }) => formatStatsJsonLine(row, sample)).join(""));
        else write(`${options.redraw && !options.noStream ? CLEAR_SCREEN : ""}${formatStatsTable(rows.map(({ row }) => row))}`);
        if (options.noStream) return;
      }
    } catch (error) {
      if (options.stop?.aborted === true) return;
      throw error;
    }
  });
}

/** Adds `stats` to program. */
export function registerStats(program: Command, socketOf: SocketOf): void {
  addFormatOptions(
    program
      .command("stats")
      .description("live resource use of running containers: ID, CPU %, MEM USAGE / LIMIT, MEM %, BLOCK I/O, PIDS (no NET I/O: the runtime does not measure networks)")
      .argument("[id...]", "the containers (default: every running container)", collectContainerId),
    "one line per container and round: id, cpuPercent, memoryUsage, memoryLimit, memoryPercent, blockRead, blockWrite (bytes), pids, and metrics (the runtime's whole TaskMetrics sample)",
  )
    .option("--no-stream", "print one table (after a second, to measure CPU use) and exit")
    .action(async (ids: string[] | undefined, options: { stream: boolean; format?: OutputFormat; json?: boolean }, command: Command) => {
      await untilInterrupted((stop) =>
        statsCommand(socketOf(command), ids ?? [], { noStream: !options.stream, json: wantsJson(options), redraw: process.stdout.isTTY === true, stop }),
      );
    });
}
