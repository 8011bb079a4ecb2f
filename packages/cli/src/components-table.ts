/**
 * How `moby components` shows the supervised components: an aligned table
 * for people and a JSON array for scripts. Pure functions of the components
 * and the current time.
 *
 * The JSON shape is an interface scripts rely on: one object per component,
 * in init's start order, with the fields of ComponentJson.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { Health } from "@moby-core/component-api/v1";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import type { Component } from "@moby-core/supervisor-api/v1";
import { formatUptime } from "./uptime.js";

/** How a component's previous process ended, in `moby components --json`. */
export interface LastExitJson {
  /** The exit code, 0 to 255: 128 plus the signal's number when a signal ended the process. */
  exitCode: number;
  /** The signal that ended the process, for example "SIGKILL"; null when it exited on its own. */
  signal: string | null;
  /** When init saw the process end (ISO 8601), or null if init did not say. */
  time: string | null;
}

/** One component in `moby components --json`. */
export interface ComponentJson {
  /** The component's name in the manifest. */
  name: string;
  /** The lifecycle state: pending, starting, running, backoff, stopping, stopped, failed (or unspecified). */
  state: string;
  /** The observed health: serving, not-serving, unhealthy (or unspecified). */
  health: string;
  /** The process id, 0 when not running. */
  pid: number;
  /** How many times init restarted the component since it started. */
  restarts: number;
  /** Whole seconds since the current process started, null when not running. */
  uptimeSeconds: number | null;
  /** The absolute path of the component's socket. */
  socket: string;
  /** The id of the runc container a contained component runs in while it runs; "" for a host process. */
  containerId: string;
  /** The image a contained component runs ("name@digest"); "" for a host process. */
  image: string;
  /** The names of the components it requires. */
  requires: string[];
  /** Why the component is in its state, or "" when there is nothing to add. */
  message: string;
  /** How the previous process ended, null if none ever ended. */
  lastExit: LastExitJson | null;
  /** When the current process started (ISO 8601), null when not running. */
  startTime: string | null;
  /** When the current process first reported SERVING (ISO 8601), null until then. */
  readyTime: string | null;
}

/** The lower-case, dash-separated word for an enum value: NOT_SERVING -> "not-serving". */
function enumWord(names: Record<number, string>, value: number): string {
  const name = names[value];
  return name === undefined ? String(value) : name.toLowerCase().replace(/_/g, "-");
}

/** A component state as a word without the enum prefix: "running", "backoff"; "unspecified" for 0. */
export function stateWord(state: ComponentState): string {
  return enumWord(ComponentState, state);
}

/** A health as a word without the enum prefix: "serving", "not-serving", "unhealthy"; "unspecified" for 0. */
export function healthWord(health: Health): string {
  return enumWord(Health, health);
}

/** A timestamp as ISO 8601, or null when absent. */
function isoTime(time: Timestamp | undefined): string | null {
  return time === undefined ? null : timestampDate(time).toISOString();
}

/** Whole seconds the current process of component has been up at now, or null when it is not running. */
export function uptimeSeconds(component: Component, now: Date): number | null {
  if (component.startTime === undefined || component.pid === 0) return null;
  return Math.max(0, Math.floor((now.getTime() - timestampDate(component.startTime).getTime()) / 1_000));
}

/** One component as the documented JSON object of `moby components --json`. */
export function componentToJson(component: Component, now: Date): ComponentJson {
  const exit = component.lastExit;
  return {
    name: component.name,
    state: stateWord(component.state),
    health: healthWord(component.health),
    pid: component.pid,
    restarts: component.restarts,
    uptimeSeconds: uptimeSeconds(component, now),
    socket: component.socketPath,
    containerId: component.containerId,
    image: component.image,
    requires: [...component.requires],
    message: component.message,
    lastExit:
      exit === undefined ? null : { exitCode: exit.exitCode, signal: exit.signal === "" ? null : exit.signal, time: isoTime(exit.exitTime) },
    startTime: isoTime(component.startTime),
    readyTime: isoTime(component.readyTime),
  };
}

/** The components as the JSON text of `moby components --json`: an array, indented, with a final newline. */
export function formatComponentsJson(components: readonly Component[], now: Date): string {
  return `${JSON.stringify(
    components.map((c) => componentToJson(c, now)),
    null,
    2,
  )}\n`;
}

/**
 * Rows of cells as a left-aligned table, columns two spaces apart, the last
 * column not padded, every line ending in a newline. Cells must be one line.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  return [header, ...rows].map((cells) => `${line(cells)}\n`).join("");
}

/** The columns of `moby components`; MESSAGE is added only when some component has a message. */
export const TABLE_HEADER = ["NAME", "STATE", "HEALTH", "PID", "RESTARTS", "UPTIME", "SOCKET"] as const;

/** A word for a table cell: "-" for an unspecified enum value. */
function cellWord(word: string): string {
  return word === "unspecified" ? "-" : word;
}

/**
 * The components as the table of `moby components`: NAME, STATE, HEALTH,
 * PID, RESTARTS, UPTIME, SOCKET, and MESSAGE last when any component has
 * one. "-" stands for an unspecified state or health, pid 0 and the uptime
 * of a component that is not running. When a component runs contained,
 * CONTAINER (its runc container's id, "-" when none) and IMAGE come after
 * SOCKET.
 */
export function formatComponentsTable(components: readonly Component[], now: Date): string {
  const withMessage = components.some((c) => c.message !== "");
  const contained = components.some((c) => c.image !== "");
  const header: string[] = [...TABLE_HEADER, ...(contained ? ["CONTAINER", "IMAGE"] : []), ...(withMessage ? ["MESSAGE"] : [])];
  const rows = components.map((c) => {
    const uptime = uptimeSeconds(c, now);
    const row = [
      c.name,
      cellWord(stateWord(c.state)),
      cellWord(healthWord(c.health)),
      c.pid === 0 ? "-" : String(c.pid),
      String(c.restarts),
      uptime === null ? "-" : formatUptime(uptime),
      c.socketPath,
    ];
    if (contained) row.push(c.containerId === "" ? "-" : c.containerId, c.image === "" ? "-" : c.image);
    if (withMessage) row.push(c.message.replace(/\s*[\r\n]+\s*/g, " "));
    return row;
  });
  return formatTable(header, rows);
}
