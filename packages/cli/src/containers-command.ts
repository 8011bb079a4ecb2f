/**
 * The container commands that make one change or one listing: `moby create`
 * (a record in the container store, then its task in the runtime), `moby
 * ps`, `moby kill`, `moby rm` and the container side of `moby logs`. `moby
 * run` and `moby exec`, which attach to a process, are in run-command.ts.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { Code, ConnectError } from "@moby-core/sdk";
import type { Task } from "@moby-core/container-runtime-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import type { Write } from "./commands.js";
import { writeStdout } from "./commands.js";
import { SIGKILL, newContainerId } from "./container-args.js";
import type { ContainerServices, RuntimeClient, StoreClient } from "./container-client.js";
import { hasCode, withContainerServices } from "./container-client.js";
import { copyOutput } from "./container-output.js";
import type { Output } from "./container-output.js";
import { containerRecord } from "./container-spec.js";
import type { ContainerOptions } from "./container-spec.js";
import { formatContainersJson, formatContainersTable, joinContainers } from "./containers-table.js";
import { CliError } from "./init-client.js";

/** The most pages a listing may take before the CLI gives up. */
const MAX_PAGES = 10_000;

/** What `moby create` makes a container from; without an id, moby makes one up ("c-" and 8 hex digits). */
export type CreateOptions = Omit<ContainerOptions, "id"> & { id?: string };

/** The absolute rootfs; a CliError when it is not a directory on this node. */
export function checkRootfs(rootfs: string, cwd = process.cwd()): string {
  const path = resolve(cwd, rootfs);
  let directory = false;
  try {
    directory = statSync(path).isDirectory();
  } catch {
    // missing
  }
  if (!directory) throw new CliError(`rootfs ${path} is not a directory`);
  return path;
}

/**
 * Stores the container record and creates its task (STATUS_CREATED);
 * returns the id. When the runtime refuses the task, the record is deleted
 * again, so the same --name can be used once the cause is fixed.
 */
export async function createContainer(services: ContainerServices, options: CreateOptions): Promise<string> {
  const rootfs = checkRootfs(options.rootfs);
  const id = options.id ?? newContainerId();
  const store = await services.store();
  const runtime = await services.runtime();
  await store.createContainer({ container: containerRecord({ ...options, id, rootfs }) });
  try {
    await runtime.createTask({ containerId: id });
  } catch (error) {
    await store.deleteContainer({ id }).catch(() => undefined);
    throw error;
  }
  return id;
}

/** `moby create`: stores the container, creates its task, prints the id. */
export async function createCommand(initSocket: string, options: CreateOptions, write: Write = writeStdout): Promise<void> {
  const id = await withContainerServices(initSocket, (services) => createContainer(services, options));
  write(`${id}\n`);
}

/** Every task of the runtime, following next_page_token to the last page. */
export async function listAllTasks(runtime: RuntimeClient): Promise<Task[]> {
  const tasks: Task[] = [];
  let pageToken = "";
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const page = await runtime.listTasks({ pageSize: 1_000, pageToken });
    tasks.push(...page.tasks);
    if (page.nextPageToken === "") return tasks;
    pageToken = page.nextPageToken;
  }
  throw new CliError("the container runtime kept returning pages of tasks; giving up");
}

/** Every container record of the store, following next_page_token to the last page. */
export async function listAllContainers(store: StoreClient): Promise<Container[]> {
  const containers: Container[] = [];
  let pageToken = "";
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const page = await store.listContainers({ pageSize: 1_000, pageToken });
    containers.push(...page.containers);
    if (page.nextPageToken === "") return containers;
    pageToken = page.nextPageToken;
  }
  throw new CliError("the container store kept returning pages of containers; giving up");
}

/** `moby ps`: the tasks (with all: and the records without one) as a table or JSON. */
export async function psCommand(initSocket: string, options: { all: boolean; json: boolean }, write: Write = writeStdout): Promise<void> {
  const rows = await withContainerServices(initSocket, async (services) => {
    // One after the other, so that a missing component is always reported the same way.
    const runtime = await services.runtime();
    const store = await services.store();
    const [tasks, containers] = await Promise.all([listAllTasks(runtime), listAllContainers(store)]);
    return joinContainers(tasks, containers, options.all);
  });
  write(options.json ? formatContainersJson(rows) : formatContainersTable(rows, new Date()));
}

/** `moby kill ID`: sends signal to the task's init process (all: to all its processes); prints the id. */
export async function killCommand(initSocket: string, id: string, options: { signal: number; all: boolean }, write: Write = writeStdout): Promise<void> {
  await withContainerServices(initSocket, async (services) => {
    await (await services.runtime()).killTask({ containerId: id, signal: options.signal, all: options.all });
  });
  write(`${id}\n`);
}

/**
 * Deletes the task of id, if it has one, and then its record. With force,
 * a task that may still run is killed with SIGKILL and waited for first;
 * without, a running task fails with the runtime's FAILED_PRECONDITION
 * message. A CliError when neither a task nor a record exists.
 */
export async function removeContainer(services: ContainerServices, id: string, force: boolean): Promise<void> {
  const runtime = await services.runtime();
  let hasTask = true;
  if (force) {
    try {
      await runtime.killTask({ containerId: id, signal: SIGKILL });
    } catch (error) {
      if (hasCode(error, Code.NotFound)) hasTask = false;
      else if (!hasCode(error, Code.FailedPrecondition)) throw error; // it has exited already
    }
    if (hasTask) await (await services.runtimeWaits()).waitTask({ containerId: id });
  }
  if (hasTask) {
    try {
      await runtime.deleteTask({ containerId: id });
    } catch (error) {
      if (hasCode(error, Code.NotFound)) hasTask = false;
      else if (hasCode(error, Code.FailedPrecondition) && !force) throw new CliError(`${ConnectError.from(error).rawMessage} (moby rm -f kills it first)`);
      else throw error;
    }
  }
  try {
    await (await services.store()).deleteContainer({ id });
  } catch (error) {
    if (!hasCode(error, Code.NotFound)) throw error;
    if (!hasTask) throw new CliError(`no container ${JSON.stringify(id)}: no task in the runtime, no record in the store`);
  }
}

/** `moby rm ID`: deletes the container's task and record; prints the id. */
export async function rmCommand(initSocket: string, id: string, options: { force: boolean }, write: Write = writeStdout): Promise<void> {
  await withContainerServices(initSocket, (services) => removeContainer(services, id, options.force));
  write(`${id}\n`);
}

/** The settings of `moby logs ID` for a container. */
export interface ContainerLogsOptions {
  /** Keep printing until the process exited and its output is drained, or until stop aborts. */
  follow: boolean;
  /** Only the last tail lines first; 0 for all. */
  tail: number;
  /** Ends a followed stream quietly (Ctrl-C). */
  stop?: AbortSignal;
}

/** `moby logs ID` for a container: its init process's kept output, stdout to stdout and stderr to stderr. */
export async function containerLogsCommand(initSocket: string, id: string, options: ContainerLogsOptions, output?: Output): Promise<void> {
  await withContainerServices(initSocket, async (services) => {
    await copyOutput(
      await services.runtime(),
      {
        containerId: id,
        follow: options.follow,
        ...(options.tail === 0 ? {} : { tail: options.tail }),
        ...(options.stop === undefined ? {} : { stop: options.stop }),
      },
      output,
    );
  });
}
