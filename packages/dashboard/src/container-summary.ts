/**
 * A container as the page's table shows it: the runtime's task joined with
 * the store's record by id (a task without a record, a record without a
 * task), its command read from the record's OCI spec.
 */
import { create, fromBinary } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import { OciSpecSchema, Status } from "@moby-core/container-runtime-api/v1";
import type { Task } from "@moby-core/container-runtime-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { ContainerSummarySchema } from "@moby-core/dashboard-api/v1";
import type { ContainerSummary } from "@moby-core/dashboard-api/v1";

/** The type URL of a record's spec that holds an OCI runtime spec. */
export const OCI_SPEC_TYPE_URL = `type.googleapis.com/${OciSpecSchema.typeName}`;

/** The program and arguments of a record's spec (process.args), [] when it is not an OCI spec or has none. */
export function commandOfSpec(spec: Any | undefined): string[] {
  if (spec === undefined || spec.typeUrl !== OCI_SPEC_TYPE_URL) return [];
  try {
    const document = JSON.parse(new TextDecoder().decode(fromBinary(OciSpecSchema, spec.value).json)) as { process?: { args?: unknown } };
    const args = document.process?.args;
    return Array.isArray(args) && args.every((arg) => typeof arg === "string") ? args : [];
  } catch {
    return [];
  }
}

/** Every container of tasks and records, one row per id, ordered by id. */
export function summarizeContainers(tasks: readonly Task[], records: readonly Container[]): ContainerSummary[] {
  const byId = new Map<string, { task?: Task; record?: Container }>();
  for (const record of records) byId.set(record.id, { record });
  for (const task of tasks) byId.set(task.containerId, { ...byId.get(task.containerId), task });
  return [...byId.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, { task, record }]) =>
      create(ContainerSummarySchema, {
        id,
        status: task?.status ?? Status.UNSPECIFIED,
        image: record?.image ?? "",
        command: commandOfSpec(record?.spec),
        pid: task?.pid ?? 0,
        ...(task?.status === Status.STOPPED && task.exitStatus !== undefined ? { exitStatus: task.exitStatus } : {}),
        ...(record?.createdAt !== undefined ? { createdAt: record.createdAt } : task?.createdAt !== undefined ? { createdAt: task.createdAt } : {}),
      }),
    );
}
