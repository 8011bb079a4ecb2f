/**
 * `moby inspect ID...`: a JSON array, one object per container found:
 * its id, its record (the store's Container in proto3 JSON, its spec
 * decoded as the OCI runtime spec document) and its task (the runtime's
 * Task in proto3 JSON); null for the side that has none or could not be
 * asked. An id with neither is a failure (exit 1), the others still printed.
 */
import type { Command } from "commander";
import { toJson } from "@bufbuild/protobuf";
import type { JsonValue } from "@bufbuild/protobuf";
import { Code } from "@moby-core/sdk";
import { TaskSchema } from "@moby-core/container-runtime-api/v1";
import { ContainerSchema } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { collectContainerId } from "../../container-args.js";
import type { ContainerServices } from "../../container-client.js";
import { componentError, hasCode, withContainerServices } from "../../container-client.js";
import { specDocumentOf } from "../../container-spec.js";
import { EXIT_REFUSED } from "../../exit-codes.js";
import { CliError } from "../../init-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { templateOf, writeStderr } from "../shared.js";
import type { OutputFormat, SocketOf } from "../shared.js";
import type { TemplateFormat } from "../../template-format.js";
import { parseTemplateFormat, renderTemplate } from "../../template-format.js";
import { inspectObject } from "../../template-objects.js";
import type { TemplateObject } from "../../template-objects.js";
import { Option } from "commander";

/** One container in `moby inspect`. */
export interface InspectJson {
  /** The container id. */
  id: string;
  /** The store's record in proto3 JSON, its spec replaced by the OCI runtime spec document; null without one. */
  record: JsonValue | null;
  /** The runtime's task in proto3 JSON; null without one. */
  task: JsonValue | null;
}

/** What inspectContainer finds: the JSON of inspect, and docker's inspect object for a --format template. */
export interface Inspected {
  json: InspectJson;
  /** docker's shape (Id, State.Status, Config.Env...), with moby-core's record and task added as Record and Task. */
  object: TemplateObject;
}

/** The value of call, or undefined when it answers NOT_FOUND. */
async function unlessNotFound<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (hasCode(error, Code.NotFound)) return undefined;
    throw error;
  }
}

/** A record as inspect shows it: proto3 JSON, the spec decoded. */
export function recordJson(container: Container): JsonValue {
  // The Any cannot go through toJson without a registry of every spec type: the OCI spec is decoded, any other type shown as bytes.
  const json = toJson(ContainerSchema, { ...container, spec: undefined }) as { [key: string]: JsonValue };
  const spec = container.spec;
  if (spec !== undefined) json["spec"] = (specDocumentOf(container) as JsonValue | undefined) ?? { "@type": spec.typeUrl, value: Buffer.from(spec.value).toString("base64") };
  return json;
}

/** What is known of id; a CliError when it has neither a task nor a record. notes gets why a side could not be asked. */
export async function inspectContainer(services: ContainerServices, id: string, note: Write): Promise<Inspected> {
  const runtime = await services.runtime();
  const task = (await unlessNotFound(() => runtime.getTask({ containerId: id })))?.task;
  let record: Container | undefined;
  let unavailable: string | undefined;
  try {
    record = (await unlessNotFound(async () => (await services.store()).getContainer({ id })))?.container;
  } catch (error) {
    unavailable = componentError(error).message;
  }
  if (task === undefined && record === undefined) {
    if (unavailable !== undefined) throw new CliError(`no task in the runtime, and its record is unavailable: ${unavailable}`);
    throw new CliError("no such container: no task in the runtime, no record in the store (moby ps -a lists them)", EXIT_REFUSED);
  }
  if (unavailable !== undefined) note(`moby: note: ${id}: its record is unavailable (${unavailable}); record is null\n`);
  const json = { id, record: record === undefined ? null : recordJson(record), task: task === undefined ? null : toJson(TaskSchema, task) };
  return { json, object: { ...inspectObject(id, record, task), Record: json.record, Task: json.task } };
}

/** `moby inspect ID...`: prints the array of those found (or each through template); returns the exit code (1 or 125 when an id failed). */
export async function inspectCommand(
  initSocket: string,
  ids: string[],
  write: Write = writeStdout,
  writeError: Write = writeStderr,
  template?: TemplateFormat,
): Promise<number> {
  const found: Inspected[] = [];
  let code = 0;
  await withContainerServices(initSocket, async (services) => {
    for (const id of ids) {
      try {
        found.push(await inspectContainer(services, id, writeError));
      } catch (error) {
        const failure = componentError(error);
        writeError(`moby: ${id}: ${failure.message}\n`);
        code = Math.max(code, failure.exitCode);
      }
    }
  });
  if (template !== undefined) write(renderTemplate(template, found.map((f) => f.object)));
  else write(`${JSON.stringify(found.map((f) => f.json), null, 2)}\n`);
  return code;
}

/** Parses inspect's --format: json (the default) or a Go template. */
export function parseInspectFormat(text: string): OutputFormat {
  return text === "json" ? "json" : parseTemplateFormat(text);
}

/** Adds `inspect` to program. */
export function registerInspect(program: Command, socketOf: SocketOf): void {
  program
    .command("inspect")
    .description("print containers as JSON: an array of {id, record, task}, the record's spec as the OCI runtime spec")
    .argument("<id...>", "the container ids", collectContainerId)
    .addOption(
      new Option(
        "-f, --format <format>",
        "json (default) or a Go template per container as docker's, e.g. '{{.State.Status}}', '{{json .Config.Env}}'; fields: .Id .Name .Created .Path .Args .Image .RestartCount .State.{Status,Running,Paused,Restarting,Pid,ExitCode,StartedAt,FinishedAt} .Config.{Hostname,User,Env,Cmd,Image,WorkingDir,Labels,Tty} .Mounts, and .Record .Task (the JSON's)",
      ).argParser(parseInspectFormat),
    )
    .action(async (ids: string[], options: { format?: OutputFormat }, command: Command) => {
      process.exitCode = await inspectCommand(socketOf(command), ids, writeStdout, writeStderr, templateOf(options));
    });
}
