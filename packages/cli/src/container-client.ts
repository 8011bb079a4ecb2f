/**
 * The CLI's link to the components of the assembly (the container store,
 * the container runtime, the events component): each is found through
 * init's registry (ResolveService), dialed on its socket, and closed when
 * the command ends. Any failure becomes a one-line CliError: "no component
 * of the assembly serves <service>" when the manifest declares none,
 * "cannot reach the <component> component at <socket>" when it does not
 * listen, else the component's own message (NOT_FOUND,
 * FAILED_PRECONDITION, INVALID_ARGUMENT, ...).
 */
import type { DescService } from "@bufbuild/protobuf";
import type { Client, Interceptor } from "@connectrpc/connect";
import { Code, ConnectError, dialSocket, mapCallErrors } from "@moby-core/sdk";
import type { Connection, DialOptions } from "@moby-core/sdk";
import { NOT_ALLOWED, NOT_LISTENING, errnoOf } from "@moby-core/sdk/internal";
import { ContainerRuntimeService } from "@moby-core/container-runtime-api/v1";
import { ContainerStoreService } from "@moby-core/container-store-api/v1";
import { RegistryService } from "@moby-core/registry-api/v1";
import { EXIT_CLI_ERROR, EXIT_REFUSED, execFailureCode, userLookupFailureCode } from "./exit-codes.js";
import { CliError, translateError } from "./init-client.js";

/** The client of the container runtime. */
export type RuntimeClient = Client<typeof ContainerRuntimeService>;

/** The client of the container store. */
export type StoreClient = Client<typeof ContainerStoreService>;

/** The CliError for a service no component of the assembly serves. */
export class ServiceMissingError extends CliError {
  constructor(readonly service: string) {
    super(`no component of the assembly serves ${service}`);
    this.name = "ServiceMissingError";
  }
}

/**
 * An interceptor that rewrites a failure to connect to component's socket
 * as "cannot reach the <component> component at <socket>: ..."
 * (UNAVAILABLE, the cause kept so the SDK still retries a request that was
 * never sent).
 */
function nameTheComponent(component: string, socketPath: string): Interceptor {
  return mapCallErrors((error) => {
    const errno = errnoOf(error);
    if (errno === undefined) return error;
    let reason: string;
    if (NOT_LISTENING.has(errno)) reason = `it is not serving (${errno}); see moby components`;
    else if (NOT_ALLOWED.has(errno)) reason = "permission denied (run as the user moby-init runs as)";
    else return error;
    const cause = error instanceof Error ? error : undefined;
    return new ConnectError(`cannot reach the ${component} component at ${socketPath}: ${reason}`, Code.Unavailable, undefined, undefined, cause);
  });
}

/** The codes of a component refusing a request about a container (exit 1, as docker's "No such container"). */
const REFUSALS = new Set([Code.NotFound, Code.FailedPrecondition, Code.AlreadyExists, Code.InvalidArgument, Code.ResourceExhausted, Code.OutOfRange]);

/**
 * The CliError for a failed call to a component: its message, one line;
 * exit code 126 or 127 when runc could not execute the container's command
 * (see execFailureCode), 1 when the component refused the request, else
 * 125 (unreachable, internal error, deadline).
 */
export function componentError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  const err = ConnectError.from(error);
  const message = (err.rawMessage === "" ? (Code[err.code] ?? "unknown error") : err.rawMessage).replace(/\s*[\r\n]+\s*/g, " ");
  return new CliError(message, execFailureCode(message) ?? userLookupFailureCode(message) ?? (REFUSALS.has(err.code) ? EXIT_REFUSED : EXIT_CLI_ERROR));
}

/** Whether error is a call answered with code (a ConnectError, not yet translated). */
export function hasCode(error: unknown, code: Code): boolean {
  return !(error instanceof CliError) && ConnectError.from(error).code === code;
}

/** A component found through the registry. */
export interface Located {
  /** Its name in the manifest, e.g. "events". */
  component: string;
  /** The socket it serves on. */
  socketPath: string;
}

/**
 * The component serving service (a full name, e.g.
 * moby.events.v1.EventsService), asked of init's registry on initSocket:
 * a ServiceMissingError when none does, init's failure as a CliError.
 */
