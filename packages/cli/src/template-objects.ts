/**
 * The objects a `--format` Go template reads, shaped and named as docker's
 * so that docker habits work: `moby ps` rows (.ID, .Names, .Image, .Status,
 * .State...), `moby images` rows (.Repository, .Tag, .ID...), `moby inspect`
 * containers (.Id, .State.Status, .Config.Env...), `moby version`
 * (.Client.Version, .Server.Version, .Server.Components) and, moby-core's
 * own, `moby component ls` rows (.Name, .State, .Health...).
 */
import { timestampDate, timestampMs } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { Component } from "@moby-core/supervisor-api/v1";
import type { Image } from "@moby-core/image-api/v1";
import { Status } from "@moby-core/container-runtime-api/v1";
import type { Task } from "@moby-core/container-runtime-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import type { TemplateValue } from "./go-template.js";
import { healthWord, stateWord, uptimeSeconds } from "./components-table.js";
import type { ContainerRow } from "./containers-table.js";
import { exitCell, taskStatusWord } from "./containers-table.js";
import { commandOf, shortCommand, specDocumentOf } from "./container-spec.js";
import { humanSize, repositoryAndTag } from "./images-table.js";
import { formatUptime } from "./uptime.js";

/** A template object: field names to values. */
export type TemplateObject = { [key: string]: TemplateValue };

/** The header row words of `table` templates, as docker's (a field missing here prints its name upper-cased). */
export const TEMPLATE_HEADERS: Readonly<Record<string, string>> = {
  ID: "CONTAINER ID",
  Names: "NAMES",
  RunningFor: "CREATED",
  CreatedAt: "CREATED AT",
  CreatedSince: "CREATED",
  ExitCode: "EXIT",
};

/** A time as docker prints it in templates: "2026-12-06 10:30:00 +0000 UTC"; "" without one. */
export function dockerTime(time: Timestamp | undefined): string {
  if (time === undefined) return "";
  return `${timestampDate(time).toISOString().slice(0, 19).replace("T", " ")} +0000 UTC`;
}

/** A time as docker's RFC 3339 with nanoseconds in inspect; docker's zero time without one. */
function rfc3339(time: Timestamp | undefined): string {
  return time === undefined ? "0001-01-01T00:00:00Z" : timestampDate(time).toISOString();
}

/** How long ago time was at now: "5m12s ago"; "" without a time. */
function ago(time: Timestamp | undefined, now: Date): string {
  return time === undefined ? "" : `${formatUptime((now.getTime() - timestampDate(time).getTime()) / 1_000)} ago`;
}

/** The Labels cell of docker's ps: "k=v,k2=v2", sorted. */
function labelsText(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(",");
}

/** docker's human Status of a container: "Up 5m", "Up 5m (Paused)", "Exited (137) 3s ago", "Created", "Restarting (1) 2s ago". */
export function humanStatus(task: Task | undefined, now: Date): string {
  if (task === undefined) return "";
  const code = task.exitStatus?.exitCode ?? 0;
  if (task.restartTime !== undefined) return `Restarting (${code}) ${ago(task.exitStatus?.exitTime, now)}`.trimEnd();
  switch (task.status) {
    case Status.CREATED:
      return "Created";
    case Status.RUNNING:
      return `Up ${formatUptime((now.getTime() - (task.startedAt ? timestampMs(task.startedAt) : now.getTime())) / 1_000)}`;
    case Status.PAUSED:
    case Status.PAUSING:
      return `Up ${formatUptime((now.getTime() - (task.startedAt ? timestampMs(task.startedAt) : now.getTime())) / 1_000)} (Paused)`;
    case Status.STOPPED:
      return `Exited (${code}) ${ago(task.exitStatus?.exitTime, now)}`.trimEnd();
    default:
      return "";
  }
}

/** The docker state word of a task: created, running, paused, restarting, exited; "" without a task. */
function stateOf(task: Task | undefined): string {
  const word = taskStatusWord(task);
  if (word === "-") return "";
  if (word === "stopped") return "exited";
  return word === "pausing" ? "paused" : word;
}

/** A `moby ps` row as docker's ps object, plus moby-core's Pid, ExitCode, Execs and RestartCount. */
export function psObject(row: ContainerRow, now: Date): TemplateObject {
  const task = row.task;
  const created = row.container?.createdAt ?? task?.createdAt;
  const labels = { ...(row.container?.labels ?? {}) };
  const stopped = task?.status === Status.STOPPED;
  return {
    ID: row.id,
    Names: row.id,
    Image: row.container?.image ?? "",
    Command: JSON.stringify(shortCommand(commandOf(row.container))),
    CreatedAt: dockerTime(created),
    RunningFor: ago(created, now),
    Ports: "",
    State: stateOf(task),
    Status: humanStatus(task, now),
    Labels: labelsText(labels),
    Mounts: mountsOf(row.container).map((mount) => mount.Destination),
    Networks: "",
    Pid: task === undefined || stopped ? 0 : task.pid,
    ExitCode: stopped ? (task.exitStatus?.exitCode ?? 0) : null,
    Exit: exitCell(task),
    Execs: (task?.execs ?? []).map((exec) => exec.execId),
    RestartCount: task?.restartCount ?? 0,
  };
}

