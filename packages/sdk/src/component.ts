/**
 * A component declared the way containerd registers a plugin (ID, config,
 * init function): its default name, how its configuration is parsed and
 * what it starts. The SDK does the rest once, the same for every component:
 * reads $MOBY_COMPONENT_NAME and $MOBY_COMPONENT_CONFIG, the version from
 * the component's package.json, makes the logger and the health board,
 * runs init, and serves what init returns.
 */
import { readFileSync } from "node:fs";
import type { JsonObject } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { ENV_COMPONENT_CONFIG, ENV_COMPONENT_NAME } from "./env.js";
import { HealthStatusBoard } from "./health.js";
import { ComponentMetrics } from "./metrics/component-metrics.js";
import { createComponentLogger } from "./logger.js";
import { configFromEnvironment, serveComponent } from "./serve-component.js";
import type { ComponentServer, ServeComponentOptions } from "./serve-component.js";

/** What a component's init function gets. */
export interface ComponentContext<C> {
  /** The component's name: $MOBY_COMPONENT_NAME, else the declared default. */
  readonly name: string;
  /** The component's version, from its package.json. */
  readonly version: string;
  /** The component's configuration, as its parser returned it. */
  readonly config: C;
  /** The component's logger (JSON lines with its name on each). */
  readonly logger: Logger;
  /** The health board the component is served with: set it before and after serving. */
  readonly health: HealthStatusBoard;
  /**
   * The component's metrics registry: the gRPC server, process and info
   * metrics are in it already; add the component's own with counter(),
   * gauge() and histogram(). GetMetrics serves them all.
   */
  readonly metrics: ComponentMetrics;
}

/** What init returns: the services and hooks to serve with (name, kind, version, logger, config, health and metrics come from the SDK). */
export interface ComponentStart extends Omit<ServeComponentOptions, "name" | "kind" | "version" | "logger" | "config" | "health" | "metrics"> {
  /** Runs once the component serves (start probes, timers); a failure shuts it down and fails main(). */
  started?: (server: ComponentServer) => Promise<void> | void;
}

/** A component's declaration. */
export interface ComponentDeclaration<C> {
  /** The name when $MOBY_COMPONENT_NAME is not set, for example "events". */
  name: string;
  /** The implementation kind GetInfo reports; default "moby.<name>". */
  kind?: string;
  /** The component's package.json, whose version it reports: new URL("../package.json", import.meta.url). */
  packageJson: URL;
  /**
   * Parses the configuration (the JSON object of $MOBY_COMPONENT_CONFIG, {}
   * when unset) into the component's own; throws naming the wrong field.
   */
  config: (raw: JsonObject) => C;
  /** Builds the component from its context: what it serves, and what runs at shutdown. */
  init: (context: ComponentContext<C>) => Promise<ComponentStart> | ComponentStart;
}

/** A declared component: main() starts it from its environment. */
export interface Component<C> {
  /** The declaration. */
  readonly declaration: ComponentDeclaration<C>;
  /** Starts the component from its environment; resolves with its server once it serves. */
  readonly main: () => Promise<ComponentServer>;
}

/** Declares a component; its bin calls main(). */
export function defineComponent<C>(declaration: ComponentDeclaration<C>): Component<C> {
  return { declaration, main: () => startComponent(declaration) };
}

/** Reads the version of the package.json at url. */
export function packageVersion(url: URL): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(url, "utf8"));
  } catch (error) {
    throw new Error(`packageJson: cannot read ${url.pathname}: ${(error as Error).message}`);
  }
  const version = (parsed as { version?: unknown } | null)?.version;
  if (typeof version !== "string") throw new Error(`packageJson: ${url.pathname} has no version`);
  return version;
}

async function startComponent<C>(declaration: ComponentDeclaration<C>): Promise<ComponentServer> {
  const name = process.env[ENV_COMPONENT_NAME] || declaration.name;
  const version = packageVersion(declaration.packageJson);
  const raw = configFromEnvironment();
  let config: C;
  try {
    config = declaration.config(raw);
  } catch (error) {
    throw new Error(`$${ENV_COMPONENT_CONFIG}: ${(error as Error).message}`, { cause: error });
  }
  const logger = createComponentLogger(name);
  const health = new HealthStatusBoard();
  const metrics = new ComponentMetrics();
  const { started, ...serve } = await declaration.init({ name, version, config, logger, health, metrics });
  const server = await serveComponent({ ...serve, name, kind: declaration.kind ?? `moby.${name}`, version, logger, config: raw, health, metrics });
  if (started !== undefined) {
    try {
      await started(server);
    } catch (error) {
      logger.error({ err: error }, "start failed after serving; shutting down");
      await server.shutdown();
      throw error;
    }
  }
  return server;
}
