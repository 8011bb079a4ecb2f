/**
 * The supervisor of an assembly: starts the declared components in
 * dependency order (dependants once what they require is ready, independent
 * ones in parallel), keeps their lifecycle history, and stops them in
 * reverse order.
 */
import type { Logger } from "@moby-core/sdk";
import { ENV_COMPONENT_CONFIG, ENV_COMPONENT_NAME, ENV_REGISTRY_ENDPOINT, ENV_RUN_DIR, ENV_SOCKET, endpointVariable } from "@moby-core/sdk/internal";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import { startOrder } from "../manifest/dependency-order.js";
import { INIT_NAME } from "../manifest/manifest.js";
import type { ComponentSpec, Manifest } from "../manifest/manifest.js";
import { rmSync, symlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { ComponentRunner } from "./component-runner.js";
import { deleteLeftoverContainers, prepareLaunch } from "./contained-launch.js";
import { prepareImages } from "./contained-rootfs.js";
import type { PreparedImage } from "./contained-rootfs.js";
import type { LifecycleEvent } from "./component-runner.js";

/** How many lifecycle events the supervisor keeps. */
export const HISTORY_LIMIT = 1000;

/** The settings of a supervisor. */
export interface SupervisorOptions {
  /** The socket of init's own APIs, given to every component as the registry. */
  initSocket: string;
  /** Where captured component output goes, one line at a time with the component's name. */
  echo: (component: string, text: string) => void;
  /** init's logger. */
  logger: Logger;
  /** The environment components inherit; default process.env. */
  environment?: NodeJS.ProcessEnv;
}

/** Supervises every component of a manifest. */
export class Supervisor {
  /** The runners, in start order. */
  readonly runners: ComponentRunner[];
  /** The recent lifecycle events, oldest first. */
  readonly history: LifecycleEvent[] = [];
  private readonly byName = new Map<string, ComponentRunner>();
  private readonly changeTimes = new Map<string, Date>();
  private readonly changeListeners = new Set<(runner: ComponentRunner) => void>();
  private readonly eventListeners = new Set<(event: LifecycleEvent) => void>();
  private readonly images = new Map<string, PreparedImage>();
  private booting = false;
  private stopping = false;

  constructor(
    readonly manifest: Manifest,
    private readonly options: SupervisorOptions,
  ) {
    const specs = new Map(manifest.components.map((c) => [c.name, c]));
    const order = startOrder(manifest.components).flat();
    this.runners = order.map((name) => {
      const spec = specs.get(name)!;
      const contain =
        spec.container === undefined
          ? undefined
          : () => {
              const image = this.images.get(name);
              if (image === undefined) throw new Error(`its image ${spec.container!.image} is not prepared (init prepares images before it starts components)`);
              return prepareLaunch(spec, image, this.environmentFor(spec), manifest.runDir, (required) => this.socketOf(required));
            };
      const runner = new ComponentRunner(spec, () => this.environmentFor(spec), {
        changed: (r) => this.changed(r),
        event: (e) => this.recordEvent(e),
      }, options.echo, options.logger, contain);
      this.byName.set(name, runner);
      this.changeTimes.set(name, new Date());
      return runner;
    });
  }

  /** The runner of a component, if declared. */
  get(name: string): ComponentRunner | undefined {
    return this.byName.get(name);
  }

  /** When a component's state, health or identity last changed. */
  changeTime(name: string): Date {
    return this.changeTimes.get(name) ?? new Date(0);
  }

  /**
   * Unpacks the images of the contained components (once per run
   * directory) and deletes the containers an earlier init left; before
   * startAll. Throws an Error naming the image that cannot be prepared.
   */
  async prepareContainers(): Promise<void> {
    const contained = this.manifest.components.filter((spec) => spec.container !== undefined);
    if (contained.length === 0) return;
    deleteLeftoverContainers(this.manifest.runDir);
    const images = await prepareImages(this.manifest.runDir, contained.map((spec) => spec.container!));
    contained.forEach((spec, i) => this.images.set(spec.name, images[i]!));
    for (const spec of contained) {
      // The run directory's <name>.sock leads to a contained component's socket, in the directory mounted into its container.
      const link = join(this.manifest.runDir, `${spec.name}.sock`);
      if (link === spec.socket) continue;
      rmSync(link, { force: true });
      symlinkSync(relative(this.manifest.runDir, spec.socket), link);
    }
  }

  /** The image a contained component runs, once prepared. */
  imageOf(name: string): PreparedImage | undefined {
    return this.images.get(name);
  }

  /** The socket of a component, or init's own for "init". */
  private socketOf(name: string): string {
    return name === INIT_NAME ? this.options.initSocket : this.byName.get(name)!.spec.socket;
  }

  /** The environment a component starts with: init's (a host process only), the manifest's env, and the MOBY_* variables. */
  environmentFor(spec: ComponentSpec): NodeJS.ProcessEnv {
    const inherited = spec.container === undefined ? (this.options.environment ?? process.env) : {};
    const env: NodeJS.ProcessEnv = { ...inherited, ...spec.env };
    env[ENV_COMPONENT_NAME] = spec.name;
    env[ENV_SOCKET] = spec.socket;
    env[ENV_RUN_DIR] = this.manifest.runDir;
    env[ENV_REGISTRY_ENDPOINT] = this.options.initSocket;
    env[ENV_COMPONENT_CONFIG] = JSON.stringify(spec.config);
    for (const requirement of spec.requires) {
      env[endpointVariable(requirement)] = requirement === INIT_NAME ? this.options.initSocket : this.byName.get(requirement)!.spec.socket;
    }
    return env;
  }

  /** Tells whether everything a component requires is ready. */
  requirementsReady(spec: ComponentSpec): boolean {
    return spec.requires.every((name) => name === INIT_NAME || this.byName.get(name)!.ready);
  }

  /** The requirements of a component that are not ready. */
  unreadyRequirements(spec: ComponentSpec): string[] {
    return spec.requires.filter((name) => name !== INIT_NAME && !this.byName.get(name)!.ready);
  }

  /** Starts the assembly: each component as soon as what it requires is ready. */
  startAll(): void {
    this.booting = true;
    this.startReadyPending();
  }

  /** True once stopAll has begun: no component is started any more. */
  get shuttingDown(): boolean {
    return this.stopping;
  }

  /**
   * Stops every component, each only after the components that require it
   * have stopped. From its first step on, every runner refuses to start, so
   * no start, restart or crash restart under way brings a component back.
   */
  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const runner of this.runners) runner.refuseStarts();
    const stops = new Map<string, Promise<void>>();
    const stop = (runner: ComponentRunner): Promise<void> => {
      let done = stops.get(runner.spec.name);
      if (done === undefined) {
        const dependants = this.runners.filter((r) => r.spec.requires.includes(runner.spec.name));
        done = Promise.all(dependants.map(stop)).then(() => runner.stop());
        stops.set(runner.spec.name, done);
      }
      return done;
    };
    await Promise.all(this.runners.map(stop));
  }

  /** Calls listener on every change of a component until the returned function is called. */
  onChange(listener: (runner: ComponentRunner) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Calls listener on every lifecycle event until the returned function is called. */
  onEvent(listener: (event: LifecycleEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private startReadyPending(): void {
    if (!this.booting || this.stopping) return;
    for (const runner of this.runners) {
      if (runner.state === ComponentState.PENDING && this.requirementsReady(runner.spec)) runner.start();
    }
  }

  private changed(runner: ComponentRunner): void {
    this.changeTimes.set(runner.spec.name, new Date());
    if (runner.ready) this.startReadyPending();
    for (const listener of this.changeListeners) listener(runner);
  }

  private recordEvent(event: LifecycleEvent): void {
    this.history.push(event);
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
    const level = event.kind === "failed" || event.kind === "unhealthy" ? "warn" : "info";
    this.options.logger[level]({ event: event.kind, target: event.component, pid: event.pid, reason: event.reason || undefined }, `component ${event.component} ${event.kind}`);
    if (event.kind === "failed") this.tellDependants(event.component);
    for (const listener of this.eventListeners) listener(event);
  }

  /** Notes on every component that requires a failed one that it did. */
  private tellDependants(failed: string): void {
    for (const runner of this.runners) {
      if (runner.spec.requires.includes(failed) && runner.message === "") {
        runner.message = `requires ${failed}, which failed`;
        this.changed(runner);
      }
    }
  }
}
