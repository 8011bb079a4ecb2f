/**
 * The components and containers tables: rendered from the lists the server
 * returns, each row with its actions (restart a component; stop, kill or
 * follow the logs of a container).
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { Health } from "@moby-core/component-api/v1";
import { Status } from "@moby-core/container-runtime-api/v1";
import type { ContainerSummary } from "@moby-core/dashboard-api/v1";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import type { Component } from "@moby-core/supervisor-api/v1";

/** An enum value as a lowercase word without its prefix ("running"); "-" for unspecified. */
export function enumWord(names: Record<number, string>, value: number, prefix = ""): string {
  const name = names[value];
  if (value === 0 || name === undefined) return "-";
  return name.replace(prefix, "").toLowerCase();
}

/** How long ago start was, as docker shows it: 45s, 3m12s, 2h5m, 3d4h. */
export function uptime(start: Timestamp | undefined, now = Date.now()): string {
  if (start === undefined) return "-";
  let seconds = Math.max(0, Math.floor((now - timestampDate(start).getTime()) / 1000));
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds %= 86_400) / 3600);
  const minutes = Math.floor((seconds %= 3600) / 60);
  seconds %= 60;
  if (days > 0) return `${days}d${hours}h`;
  if (hours > 0) return `${hours}h${minutes}m`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

function cell(row: HTMLTableRowElement, text: string, className?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (className !== undefined) td.className = className;
  return td;
}

function button(td: HTMLElement, label: string, action: () => void): void {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.dataset.action = label;
  b.addEventListener("click", action);
  td.append(b);
}

/** The actions of the tables. */
export interface TableActions {
  /** Restarts the named component. */
  restartComponent(name: string): void;
  /** Stops the container. */
  stopContainer(id: string): void;
  /** Kills the container. */
  killContainer(id: string): void;
  /** Follows the container's logs. */
  followLogs(id: string): void;
}

/** Renders the components into the table body. */
export function renderComponents(body: HTMLTableSectionElement, components: readonly Component[], actions: TableActions): void {
  body.replaceChildren();
  for (const c of components) {
    const row = body.insertRow();
    row.dataset.component = c.name;
    cell(row, c.name, "name");
    const state = enumWord(ComponentState, c.state, "");
    cell(row, state, `state state-${state}`);
    const health = enumWord(Health, c.health);
    cell(row, health, `health health-${health}`);
    cell(row, String(c.restarts), "restarts");
    cell(row, uptime(c.startTime), "uptime");
    cell(row, c.pid === 0 ? "-" : String(c.pid), "pid");
    cell(row, c.message, "message");
    button(cell(row, ""), "restart", () => actions.restartComponent(c.name));
  }
}

/** Renders the containers into the table body. */
export function renderContainers(body: HTMLTableSectionElement, containers: readonly ContainerSummary[], actions: TableActions): void {
  body.replaceChildren();
  for (const c of containers) {
    const row = body.insertRow();
    row.dataset.container = c.id;
    cell(row, c.id, "id");
    const status = c.status === Status.UNSPECIFIED ? "no task" : enumWord(Status, c.status);
    cell(row, status, `status status-${status}`);
    cell(row, c.image === "" ? "-" : c.image, "image");
    cell(row, c.command.join(" "), "command");
    cell(row, c.pid === 0 ? "-" : String(c.pid), "pid");
    const exit = c.exitStatus === undefined ? "-" : c.exitStatus.signal !== "" ? `${c.exitStatus.exitCode} (${c.exitStatus.signal})` : String(c.exitStatus.exitCode);
    cell(row, exit, "exit");
    const td = cell(row, "");
    if (c.status === Status.RUNNING || c.status === Status.PAUSED) {
      button(td, "stop", () => actions.stopContainer(c.id));
      button(td, "kill", () => actions.killContainer(c.id));
    }
    if (c.status !== Status.UNSPECIFIED) button(td, "logs", () => actions.followLogs(c.id));
  }
}