/** The OCI process of a record's spec, or {}. */
function specProcess(container: Container | undefined): { [key: string]: unknown } {
  const process = specDocumentOf(container)?.["process"];
  return process !== null && typeof process === "object" ? (process as { [key: string]: unknown }) : {};
}

/** The bind mounts of a record's spec as docker's Mounts entries. */
function mountsOf(container: Container | undefined): { Type: string; Source: string; Destination: string; RW: boolean }[] {
  const mounts = specDocumentOf(container)?.["mounts"];
  if (!Array.isArray(mounts)) return [];
  return (mounts as { type?: string; source?: string; destination?: string; options?: string[] }[])
    .filter((mount) => mount.type === "bind" || (mount.options ?? []).includes("bind") || (mount.options ?? []).includes("rbind"))
    .map((mount) => ({ Type: "bind", Source: mount.source ?? "", Destination: mount.destination ?? "", RW: !(mount.options ?? []).includes("ro") }));
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** The user of a spec's process as docker's Config.User: "UID:GID", "" for root. */
function userText(process: { [key: string]: unknown }): string {
  const user = process["user"] as { uid?: number; gid?: number } | undefined;
  if (user === undefined || ((user.uid ?? 0) === 0 && (user.gid ?? 0) === 0)) return "";
  return `${user.uid ?? 0}:${user.gid ?? 0}`;
}

/** A container as docker's inspect object (Id, Name, Created, Path, Args, State, Config, Mounts, RestartCount), from its record and task. */
export function inspectObject(id: string, container: Container | undefined, task: Task | undefined): TemplateObject {
  const process = specProcess(container);
  const args = commandOf(container);
  const status = stateOf(task) || "created";
  const exit = task?.status === Status.STOPPED ? task.exitStatus : undefined;
  return {
    Id: id,
    Name: `/${id}`,
    Created: rfc3339(container?.createdAt ?? task?.createdAt),
    Path: args[0] ?? "",
    Args: args.slice(1),
    Image: container?.image ?? "",
    RestartCount: task?.restartCount ?? 0,
    State: {
      Status: status,
      Running: status === "running" || status === "paused",
      Paused: status === "paused",
      Restarting: status === "restarting",
      OOMKilled: false,
      Dead: false,
      Pid: task === undefined || exit !== undefined ? 0 : task.pid,
      ExitCode: exit?.exitCode ?? 0,
      Error: "",
      StartedAt: rfc3339(task?.startedAt),
      FinishedAt: rfc3339(exit?.exitTime),
    },
    Config: {
      Hostname: typeof specDocumentOf(container)?.["hostname"] === "string" ? (specDocumentOf(container)?.["hostname"] as string) : "",
      User: userText(process),
      Env: strings(process["env"]),
      Cmd: args,
      Image: container?.image ?? "",
      WorkingDir: typeof process["cwd"] === "string" ? process["cwd"] : "",
      Labels: { ...(container?.labels ?? {}) },
      Tty: process["terminal"] === true,
    },
    Mounts: mountsOf(container),
  };
}

/** An image as docker's images object (ID, Repository, Tag, Digest, CreatedAt, CreatedSince, Size). */
export function imageObject(image: Image, now: Date): TemplateObject {
  const [repository, tag] = repositoryAndTag(image.name);
  return {
    ID: image.configDigest.slice("sha256:".length, "sha256:".length + 12),
    Repository: repository,
    Tag: tag,
    Digest: image.manifestDigest,
    CreatedAt: dockerTime(image.createdAt),
    CreatedSince: ago(image.createdAt, now),
    Size: humanSize(Number(image.size)),
  };
}

/** A component as `moby component ls` shows it: Name, State, Health, Pid, Restarts, Uptime, Socket, Requires, Message. */
export function componentObject(component: Component, now: Date): TemplateObject {
  const uptime = uptimeSeconds(component, now);
  return {
    Name: component.name,
    State: stateWord(component.state),
    Health: healthWord(component.health),
    Pid: component.pid,
    Restarts: component.restarts,
    Uptime: uptime === null ? "" : formatUptime(uptime),
    Socket: component.socketPath,
    Requires: [...component.requires],
    Message: component.message,
  };
}
