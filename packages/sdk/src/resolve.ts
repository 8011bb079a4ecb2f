/**
 * Finding a component's socket by name: from the environment init passes
 * (MOBY_ENDPOINT_<NAME>), else from the registry init serves.
 */
import type { DescService } from "@bufbuild/protobuf";
import { RegistryService } from "@moby-core/registry-api/v1";
import { Connection } from "./connection.js";
import type { DialOptions } from "./connection.js";
import { ENV_REGISTRY_ENDPOINT, endpointVariable } from "./env.js";

/** Where to look a component up. */
export interface ResolveOptions {
  /** The environment to read MOBY_ENDPOINT_* and MOBY_REGISTRY_ENDPOINT from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The registry's socket; default $MOBY_REGISTRY_ENDPOINT. */
  registrySocket?: string;
  /** Settings of the connections made. */
  dial?: DialOptions;
}

/** Runs fn with a connection to the registry, closed afterwards. */
async function withRegistry<T>(what: string, options: ResolveOptions, fn: (registry: Connection) => Promise<T>): Promise<T> {
  const socket = options.registrySocket ?? (options.env ?? process.env)[ENV_REGISTRY_ENDPOINT];
  if (socket === undefined || socket === "") {
    throw new Error(`cannot resolve ${what}: no registry is known (set $${ENV_REGISTRY_ENDPOINT} or pass registrySocket)`);
  }
  const registry = new Connection(socket, options.dial);
  try {
    return await fn(registry);
  } finally {
    registry.close();
  }
}

/** The socket path of a component, by its name in the manifest. */
export async function resolveComponent(name: string, options: ResolveOptions = {}): Promise<string> {
  const fromEnv = (options.env ?? process.env)[endpointVariable(name)];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return withRegistry(`component ${JSON.stringify(name)} ($${endpointVariable(name)} is not set)`, options, async (registry) => {
    const { registration } = await registry.client(RegistryService).getRegistration({ component: name });
    return registration!.socketPath;
  });
}

/** The socket path of a component serving service, healthy ones first, through the registry. */
export async function resolveService(service: DescService | string, options: ResolveOptions = {}): Promise<string> {
  const typeName = typeof service === "string" ? service : service.typeName;
  return withRegistry(`service ${typeName}`, options, async (registry) => {
    const { registrations } = await registry.client(RegistryService).resolveService({ service: typeName });
    return registrations[0]!.socketPath;
  });
}

/** Dials a component by its name in the manifest. */
export async function dialComponent(name: string, options: ResolveOptions = {}): Promise<Connection> {
  return new Connection(await resolveComponent(name, options), options.dial);
}

/** Dials a component that serves service, found through the registry. */
export async function dialService(service: DescService | string, options: ResolveOptions = {}): Promise<Connection> {
  return new Connection(await resolveService(service, options), options.dial);
}
