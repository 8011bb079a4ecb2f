/**
 * moby-init: reads the manifest, starts the assembly, serves the supervisor
 * and registry APIs on <run dir>/init.sock, and stops everything in reverse
 * order on SIGTERM or SIGINT.
 */
import { Command, Option } from "commander";
import { ComponentService } from "@moby-core/component-api/v1";
import { Health } from "@moby-core/grpc-health-api/v1";
import { ServerReflection } from "@moby-core/grpc-reflection-api/v1";
import { RegistryService } from "@moby-core/registry-api/v1";
import { SupervisorService } from "@moby-core/supervisor-api/v1";
import { EventsService } from "@moby-core/events-api/v1";
import { ComponentMetrics, EventPublisher, createComponentLogger, ensurePrivateDirectory, serveComponent, serviceOf } from "@moby-core/sdk";
import type { ComponentServer } from "@moby-core/sdk";
import { initSocket, packageVersion } from "@moby-core/sdk/internal";
import { formatProblems, loadManifest } from "./manifest/parse-manifest.js";
import { registryService } from "./api/registry-service.js";
import { supervisorService } from "./api/supervisor-service.js";
import { RunClaim, StartRefusedError } from "./run-claim.js";
import { publishLifecycle } from "./supervisor/lifecycle-events.js";
import { Supervisor } from "./supervisor/supervisor.js";
import { readyMessage, whenAssemblyReady } from "./assembly-ready.js";
import { LOG_FORMATS, chooseLogFormat, echoFormatter, prettyDestination } from "./log-format.js";
import { AssemblyMetrics } from "./metrics/assembly-metrics.js";
import { METRICS_PATH, isLoopback, parseListenAddress, serveMetricsEndpoint } from "./metrics/metrics-endpoint.js";
import type { ListenAddress, MetricsEndpoint } from "./metrics/metrics-endpoint.js";
import { registerSupervisorMetrics } from "./metrics/supervisor-metrics.js";

/** The exit code for a manifest with mistakes: nothing was started. */
export const EXIT_BAD_MANIFEST = 2;

/** The exit code when init refuses to start (its run directory is in use, or unsafe): nothing was started. */
export const EXIT_REFUSED = 1;

/** Ends init's start with a one-line message and EXIT_REFUSED. */
function refuse(message: string): void {
  process.stderr.write(`moby-init: ${message}\n`);
  process.exitCode = EXIT_REFUSED;
}

const version = packageVersion(new URL("../package.json", import.meta.url));