export async function locateComponent(initSocket: string, service: string): Promise<Located> {
  const init = dialSocket(initSocket, { retry: false });
  try {
    const { registrations } = await init.client(RegistryService).resolveService({ service });
    const first = registrations[0];
    if (first === undefined) throw new ServiceMissingError(service);
    return { component: first.component, socketPath: first.socketPath };
  } catch (error) {
    if (hasCode(error, Code.NotFound)) throw new ServiceMissingError(service);
    throw translateError(error, initSocket);
  } finally {
    init.close();
  }
}

/**
 * A connection to a located component, not retried (as calls to init: a
 * component that does not answer fails the command at once); a failure to
 * connect names the component (see componentError). Close it when done.
 */
export function dialComponent(located: Located, options: Omit<DialOptions, "retry" | "interceptors"> = {}): Connection {
  return dialSocket(located.socketPath, {
    ...options,
    retry: false,
    interceptors: [nameTheComponent(located.component, located.socketPath)],
  });
}

/**
 * The container services of one assembly, found lazily through init's
 * registry on initSocket. Close it when done.
 */
export class ContainerServices {
  private readonly located = new Map<string, Promise<Located>>();
  private readonly clients = new Map<string, Promise<unknown>>();
  private readonly opened: Connection[] = [];

  constructor(readonly initSocket: string) {}

  /** The socket and name of the component serving service, asked of init's registry (once per service). */
  private locate(service: DescService): Promise<Located> {
    let found = this.located.get(service.typeName);
    if (found === undefined) {
      found = locateComponent(this.initSocket, service.typeName);
      this.located.set(service.typeName, found);
    }
    return found;
  }

  /** A connection to the component serving service; waits: unary calls without a deadline (WaitTask). */
  private async dial(service: DescService, waits: boolean): Promise<Connection> {
    const connection = dialComponent(await this.locate(service), waits ? { timeoutMs: 0 } : {});
    this.opened.push(connection);
    return connection;
  }

  /** The client of service, dialed once. */
  private client<S extends DescService>(service: S, waits = false): Promise<Client<S>> {
    const key = `${service.typeName}${waits ? "#waits" : ""}`;
    let client = this.clients.get(key) as Promise<Client<S>> | undefined;
    if (client === undefined) {
      client = this.dial(service, waits).then((c) => c.client(service));
      this.clients.set(key, client);
    }
    return client;
  }

  /** The container store's client. */
  store(): Promise<StoreClient> {
    return this.client(ContainerStoreService);
  }

  /** The container runtime's client; unary calls have the SDK's default deadline (30 s). */
  runtime(): Promise<RuntimeClient> {
    return this.client(ContainerRuntimeService);
  }

  /** A container runtime client whose unary calls have no deadline, for WaitTask. */
  runtimeWaits(): Promise<RuntimeClient> {
    return this.client(ContainerRuntimeService, true);
  }

  /** Closes every connection. */
  close(): void {
    for (const connection of this.opened.splice(0)) connection.close();
  }
}

/**
 * Runs use with the container services of the assembly whose init serves
 * on initSocket, closes them, and rethrows any failure as a CliError
 * (containerError: with what to do when a container has no task or has exited).
 */
export async function withContainerServices<T>(initSocket: string, use: (services: ContainerServices) => Promise<T>): Promise<T> {
  const services = new ContainerServices(initSocket);
  try {
    return await use(services);
  } catch (error) {
    throw containerError(error);
  } finally {
    services.close();
  }
}

/**
 * componentError for a request about one container, with what to do added
 * to the runtime's answers that lack it: no task (moby ps -a lists the
 * containers), a task that has exited (moby start runs it again).
 */
export function containerError(error: unknown): CliError {
  const failure = componentError(error);
  if (error instanceof CliError) return failure;
  const code = ConnectError.from(error).code;
  if (code === Code.NotFound && /^no task for container /.test(failure.message)) return new CliError(`${failure.message} (moby ps -a lists the containers)`, failure.exitCode);
  if (code === Code.FailedPrecondition && /is STOPPED: it has exited$/.test(failure.message)) return new CliError(`${failure.message} (moby start runs it again)`, failure.exitCode);
  return failure;
}
