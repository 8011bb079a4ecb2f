/**
 * `moby version`: the CLI's version, then init's and every registered
 * component's (asked with the component API's GetInfo on its socket; the
 * registry's entry when the component does not answer), with the API
 * versions each serves.
 */
import type { Command } from "commander";
import { ComponentService } from "@moby-core/component-api/v1";
import type { ServedService } from "@moby-core/component-api/v1";
import { RegistryService } from "@moby-core/registry-api/v1";
import type { Registration } from "@moby-core/registry-api/v1";
import { dialSocket } from "@moby-core/sdk";
import { packageVersion } from "@moby-core/sdk/internal";
import { formatTable } from "../../components-table.js";
import { componentError } from "../../container-client.js";
import { CliError, translateError } from "../../init-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { addFormatOptions, wantsJson, withTemplate } from "../shared.js";
import type { TemplateFormat } from "../../template-format.js";
import { renderTemplate } from "../../template-format.js";
import type { TemplateObject } from "../../template-objects.js";
import type { OutputFormat, SocketOf } from "../shared.js";

/** The CLI's own version, from its package.json. */
export const CLI_VERSION = packageVersion(new URL("../../../package.json", import.meta.url));

/** How long a component may take to answer GetInfo, in ms. */
const INFO_TIMEOUT_MS = 5_000;

/** One API a component serves. */
export interface ApiJson {
  /** The full service name. */
  service: string;
  /** Its API version ("v1"), "" when its package has none. */
  apiVersion: string;
}

/** One component (init included) in `moby version`. */
export interface ComponentVersionJson {
  name: string;
  /** Its implementation's version; "" when unknown. */
  version: string;
  /** Its implementation kind, e.g. "moby.container-store"; "" when unknown. */
  kind: string;
  /** The services it serves, with their API versions. */
  apis: ApiJson[];
  /** Why GetInfo failed (the version and APIs then come from the registry), or null. */
  error: string | null;
}

/** What `moby version --format json` prints. */
export interface VersionJson {
  client: { version: string; node: string };
  components: ComponentVersionJson[];
}

function apis(services: readonly ServedService[]): ApiJson[] {
  return services.map((s) => ({ service: s.name, apiVersion: s.apiVersion }));
}

/** GetInfo of the component serving on socketPath; fallback (from the registry) with the error when it does not answer. */
async function componentVersion(socketPath: string, fallback: ComponentVersionJson): Promise<ComponentVersionJson> {
  const connection = dialSocket(socketPath, { retry: false, timeoutMs: INFO_TIMEOUT_MS });
  try {
    const { info } = await connection.client(ComponentService).getInfo({});
    if (info === undefined) return { ...fallback, error: "GetInfo returned no info" };
    return { name: info.name || fallback.name, version: info.version, kind: info.kind, apis: apis(info.services), error: null };
  } catch (error) {
    return { ...fallback, error: componentError(error).message };
  } finally {
    connection.close();
  }
}

/** Every registration of init's registry, following next_page_token. */
async function listRegistrations(initSocket: string): Promise<Registration[]> {
  const connection = dialSocket(initSocket, { retry: false });
  try {
    const registry = connection.client(RegistryService);
    const all: Registration[] = [];
    let pageToken = "";
    for (let pages = 0; pages < 10_000; pages++) {
      const page = await registry.listRegistrations({ pageSize: 1_000, pageToken });
      all.push(...page.registrations);
      if (page.nextPageToken === "") return all;
      pageToken = page.nextPageToken;
    }
    throw new CliError("init's registry kept returning pages; giving up");
  } catch (error) {
    throw translateError(error, initSocket);
  } finally {
    connection.close();
  }
}

/** The versions of init and of every registered component; a CliError when init does not answer. */
export async function collectVersions(initSocket: string): Promise<ComponentVersionJson[]> {
  const registrations = await listRegistrations(initSocket);
  const init = await componentVersion(initSocket, { name: "init", version: "", kind: "", apis: [], error: null });
  if (init.error !== null) throw new CliError(`init at ${initSocket} did not say its version: ${init.error}`);
  const others = await Promise.all(
    registrations
      .filter((r) => r.socketPath !== initSocket)
      .map((r) => componentVersion(r.socketPath, { name: r.component, version: r.version, kind: "", apis: apis(r.services), error: null })),
  );
  return [init, ...others];
}

/** The APIs cell: the moby-core services with their versions, e.g. "moby.events.v1.EventsService (v1)". */
function apisCell(component: ComponentVersionJson): string {
  const own = component.apis.filter((a) => a.service.startsWith("moby.") && a.service !== "moby.component.v1.ComponentService");
  return own.map((a) => (a.apiVersion === "" ? a.service : `${a.service} (${a.apiVersion})`)).join(", ") || "-";
}

/** The versions as text: the client line, then a table of the components. */
export function formatVersions(json: VersionJson): string {
  const rows = json.components.map((c) => [c.name, c.version || "-", c.kind || "-", c.error === null ? apisCell(c) : `${apisCell(c)} (from the registry: ${c.error})`]);
  return `Client: moby ${json.client.version} (node ${json.client.node})\n${formatTable(["COMPONENT", "VERSION", "KIND", "APIS"], rows)}`;
}

/**
 * The object a `moby version --format` template reads, shaped as docker's:
 * .Client.Version, .Client.NodeVersion, .Server.Version (init's) and
 * .Server.Components (Name, Version, Kind, APIs, Error per component).
 */
export function versionObject(json: VersionJson): TemplateObject {
  const init = json.components[0];
  return {
    Client: { Version: json.client.version, NodeVersion: json.client.node },
    Server: {
      Version: init?.version ?? "",
      Components: json.components.map((c) => ({
        Name: c.name,
        Version: c.version,
        Kind: c.kind,
        APIs: c.apis.map((a) => (a.apiVersion === "" ? a.service : `${a.service} (${a.apiVersion})`)),
        Error: c.error ?? "",
      })),
    },
  };
}

/** `moby version`: prints the client's version, then the assembly's (as text, JSON or through template); a failure after the client's line. */
export async function versionCommand(initSocket: string, options: { json: boolean; template?: TemplateFormat }, write: Write = writeStdout): Promise<void> {
  const client = { version: CLI_VERSION, node: process.version };
  if (!options.json && options.template === undefined) write(`Client: moby ${client.version} (node ${client.node})\n`);
  const components = await collectVersions(initSocket);
  if (options.template !== undefined) write(renderTemplate(options.template, [versionObject({ client, components })]));
  else if (options.json) write(`${JSON.stringify({ client, components }, null, 2)}\n`);
  else write(formatVersions({ client, components }).split("\n").slice(1).join("\n"));
}

/** Adds `version` to program. */
export function registerVersion(program: Command, socketOf: SocketOf): void {
  addFormatOptions(
    program.command("version").description("print the versions of moby, init and every component, with the API versions each serves"),
    "{client: {version, node}, components: [{name, version, kind, apis: [{service, apiVersion}], error}]}",
    ".Client.Version .Client.NodeVersion .Server.Version (init's) .Server.Components (.Name .Version .Kind .APIs .Error)",
  ).action((options: { format?: OutputFormat; json?: boolean }, command: Command) =>
    versionCommand(socketOf(command), { json: wantsJson(options), ...withTemplate(options) }),
  );
}
