/**
 * `moby ps`: the containers, from the runtime's tasks joined with the
 * store's records. Without -a only running and paused ones, as docker's.
 * With the container store down it lists the tasks anyway and says on
 * stderr what is missing.
 */
import type { Command } from "commander";
import { Status } from "@moby-core/container-runtime-api/v1";
import type { Task } from "@moby-core/container-runtime-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import type { RuntimeClient, StoreClient } from "../../container-client.js";
import { componentError, withContainerServices } from "../../container-client.js";
import { containerToJson, formatContainersJson, formatContainersTable, joinContainers } from "../../containers-table.js";
import type { ContainerRow } from "../../containers-table.js";
import { CliError } from "../../init-client.js";
import { collectPsFilter, matchesPsFilters, namesStatus, noPsFilters } from "../../ps-filter.js";
import type { PsFilters } from "../../ps-filter.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { addFormatOptions, wantsJson, withTemplate, writeStderr } from "../shared.js";
import type { TemplateFormat } from "../../template-format.js";
import { renderTemplate } from "../../template-format.js";
import { TEMPLATE_HEADERS, psObject } from "../../template-objects.js";
import type { OutputFormat, SocketOf } from "../shared.js";

/** The most pages a listing may take before the CLI gives up. */
const MAX_PAGES = 10_000;

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

/** Whether a row is listed without -a: its task is running, pausing or paused, or waits for its restart. */
export function isUp(row: ContainerRow): boolean {
  const status = row.task?.status;
  // A container waiting for its restart is up as docker counts it ("Restarting").
  return status === Status.RUNNING || status === Status.PAUSED || status === Status.PAUSING || row.task?.restartTime !== undefined;
}

/** The settings of `moby ps`. */
export interface PsOptions {
  /** Also stopped and created containers, and records without a task. */
  all: boolean;
  /** Print only the ids. */
  quiet: boolean;
  json: boolean;
  /** Print each row through this Go template (--format). */
  template?: TemplateFormat;
  filters: PsFilters;
}

/** The rows `moby ps` prints: joined, cut to the up ones unless all (or a status filter), then filtered. */
export function selectRows(tasks: readonly Task[], containers: readonly Container[], options: PsOptions): ContainerRow[] {
  const all = options.all || namesStatus(options.filters);
  return joinContainers(tasks, containers, all).filter((row) => (all || isUp(row)) && matchesPsFilters(options.filters, containerToJson(row)));
}

/** `moby ps`: lists the containers as a table, JSON or ids; the store's absence is a note on stderr, not a failure. */
export async function psCommand(initSocket: string, options: PsOptions, write: Write = writeStdout, writeNote: Write = writeStderr): Promise<void> {
  const rows = await withContainerServices(initSocket, async (services) => {
    const tasks = await listAllTasks(await services.runtime());
    let containers: Container[] = [];
    try {
      containers = await listAllContainers(await services.store());
    } catch (error) {
      writeNote(`moby: note: container records are unavailable (${componentError(error).message}); listing the runtime's tasks only, without their command and labels\n`);
    }
    return selectRows(tasks, containers, options);
  });
  const now = new Date();
  if (options.quiet) write(rows.map((row) => `${row.id}\n`).join(""));
  else if (options.template !== undefined) write(renderTemplate(options.template, rows.map((row) => psObject(row, now)), TEMPLATE_HEADERS));
  else write(options.json ? formatContainersJson(rows) : formatContainersTable(rows, now));
}

/** The JSON of `moby ps --format json`, for the help. */
const JSON_HELP = "an array, one object per container (id, status, pid, exitCode, signal, command, image, labels, runtime, createdAt, startedAt, exitedAt, execs, restartCount)";

/** The fields a --format template reads, for the help (docker's, and moby-core's Pid, ExitCode, Exit, Execs, RestartCount). */
const TEMPLATE_FIELDS = ".ID .Names .Image .Command .CreatedAt .RunningFor .State .Status .Labels .Mounts .Pid .ExitCode .Exit .Execs .RestartCount";

/** Adds `ps` to program. */
export function registerPs(program: Command, socketOf: SocketOf): void {
  addFormatOptions(program.command("ps").description("list the running containers: ID, STATUS, PID, EXIT, CREATED, COMMAND"), JSON_HELP, TEMPLATE_FIELDS)
    .option("-a, --all", "list every container: also created and exited ones, and stored ones without a task (STATUS -)")
    .option("-q, --quiet", "print only the ids")
    .option("-f, --filter <filter>", "only containers matching: docker's key=value (id, name, label, status) or the grammar (labels.app==web); repeat", collectPsFilter)
    .addHelpText(
      "after",
      `
Filters: docker's key=value form, id=PREFIX, name=TEXT, label=KEY, label=KEY=VALUE,
status=created|running|paused|exited; the values of one key are OR-ed, keys AND-ed.
Or moby-core's grammar (containerd's): FIELD==VALUE, FIELD!=VALUE, FIELD~=REGEX,
a comma ANDs, over id, status, pid, exitCode, signal, image, runtime, labels.KEY;
several are OR-ed. A status filter lists exited containers without -a, as docker's.`,
    )
    .action((options: { all?: boolean; quiet?: boolean; filter?: PsFilters; format?: OutputFormat; json?: boolean }, command: Command) =>
      psCommand(socketOf(command), {
        all: options.all === true,
        quiet: options.quiet === true,
        json: wantsJson(options),
        ...withTemplate(options),
        filters: options.filter ?? noPsFilters(),
      }),
    );
}
