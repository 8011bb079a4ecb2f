/**
 * One supervised component: starts its process, health-checks it with
 * Docker's HEALTHCHECK semantics over grpc.health.v1, restarts it per its
 * policy with backoff (systemd's Restart=, RestartSec=, StartLimitBurst=),
 * and stops it with SIGTERM then SIGKILL.
 *
 * Each health check dials a new connection, so a component that can no
 * longer accept one fails its checks, and asks GetInfo who answers: a
 * process other than the one init started (an orphan of an earlier init on
 * the same socket) fails the check and is never taken as ready. While it
 * starts, the directory of its socket is watched too: the socket appearing
 * brings the next check forward, so readiness is seen when the component
 * listens rather than up to a start interval later.
 */
import { readFileSync, watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import { Health } from "@moby-core/component-api/v1";
import { ComponentService } from "@moby-core/component-api/v1";
import type { ComponentInfo } from "@moby-core/component-api/v1";
import { HealthCheckResponse_ServingStatus, Health as HealthService } from "@moby-core/grpc-health-api/v1";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import { ConnectError, FailedPreconditionError, UnavailableError, dialSocket } from "@moby-core/sdk";
import type { Logger } from "@moby-core/sdk";
import type { ComponentSpec } from "../manifest/manifest.js";
import { LogBuffer } from "./log-buffer.js";
import type { ContainedLaunch } from "./contained-launch.js";
import { ManagedProcess } from "./managed-process.js";
import type { ProcessExit } from "./managed-process.js";

/** What happened to a component, as init tells the events component and its own history. */
export interface LifecycleEvent {
  kind: "started" | "ready" | "unhealthy" | "restarted" | "failed" | "stopped";
  component: string;
  time: Date;
  pid: number;
  restarts: number;
  /** Why: the failed check, the exit, the start limit. */
  reason: string;
  /** How the process ended, for "stopped". */
  exit?: ProcessExit;
  /** The delay before the next start, for "restarted". */
  delayMs?: number;
  /** What led to a restart, for "restarted". */
  restartReason?: "exited" | "unhealthy" | "requested";
  /** What made the component fail, for "failed". */
  failure?: "start-limit" | "start-error" | "exited";
  /** How many health checks failed in a row, for "unhealthy". */
  failingStreak?: number;
}

/** The details an event may carry besides its kind and reason. */
type EventDetails = Pick<LifecycleEvent, "exit" | "delayMs" | "restartReason" | "failure" | "failingStreak">;

/** What a runner tells the supervisor. */
export interface RunnerHooks {
  /** Any change of state, health, pid or message. */
  changed(runner: ComponentRunner): void;
  /** A lifecycle event. */
  event(event: LifecycleEvent): void;
}

/** The implementation identity a component reported in GetInfo once ready. */
export interface ReportedInfo {
  version: string;
  services: { name: string; apiVersion: string }[];
}

/** Describes how a process ended, for messages: "exit code 3", "signal SIGKILL". */
export function describeExit(exit: ProcessExit): string {
  if (exit.error !== undefined) return `could not start: ${exit.error}`;
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

/** The error of a start asked for once init is shutting down (UNAVAILABLE). */
export function shuttingDownError(name: string): UnavailableError {
  return new UnavailableError(`init is shutting down and starts no component; start ${name} again once init is running`);
}

/** Supervises one declared component. */
export class ComponentRunner {
  /** Where the component is in its lifecycle. */
  state = ComponentState.PENDING;
  /** Its health as last observed. */
  health = Health.UNSPECIFIED;
  /** The running process id, or 0. */
  pid = 0;
  /** How many times init restarted it. */
  restarts = 0;
  /** How its previous process ended. */
  lastExit: ProcessExit | undefined;
  /** When the current process started. */
  startTime: Date | undefined;
  /** When the current process first reported SERVING. */
  readyTime: Date | undefined;
  /** Why it is in its state, when there is more to say. */
  message = "";
  /** What it reported in GetInfo once ready. */
  info: ReportedInfo | undefined;
  /** Its captured output. */
  readonly logs = new LogBuffer();
  /** The id of its container while it runs contained, else "". */
  containerId = "";
  /** The image it runs contained ("name@digest"), once started; "" for a host process. */
  image = "";

  private process: ManagedProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The watch of the socket's directory while the component starts. */
  private socketWatch: FSWatcher | undefined;
  /** Whether a health check is under way. */
  private checking = false;
  /** Whether the socket changed during a check under way: the next check follows at once. */
  private recheck = false;
  private starts: number[] = [];
  private wanted = false;
  private failingStreak = 0;
  private restartForHealth = false;
  /** Whether a foreign pid answering for the current process was logged already (once per process). */
  private foreignLogged = false;
  private stopped: (() => void)[] = [];
  /** How many stops were asked for (StopComponent, shutdown); a restart that sees it change leaves the component stopped. */
  private stopRequests = 0;
  /** Set once init shuts down: from then on the runner starts nothing. */
  private closed = false;

  constructor(
    /** The component as declared. */
    readonly spec: ComponentSpec,
    private readonly environment: () => NodeJS.ProcessEnv,
    private readonly hooks: RunnerHooks,
    private readonly echo: (component: string, text: string) => void,
    private readonly logger: Logger,
    /** For a contained component: writes its bundle and returns how to run and reach it. */
    private readonly contain?: () => ContainedLaunch,
  ) {}

  /** Tells whether the component serves a service, by its GetInfo or else its manifest entry. */
  serves(service: string): boolean {
    return this.info?.services.some((s) => s.name === service) ?? this.spec.services.includes(service);
  }

  /** True once the component has reported SERVING since its last start. */
  get ready(): boolean {
    return this.state === ComponentState.RUNNING;
  }

  /**
   * Starts the component if it is not running; an operator's start also
   * resets the start limit. Throws UnavailableError once refuseStarts was called.
   */
  start(options: { resetStartLimit?: boolean } = {}): void {
    if (this.closed) throw shuttingDownError(this.spec.name);
    if (options.resetStartLimit) this.starts = [];
    this.wanted = true;
    if (this.process !== undefined) return;
    clearTimeout(this.timer);
    this.launch();
  }

  /** For init's shutdown: refuses every later start, restarts after a crash included; stop() still stops. */
  refuseStarts(): void {
    this.closed = true;
  }

  /** Stops the component: SIGTERM, then SIGKILL after timeoutMs; it stays stopped, even if a restart is under way. */
  async stop(timeoutMs = this.spec.stopTimeoutMs): Promise<void> {
    this.stopRequests++;
    await this.halt(timeoutMs);
  }

  /**
   * Stops the component and starts it again, counted as a restart. Throws
   * UnavailableError if init began shutting down meanwhile, and
   * FailedPreconditionError if a stop was asked for meanwhile: the component
   * then stays stopped, as that stop wants.
   */
  async restart(timeoutMs = this.spec.stopTimeoutMs): Promise<void> {
    if (this.closed) throw shuttingDownError(this.spec.name);
    const stops = this.stopRequests;
    await this.halt(timeoutMs);
    if (this.closed) throw shuttingDownError(this.spec.name);
    if (this.stopRequests !== stops) {
      throw new FailedPreconditionError(
        `${this.spec.name} was stopped by another request while it restarted, so it was not started again; start it with StartComponent if it should run`,
      );
    }
    // A restart asked for at the same time has started it already.
    if (this.process !== undefined) return;
    this.restarts++;
    this.event("restarted", "restarted by an operator", { restartReason: "requested" });
    this.start({ resetStartLimit: true });
  }

  /** Ends the process, SIGTERM then SIGKILL after timeoutMs, and marks the component not wanted. */
  private async halt(timeoutMs: number): Promise<void> {
    this.wanted = false;
    clearTimeout(this.timer);
    const process = this.process;
    if (process === undefined) {
      if (this.state !== ComponentState.FAILED) this.setState(ComponentState.STOPPED, this.message);
      return;
    }
    this.unwatchSocket();
    this.setState(ComponentState.STOPPING, "");
    const done = new Promise<void>((resolve) => this.stopped.push(resolve));
    await process.stop(timeoutMs);
    await done;
  }

  private launch(): void {
    const now = Date.now();
    this.starts = this.starts.filter((t) => now - t < this.spec.restart.startLimitIntervalMs);
    if (this.starts.length >= this.spec.restart.startLimitBurst) {
      this.fail(`start limit hit: ${this.starts.length} starts within ${this.spec.restart.startLimitIntervalMs / 1000}s`, "start-limit");
      return;
    }
    this.starts.push(now);
    let contained: ContainedLaunch | undefined;
    if (this.contain !== undefined) {
      try {
        contained = this.contain();
      } catch (error) {
        this.fail(`could not prepare its container: ${(error as Error).message}`, "start-error");
        return;
      }
    }
    const process = ManagedProcess.start(
      contained?.command ?? this.spec.command,
      this.spec.workingDir,
      contained === undefined ? this.environment() : { PATH: globalThis.process.env.PATH },
      (stream, text, pid) => {
        this.logs.append({ stream, text, time: new Date(), pid });
        this.echo(this.spec.name, text);
      },
      (error, signal, pid) => this.signalFailed(error, signal, pid),
      contained?.control,
    );
    this.process = process;
    this.containerId = contained?.containerId ?? "";
    if (contained !== undefined) this.image = contained.image;
    this.pid = process.pid;
    this.startTime = new Date();
    this.readyTime = undefined;
    this.info = undefined;
    this.failingStreak = 0;
    this.restartForHealth = false;
    this.health = Health.UNSPECIFIED;
    this.foreignLogged = false;
    this.setState(ComponentState.STARTING, "");
    this.event("started", "");
    this.background("handling the exit of its process", process.exited.then((exit) => this.exited(process, exit)));
    this.watchSocket(process);
    this.scheduleCheck(this.spec.health.startIntervalMs);
  }

  /**
   * Watches the socket's directory while process starts: a change of the
   * socket's name there (it appears, or a stale one is replaced) checks at
   * once, or right after a check under way. Without a directory to watch
   * (not made yet, or no inotify) the start interval's checks carry on alone.
   */
  private watchSocket(process: ManagedProcess): void {
    this.unwatchSocket();
    const name = basename(this.spec.socket);
    try {
      this.socketWatch = watch(dirname(this.spec.socket), { persistent: false }, (_type, changed) => {
        if (changed !== name || this.process !== process || this.state !== ComponentState.STARTING) return;
        if (this.checking) this.recheck = true;
        else this.scheduleCheck(0);
      });
    } catch {
      return;
    }
    this.socketWatch.on("error", () => this.unwatchSocket());
  }

  /** Ends the watch of the socket's directory, if any. */
  private unwatchSocket(): void {
    this.socketWatch?.close();
    this.socketWatch = undefined;
  }

  private scheduleCheck(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.background("a health check", this.check()), delayMs);
  }

  /**
   * One health check, then the next one scheduled per the policy: on a new
   * connection, grpc.health.v1 Check must answer SERVING and
   * ComponentService.GetInfo must name the process init started (or one of
   * its process group, for a command that wraps the component).
   */
  private async check(): Promise<void> {
    const process = this.process;
    if (process === undefined) return;
    let failure: string | undefined;
    let info: ComponentInfo | undefined;
    this.checking = true;
    this.recheck = false;
    const connection = dialSocket(this.spec.socket, { retry: false, timeoutMs: this.spec.health.timeoutMs, connections: 1 });
    try {
      const { status } = await connection.client(HealthService).check({ service: "" });
      if (status !== HealthCheckResponse_ServingStatus.SERVING) {
        failure = `health is ${HealthCheckResponse_ServingStatus[status]}`;
      } else {
        info = (await connection.client(ComponentService).getInfo({})).info;
        failure = this.foreignAnswer(process.pid, info);
      }
    } catch (error) {
      failure = ConnectError.from(error).message;
    } finally {
      connection.close();
      this.checking = false;
    }
    if (this.process !== process || this.state === ComponentState.STOPPING) return;
    if (failure === undefined) this.passed(info!);
    else this.failed(failure);
    if (this.process === process && !this.restartForHealth) {
      const starting = this.state === ComponentState.STARTING;
      this.scheduleCheck(starting ? (this.recheck ? 0 : this.spec.health.startIntervalMs) : this.spec.health.intervalMs);
    }
  }

  /**
   * Why the answer did not come from the process init started (pid), or
   * undefined when it did: GetInfo's pid must be pid or a process in pid's
   * process group. Logged once per process, as a warning.
   */
  private foreignAnswer(pid: number, info: ComponentInfo | undefined): string | undefined {
    const answering = info?.pid ?? 0;
    // A contained component is pid 1 of its own pid namespace; its socket's directory is mounted into its container alone.
    if (this.spec.container !== undefined && answering === 1) return undefined;
    if (answering === pid || (answering !== 0 && processGroupOf(answering) === pid)) return undefined;
    const reason =
      answering === 0
        ? `the process answering on ${this.spec.socket} gave no pid in GetInfo, so it cannot be told from another process; init started pid ${pid}`
        : `pid ${answering} answers on ${this.spec.socket}, not pid ${pid} that init started: another process serves on its socket`;
    if (!this.foreignLogged) {
      this.foreignLogged = true;
      this.logger.warn(
        { target: this.spec.name, pid, answering },
        `component ${this.spec.name}: ${reason}; the check fails and it is not taken as ready (end the other process: ${answering === 0 ? "find it with ss -xlp" : `kill ${answering}`})`,
      );
    }
    return reason;
  }

  /**
   * A passed check: SERVING, or DEGRADED while a service of the component
   * says in GetInfo why it is NOT_SERVING (the reasons become the message).
   * Neither counts against the component: a restart would not fix it.
   */
  private passed(info: ComponentInfo | undefined): void {
    this.failingStreak = 0;
    const becameReady = this.state === ComponentState.STARTING;
    const reasons = notServingReasons(info);
    const health = reasons === "" ? Health.SERVING : Health.DEGRADED;
    if (!becameReady && this.health === health && (reasons === "" || this.message === reasons)) return;
    this.health = health;
    if (becameReady) {
      this.unwatchSocket();
      this.readyTime = new Date();
      this.event("ready", "");
      // Last: the supervisor starts the dependants on this change.
      this.setState(ComponentState.RUNNING, [this.recordInfo(info), reasons].filter((m) => m !== "").join("; "));
    } else {
      this.setState(this.state, reasons);
    }
  }

  private failed(reason: string): void {
    const inStartPeriod = this.state === ComponentState.STARTING && Date.now() - this.startTime!.getTime() < this.spec.health.startPeriodMs;
    if (inStartPeriod) return;
    this.failingStreak++;
    if (this.failingStreak < this.spec.health.retries) {
      this.health = Health.NOT_SERVING;
      this.setState(this.state, `health check failed (${this.failingStreak} of ${this.spec.health.retries}): ${reason}`);
      return;
    }
    this.health = Health.UNHEALTHY;
    const why = `unhealthy after ${this.failingStreak} failed health checks: ${reason}`;
    this.setState(this.state, why);
    if (this.failingStreak === this.spec.health.retries) this.event("unhealthy", why, { failingStreak: this.failingStreak });
    if (this.spec.restart.mode !== "no" && this.process !== undefined) {
      this.restartForHealth = true;
      this.background("stopping it after failed health checks", this.process.stop(this.spec.stopTimeoutMs));
    }
  }

  /** Keeps what the ready component said about itself in GetInfo; returns what it lacks that the manifest requires, or "". */
  private recordInfo(info: ComponentInfo | undefined): string {
    if (info === undefined) return "";
    this.info = { version: info.version, services: info.services.map((s) => ({ name: s.name, apiVersion: s.apiVersion })) };
    const missing = this.spec.services.filter((name) => !info.services.some((s) => s.name === name));
    return missing.length > 0 ? `does not serve ${missing.join(", ")}, which the manifest requires` : "";
  }

  /** The process ended: record it, then stop, fail or restart per the policy. */
  private exited(process: ManagedProcess, exit: ProcessExit): void {
    if (this.process !== process) return;
    clearTimeout(this.timer);
    this.unwatchSocket();
    process.killStragglers();
    this.process = undefined;
    this.containerId = "";
    this.lastExit = exit;
    const how = describeExit(exit);
    this.event("stopped", how, { exit });
    this.pid = 0;
    this.health = Health.UNSPECIFIED;
    this.readyTime = undefined;

    if (!this.wanted) {
      this.setState(ComponentState.STOPPED, "");
      this.stopped.splice(0).forEach((resolve) => resolve());
      return;
    }
    const succeeded = exit.code === 0 && exit.signal === null;
    const mode = this.spec.restart.mode;
    const restart = this.restartForHealth || mode === "always" || (mode === "on-failure" && !succeeded);
    if (exit.error !== undefined) {
      this.fail(how, "start-error");
    } else if (!restart) {
      if (succeeded) this.setState(ComponentState.STOPPED, `exited: ${how}`);
      else this.fail(`exited: ${how}`, "exited");
    } else {
      this.scheduleRestart(this.restartForHealth ? "failed its health checks" : `exited: ${how}`, this.restartForHealth ? "unhealthy" : "exited");
    }
  }

  private scheduleRestart(reason: string, restartReason: "exited" | "unhealthy"): void {
    const now = Date.now();
    const recent = this.starts.filter((t) => now - t < this.spec.restart.startLimitIntervalMs).length;
    if (recent >= this.spec.restart.startLimitBurst) {
      this.fail(`start limit hit: ${recent} starts within ${this.spec.restart.startLimitIntervalMs / 1000}s, last ${reason}`, "start-limit");
      return;
    }
    const { delayMs, maxDelayMs } = this.spec.restart;
    const delay = Math.min(delayMs * 2 ** Math.max(0, recent - 1), maxDelayMs);
    this.restarts++;
    this.setState(ComponentState.BACKOFF, `${reason}; restarting in ${delay} ms`);
    this.event("restarted", reason, { delayMs: delay, restartReason });
    this.timer = setTimeout(() => {
      if (this.wanted && this.process === undefined && !this.closed) this.launch();
    }, delay);
  }

  /** Runs work in the background: a failure is logged, never left as an unhandled rejection that would end init. */
  private background(what: string, work: Promise<unknown>): void {
    work.catch((error: unknown) => {
      this.logger.error(
        { target: this.spec.name, pid: this.pid, err: error },
        `component ${this.spec.name}: ${what} failed unexpectedly; init carries on, but its state may be stale: check it with \`moby components\` and restart it if needed`,
      );
    });
  }

  /** A signal could not be sent to the process group: logged, as init must carry on stopping and restarting. */
  private signalFailed(error: NodeJS.ErrnoException, signal: NodeJS.Signals, pid: number): void {
    this.logger.error(
      { target: this.spec.name, pid, signal, err: error },
      `component ${this.spec.name}: could not send ${signal} to its process group ${pid} (${error.code ?? error.message}); init carries on: check who owns those processes and end them by hand if they remain`,
    );
  }

  private fail(reason: string, failure: "start-limit" | "start-error" | "exited"): void {
    this.wanted = false;
    this.setState(ComponentState.FAILED, reason);
    this.event("failed", reason, { failure });
  }

  private setState(state: ComponentState, message: string): void {
    this.state = state;
    this.message = message;
    this.hooks.changed(this);
  }

  private event(kind: LifecycleEvent["kind"], reason: string, details: EventDetails = {}): void {
    this.hooks.event({ kind, component: this.spec.name, time: new Date(), pid: this.pid, restarts: this.restarts, reason, ...details });
  }
}

/** Why the services of a component are NOT_SERVING, as it says in GetInfo: "NAME is NOT_SERVING: REASON; ...", or "" when none says. */
export function notServingReasons(info: ComponentInfo | undefined): string {
  return (info?.services ?? [])
    .filter((service) => service.notServingReason !== "")
    .map((service) => `${service.name} is NOT_SERVING: ${service.notServingReason}`)
    .join("; ");
}

/** The process group of pid, from /proc/<pid>/stat; undefined when it cannot be read (gone, or no /proc). */
export function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so read after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const group = Number(fields[2]);
    return Number.isInteger(group) ? group : undefined;
  } catch {
    return undefined;
  }
}
