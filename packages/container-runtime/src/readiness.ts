/**
 * Whether the runtime can run containers now: it probes its prerequisites
 * (prerequisites.ts) until they are met, then starts the task manager. Until
 * then the runtime service is NOT_SERVING with the reason (shown by GetInfo
 * and `moby components`), and every call gets FAILED_PRECONDITION with it.
 */
import { ContainerRuntimeService } from "@moby-core/container-runtime-api/v1";
import { FailedPreconditionError, ServingStatus } from "@moby-core/sdk";
import type { EventPublisher, HealthStatusBoard, Logger } from "@moby-core/sdk";
import { probePrerequisites } from "./prerequisites.js";
import type { RuntimeConfig } from "./runtime-config.js";
import { TaskManager } from "./task-manager.js";

/** How often the prerequisites are probed again while they are missing, in ms. */
export const PROBE_EVERY_MS = 5000;

/** The runtime's readiness: a task manager once runc can be run, else why not. */
export class Readiness {
  private manager: TaskManager | undefined;
  private problem = "container-runtime is starting";
  private probing: Promise<void> | undefined;
  private lastProbe = 0;
  constructor(
    private readonly config: RuntimeConfig,
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    /** The component's health board, where the runtime service's status goes. */
    private readonly health: HealthStatusBoard,
  ) {}

  /** The task manager, or FAILED_PRECONDITION saying what is missing. */
  /** The task manager once the prerequisites are met, else undefined; does not probe. */
  get current(): TaskManager | undefined {
    return this.manager;
  }

  async get(): Promise<TaskManager> {
    if (this.manager !== undefined) return this.manager;
    if (this.probing !== undefined || Date.now() - this.lastProbe > 1000) await this.probe();
    if (this.manager !== undefined) return this.manager;
    throw new FailedPreconditionError(this.problem);
  }

  /** Probes the prerequisites (once at a time) and, when they are met, recovers the tasks. */
  probe(): Promise<void> {
    this.probing ??= (async () => {
      try {
        const found = await probePrerequisites(this.config);
        if (!found.ready) {
          if (found.message !== this.problem) this.logger.error({ problem: found.message }, "cannot run containers");
          this.problem = found.message;
          this.setHealth(ServingStatus.NOT_SERVING, this.problem);
          return;
        }
        const manager = new TaskManager(this.config.stateDir, found, this.publisher, this.logger);
        await manager.start();
        this.manager = manager;
        this.logger.info({ runc: found.runc, version: found.runcVersion, stateDir: this.config.stateDir }, "runc found: serving");
        this.setHealth(ServingStatus.SERVING);
      } catch (error) {
        this.problem = `container-runtime cannot use its state directory ${this.config.stateDir}: ${(error as Error).message}`;
        this.logger.error({ err: error }, "cannot start the task manager");
        this.setHealth(ServingStatus.NOT_SERVING, this.problem);
      } finally {
        this.lastProbe = Date.now();
        this.probing = undefined;
      }
    })();
    return this.probing;
  }

  /** Tells whether the runtime can run containers. */
  get ready(): boolean {
    return this.manager !== undefined;
  }

  /** Sets the runtime service's health; a NOT_SERVING one says why in GetInfo, which init shows in `moby components`. */
  private setHealth(status: ServingStatus, reason = ""): void {
    this.health.set(ContainerRuntimeService.typeName, status, reason);
  }

  /** Stops watching the tasks; they keep running. */
  stop(): void {
    this.manager?.stop();
  }
}
