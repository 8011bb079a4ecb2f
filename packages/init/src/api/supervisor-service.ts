/**
 * moby.supervisor.v1.SupervisorService: the supervised state of every
 * component (init itself first), start/stop/restart, and captured logs.
 */
import { create } from "@bufbuild/protobuf";
import { durationMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Duration } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { Health } from "@moby-core/component-api/v1";
import { Code, ComponentError, FailedPreconditionError, InvalidArgumentError, NotFoundError, subscriptionStream } from "@moby-core/sdk";
import { MAX_STOP_TIMEOUT_MS } from "@moby-core/sdk/internal";
import { ComponentSchema, ComponentState, SupervisorService } from "@moby-core/supervisor-api/v1";
import type { Component, ReadComponentLogsResponse } from "@moby-core/supervisor-api/v1";
import { LogStream } from "@moby-core/types-api/v1";
import { INIT_NAME } from "../manifest/manifest.js";
import { shuttingDownError } from "../supervisor/component-runner.js";
import type { ComponentRunner } from "../supervisor/component-runner.js";
import { exitStatusOf } from "../supervisor/exit-status.js";
import type { LogLine } from "../supervisor/log-buffer.js";
import type { Supervisor } from "../supervisor/supervisor.js";
import type { AssemblyMetrics } from "../metrics/assembly-metrics.js";
import { paginate } from "./page.js";


/** What init says about itself as a component. */
export interface InitSelf {
  socketPath: string;
  startTime: Date;
}

/** The state of init itself, as the first component of every list. */
function initComponent(self: InitSelf): Component {
  return create(ComponentSchema, {
    name: INIT_NAME,
    state: ComponentState.RUNNING,
    health: Health.SERVING,
    pid: process.pid,
    startTime: timestampFromDate(self.startTime),
    readyTime: timestampFromDate(self.startTime),
    socketPath: self.socketPath,
  });
}

/** The supervised state of one component, as the API reports it. */
export function componentOf(runner: ComponentRunner): Component {
  const exit = runner.lastExit;
  return create(ComponentSchema, {
    name: runner.spec.name,
    state: runner.state,
    health: runner.health,
    pid: runner.pid,
    restarts: runner.restarts,
    // A process that could not be spawned never ran, so it has no exit; the message says why.
    ...(exit === undefined || exit.error !== undefined
      ? {}
      : { lastExit: exitStatusOf(exit) }),
    ...(runner.startTime === undefined || runner.pid === 0 ? {} : { startTime: timestampFromDate(runner.startTime) }),
    ...(runner.readyTime === undefined ? {} : { readyTime: timestampFromDate(runner.readyTime) }),
    socketPath: runner.spec.socket,
    containerId: runner.containerId,
    image: runner.image,
    requires: runner.spec.requires,
    message: runner.message,
  });
}

/** The runner of a declared component; INVALID_ARGUMENT for no name, NOT_FOUND for an undeclared one. */
export function declaredRunner(supervisor: Supervisor, name: string): ComponentRunner {
  if (name === "") throw new InvalidArgumentError("name", "required");
  const runner = supervisor.get(name);
  if (runner === undefined) throw new NotFoundError(`component ${JSON.stringify(name)} is not declared in the manifest`);
  return runner;
}

/** The runner of a component an operator may start, stop or restart: any but init. */
function controllableRunner(supervisor: Supervisor, name: string): ComponentRunner {
  if (name === INIT_NAME) throw new FailedPreconditionError("init supervises the others; it cannot start, stop or restart itself");
  return declaredRunner(supervisor, name);
}

/** A stop timeout from a request: the manifest's when absent, at most 10 minutes. */
function stopTimeout(runner: ComponentRunner, timeout: Duration | undefined): number {
  if (timeout === undefined) return runner.spec.stopTimeoutMs;
  const ms = durationMs(timeout);
  if (ms < 0 || ms > MAX_STOP_TIMEOUT_MS) throw new InvalidArgumentError("timeout", "must be between 0 and 10 minutes");
  return ms;
}

function logResponse(line: LogLine): Omit<ReadComponentLogsResponse, "$typeName"> {
  return {
    stream: line.stream === "stdout" ? LogStream.STDOUT : LogStream.STDERR,
    line: line.text,
    time: timestampFromDate(line.time),
    pid: line.pid,
  };
}

/**
 * The new lines of a component's log, until signal aborts. A follower that
 * falls more than 10,000 lines or 16 MiB behind is cut off with RESOURCE_EXHAUSTED.
 */
function followLogs(runner: ComponentRunner, signal: AbortSignal): AsyncGenerator<LogLine> {
  return subscriptionStream<LogLine>(signal, (push) => runner.logs.follow(push), {
    sizeOf: (line) => line.text.length,
    noun: "log lines",
    resume: "read the logs again with follow to carry on (tail_lines limits what is sent again)",
  });
}

/** The implementation of SupervisorService over a supervisor. */
export function supervisorService(supervisor: Supervisor, self: InitSelf, metrics?: AssemblyMetrics): Partial<ServiceImpl<typeof SupervisorService>> {
  const all = () => [initComponent(self), ...supervisor.runners.map(componentOf)];
  return {
    async getAssemblyMetrics() {
      if (metrics === undefined) throw new ComponentError(Code.Unimplemented, "this init gathers no metrics");
      return { text: await metrics.gather() };
    },
    getComponent({ name }) {
      return { component: name === INIT_NAME ? initComponent(self) : componentOf(declaredRunner(supervisor, name)) };
    },
    listComponents({ pageSize, pageToken }) {
      const page = paginate(all(), pageSize, pageToken);
      return { components: page.items, nextPageToken: page.nextPageToken };
    },
    // StartComponent: UNAVAILABLE once init is shutting down, whatever the component's state.
    startComponent({ name }) {
      const runner = controllableRunner(supervisor, name);
      if (supervisor.shuttingDown) throw shuttingDownError(name);
      if (runner.pid !== 0) return { component: componentOf(runner) };
      const waiting = supervisor.unreadyRequirements(runner.spec);
      if (waiting.length > 0) throw new FailedPreconditionError(`${name} requires ${waiting.join(", ")}, which is not ready`);
      runner.start({ resetStartLimit: true });
      return { component: componentOf(runner) };
    },
    async stopComponent({ name, timeout }) {
      const runner = controllableRunner(supervisor, name);
      await runner.stop(stopTimeout(runner, timeout));
      return { component: componentOf(runner) };
    },
    // RestartComponent: UNAVAILABLE if init is shutting down or begins to while the component stops;
    // FAILED_PRECONDITION if a StopComponent for it arrives while it stops: it stays stopped, as that stop wants,
    // rather than the restart silently undoing it. An operator who still wants it running calls StartComponent.
    async restartComponent({ name, timeout }) {
      const runner = controllableRunner(supervisor, name);
      if (supervisor.shuttingDown) throw shuttingDownError(name);
      await runner.restart(stopTimeout(runner, timeout));
      return { component: componentOf(runner) };
    },
    async *readComponentLogs({ name, tailLines, follow }, context) {
      if (name === INIT_NAME) throw new FailedPreconditionError("init's own output is not captured; read it where init runs");
      const runner = declaredRunner(supervisor, name);
      const kept = runner.logs.snapshot(tailLines);
      const fresh = follow ? followLogs(runner, context.signal) : undefined;
      for (const line of kept) yield logResponse(line);
      if (fresh !== undefined) for await (const line of fresh) yield logResponse(line);
    },
  };
}
