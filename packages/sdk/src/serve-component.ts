/**
 * serveComponent: one call serves a component on a unix socket, with the
 * component API, health and reflection built in next to the author's
 * services, and a graceful shutdown on SIGTERM/SIGINT and once the init
 * that started it is gone.
 */
import * as http2 from "node:http2";
import type { DescFile, DescService, JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Interceptor, ServiceImpl } from "@connectrpc/connect";
import { ComponentService } from "@moby-core/component-api/v1";
import { Health } from "@moby-core/grpc-health-api/v1";
import { ServerReflection } from "@moby-core/grpc-reflection-api/v1";
import type { Logger } from "pino";
import { CallTracker, SHUTTING_DOWN, callGuard } from "./call-guard.js";
import { componentService } from "./component-service.js";
import { ConnectionGuard, resolveConnectionLimits } from "./connection-guard.js";
import type { ConnectionLimits } from "./connection-guard.js";
import type { ReloadHandler } from "./component-service.js";
import { ENV_COMPONENT_CONFIG, ENV_COMPONENT_NAME, ENV_SOCKET } from "./env.js";
import { GrpcServer } from "./grpc/grpc-server.js";
import { compressMinBytes } from "./grpc/compression.js";
import type { CompressionOptions } from "./grpc/compression.js";
import { HealthStatusBoard, OVERALL, ServingStatus, healthService } from "./health.js";
import { openInitPipe } from "./init-pipe.js";
import { createComponentLogger } from "./logger.js";
import { DescriptorIndex, reflectionService } from "./reflection.js";
import { ComponentMetrics } from "./metrics/component-metrics.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./limits.js";
import { listenOnSocket, prepareSocketPath, removeSocketFile, secureSocketFile, socketIdentity } from "./socket-file.js";
import type { SocketIdentity } from "./socket-file.js";

/** One service a component serves: its generated descriptor and its implementation. */
export interface ServiceRegistration<S extends DescService = DescService> {
  /** The generated service descriptor, for example ContainerStoreService. */
  service: S;
  /** The handlers, typed by the descriptor; a missing method answers UNIMPLEMENTED. */
  implementation: Partial<ServiceImpl<S>>;
  /** The service's health at start, unless the health board has one for it already; SERVING unless set. */
  status?: ServingStatus;
}

/** Pairs a service descriptor with its implementation, keeping the handler types. */
export function serviceOf<S extends DescService>(
  service: S,
  implementation: Partial<ServiceImpl<S>>,
  status?: ServingStatus,
): ServiceRegistration {
  return { service, implementation, ...(status === undefined ? {} : { status }) } as unknown as ServiceRegistration;
}

