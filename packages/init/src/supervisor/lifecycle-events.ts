/**
 * init's lifecycle events as the events component carries them: one topic
 * and payload message of moby.events.v1 per kind.
 */
import { create } from "@bufbuild/protobuf";
import { anyPack, durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Any } from "@bufbuild/protobuf/wkt";
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
import type { LifecycleEvent } from "./component-runner.js";

const RESTART_REASONS = { exited: RestartReason.EXITED, unhealthy: RestartReason.UNHEALTHY, requested: RestartReason.REQUESTED } as const;
const FAILURE_REASONS = { "start-limit": FailureReason.START_LIMIT, "start-error": FailureReason.START_ERROR, exited: FailureReason.UNSPECIFIED } as const;

/** The topic and packed payload of a lifecycle event, for example "/components/ready". */
export function lifecyclePayload(event: LifecycleEvent): { topic: string; payload: Any } {
  const name = event.component;
  const topic = `/components/${event.kind}`;
  switch (event.kind) {
    case "started":
      return { topic, payload: anyPack(ComponentStartedSchema, create(ComponentStartedSchema, { name, pid: event.pid, restarts: event.restarts })) };
    case "ready":
      return { topic, payload: anyPack(ComponentReadySchema, create(ComponentReadySchema, { name, pid: event.pid })) };
    case "unhealthy":
      return {
        topic,
        payload: anyPack(ComponentUnhealthySchema, create(ComponentUnhealthySchema, { name, pid: event.pid, failingStreak: event.failingStreak ?? 0, lastError: event.reason })),
      };
    case "restarted":
      return {
        topic,
        payload: anyPack(
          ComponentRestartedSchema,
          create(ComponentRestartedSchema, {
            name,
            restarts: event.restarts,
            reason: RESTART_REASONS[event.restartReason ?? "exited"],
            ...(event.delayMs === undefined ? {} : { delay: durationFromMs(event.delayMs) }),
          }),
        ),
      };
    case "failed":
      return {
        topic,
        payload: anyPack(
          ComponentFailedSchema,
          create(ComponentFailedSchema, { name, reason: FAILURE_REASONS[event.failure ?? "exited"], message: event.reason, restarts: event.restarts }),
        ),
      };
    case "stopped":
      return {
        topic,
        payload: anyPack(
          ComponentStoppedSchema,
          create(ComponentStoppedSchema, {
            name,
            pid: event.pid,
            exitCode: event.exit?.code ?? 0,
            signal: event.exit?.signal ?? "",
            exitedAt: timestampFromDate(event.exit?.time ?? event.time),
          }),
        ),
      };
  }
}
