/**
 * Where a restart's time goes, phase by phase, for a moby-init peer: from
 * the benchmark's SIGKILL to init seeing the exit (the exit time init
 * records), to init starting the successor (its start time), to the
 * successor's Node process existing (its performance.timeOrigin: for a
 * contained one, runc's container set-up is in this phase), to its main
 * module running (Node's own start), to the SDK loaded (module loading), to
 * its socket listening (serveComponent), to init's first passed health
 * check (its ready time), to the benchmark seeing it ready. Every mark is in
 * ms since the epoch on the host's clock, which a container shares; the
 * successor's marks come from the line bench/init/idle-component.mjs prints.
 */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Component } from "@moby-core/supervisor-api/v1";

/** The phases of one restart, in ms, in order; their sum is the restart's time. */
export const RESTART_PHASES = ["exitSeenMs", "relaunchMs", "spawnMs", "nodeBootMs", "loadMs", "serveMs", "firstCheckMs", "reportMs"] as const;

/** One restart's phases, by name. */
export type RestartPhases = Record<(typeof RESTART_PHASES)[number], number>;

/** The start marks of a component's process, as the idle component prints them. */
interface StartMarks {
  origin: number;
  running: number;
  loaded: number;
  listening: number;
}

const MARKS = /start marks pid=\d+ origin=([\d.]+) running=(\d+) loaded=(\d+) listening=(\d+)/g;

/** The last start marks printed in output (a component's echoed lines), or undefined. */
export function lastStartMarks(output: string): StartMarks | undefined {
  let last: RegExpExecArray | undefined;
  for (const match of output.matchAll(MARKS)) last = match;
  if (last === undefined) return undefined;
  return { origin: Number(last[1]), running: Number(last[2]), loaded: Number(last[3]), listening: Number(last[4]) };
}

/**
 * The phases of a restart: killedAt and seenAt are the benchmark's epoch
 * ms of the SIGKILL and of seeing the successor ready, after is the
 * component as init reports it then, output init's output holding the
 * successor's marks. Undefined when a mark is missing.
 */
export function restartPhases(killedAt: number, seenAt: number, after: Component, output: string): RestartPhases | undefined {
  const marks = lastStartMarks(output);
  if (marks === undefined || after.lastExit?.exitTime === undefined || after.startTime === undefined || after.readyTime === undefined) return undefined;
  const exitSeen = timestampMs(after.lastExit.exitTime);
  const started = timestampMs(after.startTime);
  const ready = timestampMs(after.readyTime);
  if (marks.origin < started) return undefined; // the marks of an earlier process: the successor printed none
  return {
    exitSeenMs: exitSeen - killedAt,
    relaunchMs: started - exitSeen,
    spawnMs: marks.origin - started,
    nodeBootMs: marks.running - marks.origin,
    loadMs: marks.loaded - marks.running,
    serveMs: marks.listening - marks.loaded,
    firstCheckMs: ready - marks.listening,
    reportMs: seenAt - ready,
  };
}