/** The settings of serveComponent. */
export interface ServeComponentOptions {
  /** The component's name; default $MOBY_COMPONENT_NAME. Lowercase letters, digits, "-", 1-63, from a letter. */
  name?: string;
  /** The implementation kind, for example "moby.container-store"; default "moby.<name>". */
  kind?: string;
  /** The implementation's semver version, for example "1.0.0". */
  version: string;
  /** The build revision, for example a git commit; default empty. */
  revision?: string;
  /** The services the author implements. */
  services: ServiceRegistration[];
  /** Where to listen; default $MOBY_SOCKET. */
  socketPath?: string;
  /** The socket file's mode; default 0o600. */
  socketMode?: number;
  /** The mode for a socket directory that has to be created; null leaves it to the umask. Default 0o700. */
  directoryMode?: number | null;
  /**
   * Files whose types travel in google.protobuf.Any fields (event payloads,
   * specs), served by reflection so clients such as buf curl can decode them.
   */
  anyTypes?: DescFile[];
  /** Capabilities to report in GetInfo, beyond the ones the SDK knows. */
  capabilities?: string[];
  /** Applies a new configuration; without it Reload answers UNIMPLEMENTED. */
  reload?: ReloadHandler;
  /** The largest request message accepted, in bytes; larger is RESOURCE_EXHAUSTED. Default 4 MiB. */
  maxReceiveMessageBytes?: number;
  /** The largest response message sent, in bytes; larger is RESOURCE_EXHAUSTED. Default 4 MiB. */
  maxSendMessageBytes?: number;
  /**
   * gzip for responses: a message of at least minBytes (default 1 KiB) is
   * sent compressed to a client that accepts gzip, when that makes it
   * smaller. Off by default: on a unix socket gzip costs CPU and saves
   * nothing; turn it on for clients behind a slower link. Compressed
   * requests are read either way.
   */
  compression?: CompressionOptions | false;
  /** The most concurrent calls (HTTP/2 streams) per connection. Default 1000. */
  maxConcurrentStreams?: number;
  /**
   * What the server closes on its own: connections past a cap (default 4096,
   * or half the open-file limit), a handshake not done in 10 s, a connection
   * without a call for 5 min, one that does not answer a PING (sent every
   * 1 min) within 20 s. Each one not set here is read from its variable
   * ($MOBY_MAX_CONNECTIONS, $MOBY_HANDSHAKE_TIMEOUT, $MOBY_IDLE_TIMEOUT,
   * $MOBY_KEEPALIVE_INTERVAL, $MOBY_KEEPALIVE_TIMEOUT), else defaults.
   */
  connections?: ConnectionLimits;
  /** How long in-flight unary calls may take to finish once shutdown begins, in ms. Default 10 s. */
  shutdownGraceMs?: number;
  /**
   * Runs at the end of shutdown, once no call is left and the socket is
   * removed, and is awaited before the process exits: flush an event
   * publisher, close a database.
   */
  onShutdown?: () => Promise<void> | void;
  /** Shut down on SIGTERM and SIGINT, then exit the process. Default true. */
  handleSignals?: boolean;
  /**
   * Shut down once the init that started the component is gone: init passes
   * a pipe ($MOBY_INIT_PIPE_FD) whose end-of-file says so, even after a
   * SIGKILL of init. With handleSignals the process then exits 0 (1 if
   * shutdown fails); without it, `closed` resolves. Default true; without
   * $MOBY_INIT_PIPE_FD there is nothing to watch.
   */
  exitWithInit?: boolean;
  /** Interceptors of the author, run for every call after the SDK's own. */
  interceptors?: Interceptor[];
  /** The logger; default a pino logger on stderr at $MOBY_LOG_LEVEL (info). */
  logger?: Logger;
  /** The component's configuration, as ComponentServer.config gives it; default read from $MOBY_COMPONENT_CONFIG. */
  config?: JsonObject;
  /** The health board to serve, for a component that sets health before it serves; default a new one. */
  health?: HealthStatusBoard;
  /**
   * The component's metrics registry, for a component that registers its
   * own metrics before it serves; default a new one. false serves no
   * metrics: no counting per call, and GetMetrics answers UNIMPLEMENTED.
   */
  metrics?: ComponentMetrics | false;
}

/** A component being served. */
export interface ComponentServer {
  /** The component's name. */
  readonly name: string;
  /** The socket the component listens on. */
  readonly socketPath: string;
  /** The component's logger: JSON lines with its name on each. */
  readonly logger: Logger;
  /** The health of each service and of the whole server (""), as grpc.health.v1 reports it. */
  readonly health: HealthStatusBoard;
  /** The component's configuration from $MOBY_COMPONENT_CONFIG, or {} when none was given. */
  readonly config: JsonObject;
  /** The component's metrics registry, or undefined when served with metrics: false. */
  readonly metrics: ComponentMetrics | undefined;
  /** Shuts down gracefully; resolves when the socket is closed and removed. Safe to call twice. */
  shutdown(): Promise<void>;
  /** Resolves when the component has shut down. */
  readonly closed: Promise<void>;
}

