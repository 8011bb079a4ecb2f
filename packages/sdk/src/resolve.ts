/**
 * Finding a component's socket by name: from the environment init passes
 * (MOBY_ENDPOINT_<NAME>), else from the registry init serves, found as the
 * moby CLI finds it: $MOBY_REGISTRY_ENDPOINT, else init.sock in the run
 * directory ($MOBY_RUN_DIR, else /run/moby for root, else
 * $XDG_RUNTIME_DIR/moby).
 */
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { RegistryService } from "@moby-core/registry-api/v1";
import { Connection } from "./connection.js";
import type { DialOptions } from "./connection.js";
import { ENV_REGISTRY_ENDPOINT, ENV_RUN_DIR, defaultRunDir, endpointVariable, initSocket } from "./env.js";

/** Where to look a component up. */
export interface ResolveOptions {
  /** The environment to read MOBY_ENDPOINT_* and MOBY_REGISTRY_ENDPOINT from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The registry's socket; default $MOBY_REGISTRY_ENDPOINT, else init.sock in the run directory. */
  registrySocket?: string;
  /** Settings of the connections made. */
  dial?: DialOptions;
}

/** The registry's socket: the option, else $MOBY_REGISTRY_ENDPOINT, else init.sock in the run directory. */
function registrySocketOf(options: Pick<ResolveOptions, "env" | "registrySocket"> = {}): string {
  const env = options.env ?? process.env;
  const fromEnv = env[ENV_REGISTRY_ENDPOINT];
  return options.registrySocket ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : initSocket(defaultRunDir(env)));
}

/** Runs fn with a connection to the registry, closed afterwards. */
async function withRegistry<T>(what: string, options: ResolveOptions, fn: (registry: Connection) => Promise<T>): Promise<T> {
  const socket = registrySocketOf(options);
  const registry = new Connection(socket, options.dial);
  try {
    return await fn(registry);
  } catch (error) {
    const failure = ConnectError.from(error);
    if (failure.code !== Code.Unavailable) throw error;
    throw new ConnectError(
      `cannot resolve ${what}: no registry answers at ${socket} (is moby-init running? set $${ENV_RUN_DIR} or $${ENV_REGISTRY_ENDPOINT})`,
      Code.Unavailable,
      undefined,
      undefined,
      error,
    );
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