/** Runs moby-init with the given command-line arguments (without node and the script). */
export async function main(argv: string[]): Promise<void> {
  const options = new Command("moby-init")
    .description("Boot a moby-core assembly from a static manifest, supervise it and serve the registry.")
    .version(version)
    .requiredOption("--manifest <file>", "the manifest (YAML) declaring the components")
    .option("--run-dir <dir>", "the directory for sockets and state (default: $MOBY_RUN_DIR, else /run/moby for root, else $XDG_RUNTIME_DIR/moby)")
    .option("--log-level <level>", "trace, debug, info, warn or error (default: $MOBY_LOG_LEVEL or info)")
    .addOption(new Option("--log-format <format>", "how logs look (default: pretty on a terminal, else json)").choices(LOG_FORMATS))
    .option(
      "--metrics-address <address>",
      `serve the assembly's Prometheus metrics on ${METRICS_PATH} at this TCP address, HOST:PORT or a port alone for 127.0.0.1 (default: off)`,
    )
    .parse(argv, { from: "user" })
    .opts<{ manifest: string; runDir?: string; logLevel?: string; logFormat?: string; metricsAddress?: string }>();
  let metricsAddress: ListenAddress | undefined;
  try {
    metricsAddress = options.metricsAddress === undefined ? undefined : parseListenAddress(options.metricsAddress);
  } catch (error) {
    return refuse((error as Error).message);
  }
  const terminal = process.stderr.isTTY === true;
  const logFormat = chooseLogFormat(options.logFormat, terminal);

  const loaded = await loadManifest(options.manifest, options.runDir === undefined ? {} : { runDir: options.runDir });
  if ("problems" in loaded) {
    process.stderr.write(`moby-init: the manifest has mistakes; nothing was started.\n${formatProblems(options.manifest, loaded.problems)}\n`);
    process.exitCode = EXIT_BAD_MANIFEST;
    return;
  }
  const { manifest } = loaded;
  const logger = createComponentLogger("init", options.logLevel, logFormat === "pretty" ? prettyDestination(terminal) : undefined);
  const echo = echoFormatter(logFormat, terminal);
  const socketPath = initSocket(manifest.runDir);
  let claim: RunClaim;
  try {
    // Created 0700 when missing; an existing one more open is refused, not fixed: it is not init's to change.
    ensurePrivateDirectory(manifest.runDir, "run directory");
    claim = await RunClaim.take(manifest.runDir, socketPath, logger);
  } catch (error) {
    if (error instanceof StartRefusedError || isFileSystemProblem(error)) return refuse((error as Error).message);
    throw error;
  }
  const startTime = new Date();
  const supervisor = new Supervisor(manifest, {
    initSocket: socketPath,
    logger,
    echo: (component, text) => process.stdout.write(`${echo(component, text)}\n`),
  });
  const served = [SupervisorService, RegistryService];
  const metrics = new ComponentMetrics();
  registerSupervisorMetrics(metrics, supervisor);
  const assemblyMetrics = new AssemblyMetrics(metrics, () => supervisor.runners, logger);
  let server: ComponentServer;
  try {
    server = await serveComponent({
      name: "init",
      kind: "moby.init",
      version,
      socketPath,
      logger,
      handleSignals: false,
      metrics,
      services: [
        serviceOf(SupervisorService, supervisorService(supervisor, { socketPath, startTime }, assemblyMetrics)),
        serviceOf(
          RegistryService,
          registryService(supervisor, {
            socketPath,
            version,
            startTime,
            services: [...served, ComponentService, Health, ServerReflection].map((s) => s.typeName),
          }),
        ),
      ],
    });
  } catch (error) {
    // Another init took the socket after the claim (two started at once): the run directory is its.
    if (error instanceof Error && /is in use/.test(error.message)) {
      claim.release();
      return refuse(`${error.message}: another moby-init runs on ${manifest.runDir}`);
    }
    throw error;
  }
  let metricsEndpoint: MetricsEndpoint | undefined;
  if (metricsAddress !== undefined) {
    try {
      metricsEndpoint = await serveMetricsEndpoint(metricsAddress, () => assemblyMetrics.gather(), logger);
    } catch (error) {
      await server.shutdown();
      claim.release();
      return refuse(`--metrics-address ${options.metricsAddress}: cannot listen: ${(error as Error).message}`);
    }
    const { host, port } = metricsEndpoint.address;
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}${METRICS_PATH}`;
    if (isLoopback(host)) logger.info({ metrics: url }, `serving the assembly's metrics on ${url}`);
    else logger.warn({ metrics: url }, `serving the assembly's metrics on ${url}, beyond this machine: anyone who reaches it reads them`);
  }
  supervisor.onEvent((event) => {
    if (event.kind === "started") claim.started(event.component, event.pid, supervisor.get(event.component)!.spec.stopTimeoutMs);
    else if (event.kind === "stopped") claim.stopped(event.component, event.pid);
  });
  // Lifecycle events go to the events component once one is ready; until then they wait in the publisher's queue.
  const events = new EventPublisher({
    source: "init",
    logger,
    locate: () => supervisor.runners.find((r) => r.ready && r.serves(EventsService.typeName))?.spec.socket,
  });
  supervisor.onEvent((event) => publishLifecycle(events, event));
  logger.info({ manifest: manifest.file, runDir: manifest.runDir, components: supervisor.runners.map((r) => r.spec.name) }, "booting");
  try {
    await supervisor.prepareContainers();
  } catch (error) {
    logger.error({ err: error }, `cannot prepare the contained components' images: ${(error as Error).message}`);
    events.close();
    await server.shutdown();
    claim.release();
    process.exitCode = 1;
    return;
  }
  supervisor.startAll();
  whenAssemblyReady(supervisor, () => {
    const message = readyMessage(supervisor.runners.length, Date.now() - startTime.getTime(), manifest.runDir);
    logger.info({ runDir: manifest.runDir, components: supervisor.runners.length }, message);
  });

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping the assembly in reverse order");
    let failed = false;
    try {
      await supervisor.stopAll();
    } catch (error) {
      failed = true;
      logger.error({ err: error }, "stopping the components failed; some may still run: look for them with ps and end them by hand");
    }
    if (!failed) claim.release();
    events.close();
    await metricsEndpoint?.close();
    assemblyMetrics.close();
    await server.shutdown();
    process.exit(failed ? 1 : 0);
  };
  process.on("SIGTERM", (signal) => void stop(signal));
  process.on("SIGINT", (signal) => void stop(signal));
}

/** Tells whether error is a file-system error (EACCES, ENOTDIR, ...) or a refusal from ensurePrivateDirectory: a message for the operator, not a stack. */
function isFileSystemProblem(error: unknown): boolean {
  return error instanceof Error && ("code" in error || /^run directory /.test(error.message));
}