const COMPONENT_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** How long watchers get to see NOT_SERVING before streams are ended at shutdown, in ms. */
const NOT_SERVING_NOTICE_MS = 100;

/** Checks the options, naming the first one that is wrong. */
function resolveOptions(options: ServeComponentOptions) {
  const name = options.name ?? process.env[ENV_COMPONENT_NAME];
  if (name === undefined || !COMPONENT_NAME.test(name)) {
    throw new Error(`name: ${JSON.stringify(name)} is not a component name (lowercase letters, digits and "-", 1 to 63, starting with a letter); set it or $${ENV_COMPONENT_NAME}`);
  }
  if (!SEMVER.test(options.version)) {
    throw new Error(`version: ${JSON.stringify(options.version)} is not a semantic version such as 1.0.0`);
  }
  const socketPath = options.socketPath ?? process.env[ENV_SOCKET];
  if (socketPath === undefined || socketPath === "") {
    throw new Error(`socketPath: not set; pass it or set $${ENV_SOCKET}`);
  }
  const seen = new Set<string>();
  for (const { service } of options.services) {
    if (seen.has(service.typeName)) throw new Error(`services: ${service.typeName} is registered twice`);
    seen.add(service.typeName);
  }
  return { name, socketPath };
}

/** Reads the component's configuration from the environment init set: a JSON object, {} when unset. */
export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): JsonObject {
  const raw = env[ENV_COMPONENT_CONFIG];
  if (raw === undefined || raw === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new Error(`$${ENV_COMPONENT_CONFIG} is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`$${ENV_COMPONENT_CONFIG} must hold a JSON object`);
  }
  return parsed as JsonObject;
}

/** The services every component serves: the component API, health and reflection of all it serves. */
function builtInServices(name: string, options: ServeComponentOptions, health: HealthStatusBoard, metrics: ComponentMetrics | undefined): ServiceRegistration[] {
  const served = [...options.services.map((s) => s.service), ComponentService, Health, ServerReflection];
  const identity = {
    name,
    kind: options.kind ?? `moby.${name}`,
    version: options.version,
    revision: options.revision ?? "",
    serviceNames: served.map((s) => s.typeName),
    capabilities: options.capabilities ?? [],
    startTime: new Date(),
  };
  return [
    serviceOf(ComponentService, componentService(identity, options.reload, health, metrics)),
    serviceOf(Health, healthService(health)),
    serviceOf(ServerReflection, reflectionService(new DescriptorIndex(served, options.anyTypes))),
  ];
}

/**
 * Shuts down on the first SIGTERM or SIGINT, once serving has started
 * (a signal during startup waits for it), then exits 0, or 1 when shutdown
 * or startup failed. Returns what removes the handlers.
 */
function exitOnSignal(serving: Promise<() => Promise<void>>, logger: Logger): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "received signal");
    serving.then(
      (shutdown) =>
        shutdown().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, "shutdown failed");
            process.exit(1);
          },
        ),
      (error: unknown) => {
        // The caller of serveComponent gets the error too; the process was asked to end, so it ends.
        logger.error({ err: error }, "startup failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  return () => {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  };
}

/** Serves a component on its unix socket until shutdown. */
export async function serveComponent(options: ServeComponentOptions): Promise<ComponentServer> {
  const { name, socketPath } = resolveOptions(options);
  const limits = resolveConnectionLimits(options.connections);
  const config = options.config ?? configFromEnvironment();
  const logger = options.logger ?? createComponentLogger(name);
  const directoryMode = options.directoryMode === undefined ? 0o700 : options.directoryMode;
  const initPipe = (options.exitWithInit ?? true) ? openInitPipe() : undefined;
  try {
    await prepareSocketPath(socketPath, directoryMode);
  } catch (error) {
    initPipe?.close();
    throw error;
  }

  const health = options.health ?? new HealthStatusBoard();
  const metrics = options.metrics === false ? undefined : (options.metrics ?? new ComponentMetrics());
  metrics?.identify({ name, version: options.version, revision: options.revision ?? "" });
  const all = [...options.services, ...builtInServices(name, options, health, metrics)];

  const tracker = new CallTracker();
  const readMaxBytes = options.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const writeMaxBytes = options.maxSendMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const settings = { maxConcurrentStreams: options.maxConcurrentStreams ?? 1000 };
  const grpc = new GrpcServer({
    services: all,
    interceptors: options.interceptors,
    readMaxBytes,
    writeMaxBytes,
    observer: callGuard(tracker, logger),
    compressMinBytes: compressMinBytes(options.compression, "compression"),
    metrics: metrics?.grpcServer,
  });
  const server = http2.createServer({ settings });
  server.on("stream", grpc.handleStream);
  const unavailable = () => new ConnectError(SHUTTING_DOWN, Code.Unavailable);
  tracker.streamsStop.addEventListener("abort", () => grpc.abortStreams(unavailable()), { once: true });
  const { sessions } = new ConnectionGuard(server, limits, logger);
  // Signals are handled from before the socket exists: a SIGTERM sent as soon as it answers still shuts down cleanly.
  let startup!: { resolve: (shutdown: () => Promise<void>) => void; reject: (error: unknown) => void };
  const serving = new Promise<() => Promise<void>>((resolve, reject) => (startup = { resolve, reject }));
  serving.catch(() => {});
  const removeSignalHandlers = (options.handleSignals ?? true) ? exitOnSignal(serving, logger) : () => {};
  const socketMode = options.socketMode ?? 0o600;
  // Before the socket exists: a health check that comes as soon as it answers
  // must find every service, not NOT_FOUND "unknown service". A status set
  // on the board before serving (with its reason) stands.
  for (const registration of all) {
    if (health.get(registration.service.typeName) === undefined) health.set(registration.service.typeName, registration.status ?? ServingStatus.SERVING);
  }
  health.set(OVERALL, ServingStatus.SERVING);
  let boundSocket: SocketIdentity;
  try {
    await listenOnSocket(server, socketPath, socketMode);
    boundSocket = await socketIdentity(socketPath);
    await secureSocketFile(socketPath, socketMode, directoryMode, (message) => logger.warn(message));
  } catch (error) {
    removeSignalHandlers();
    initPipe?.close();
    if (server.listening) server.close();
    startup.reject(error);
    throw error;
  }


  let shutdownPromise: Promise<void> | undefined;
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));

  const shutdown = (): Promise<void> => {
    shutdownPromise ??= (async () => {
      logger.info("shutting down");
      health.setAll(ServingStatus.NOT_SERVING);
      await new Promise((resolve) => setTimeout(resolve, NOT_SERVING_NOTICE_MS));
      tracker.beginShutdown();
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      const drained = await tracker.drained(options.shutdownGraceMs ?? 10_000);
      if (!drained) logger.warn("unary calls still running after the grace period; cancelling them");
      grpc.abortAll(unavailable());
      for (const session of sessions) session.close();
      const forced = setTimeout(() => sessions.forEach((s) => s.destroy()), 1000);
      await serverClosed;
      clearTimeout(forced);
      await removeSocketFile(socketPath, boundSocket);
      await options.onShutdown?.();
      initPipe?.close();
      logger.info("stopped");
      resolveClosed();
    })();
    return shutdownPromise;
  };

  startup.resolve(shutdown);
  initPipe?.onGone((reason) => {
    logger.warn({ reason }, "the init that started this component is gone: shutting down");
    const done = shutdown();
    if (!(options.handleSignals ?? true)) return;
    done.then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  });
  logger.info({ socket: socketPath, services: options.services.map((s) => s.service.typeName) }, "serving");
  return { name, socketPath, logger, health, config, metrics, shutdown, closed };
}
