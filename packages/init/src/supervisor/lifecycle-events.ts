/**
 * init's lifecycle events as the events component carries them: one payload
 * message of moby.events.v1 per kind, published under the topic its message
 * declares (for example "/components/ready").
 */
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import {
  ComponentFailedSchema,
  ComponentReadySchema,
  ComponentRestartedSchema,
  ComponentStartedSchema,
  ComponentStoppedSchema,
  ComponentUnhealthySchema,
  FailureReason,
  RestartReason,
} from "@moby-core/events-api/v1";
import type { EventPublisher } from "@moby-core/sdk";
import type { LifecycleEvent } from "./component-runner.js";
import { exitStatusOf } from "./exit-status.js";

const RESTART_REASONS = { exited: RestartReason.EXITED, unhealthy: RestartReason.UNHEALTHY, requested: RestartReason.REQUESTED } as const;
const FAILURE_REASONS = { "start-limit": FailureReason.START_LIMIT, "start-error": FailureReason.START_ERROR, exited: FailureReason.UNSPECIFIED } as const;

/** Queues the event of one lifecycle change of a component. */
export function publishLifecycle(publisher: EventPublisher, event: LifecycleEvent): void {
  const name = event.component;
  switch (event.kind) {
    case "started":
      publisher.publish(ComponentStartedSchema, create(ComponentStartedSchema, { name, pid: event.pid, restarts: event.restarts }));
      return;
    case "ready":
      publisher.publish(ComponentReadySchema, create(ComponentReadySchema, { name, pid: event.pid }));
      return;
    case "unhealthy":
      publisher.publish(
        ComponentUnhealthySchema,
        create(ComponentUnhealthySchema, { name, pid: event.pid, failingStreak: event.failingStreak ?? 0, lastError: event.reason }),
      );
      return;
    case "restarted":
      publisher.publish(
        ComponentRestartedSchema,
        create(ComponentRestartedSchema, {
          name,
          restarts: event.restarts,
          reason: RESTART_REASONS[event.restartReason ?? "exited"],
          ...(event.delayMs === undefined ? {} : { delay: durationFromMs(event.delayMs) }),
        }),
      );
      return;
    case "failed":
      publisher.publish(
        ComponentFailedSchema,
        create(ComponentFailedSchema, { name, reason: FAILURE_REASONS[event.failure ?? "exited"], message: event.reason, restarts: event.restarts }),
      );
      return;
    case "stopped":
      publisher.publish(
        ComponentStoppedSchema,
        create(ComponentStoppedSchema, {
          name,
          pid: event.pid,
          ...(event.exit === undefined || event.exit.error !== undefined ? {} : { exitStatus: exitStatusOf(event.exit) }),
        }),
      );
      return;
  }
}
