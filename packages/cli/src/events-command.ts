/**
 * `moby events`: the assembly's events as a live, readable stream, found
 * through init's registry, with filters and a start position; --json prints
 * one JSON object per line for machines.
 */
import { createRegistry, toJson, toJsonString } from "@bufbuild/protobuf";
import { anyUnpack, timestampDate } from "@bufbuild/protobuf/wkt";
import { dialSocket } from "@moby-core/sdk";
import {
  EnvelopeSchema,
  EventsService,
  StartPosition,
  file_moby_events_v1_component_events,
  file_moby_events_v1_container_events,
  file_moby_events_v1_task_events,
} from "@moby-core/events-api/v1";
import type { Envelope } from "@moby-core/events-api/v1";
import { RegistryService } from "@moby-core/registry-api/v1";
import type { Write } from "./commands.js";
import { writeStdout } from "./commands.js";
import { translateError } from "./init-client.js";

/** What to print and from where. */
export interface EventsOptions {
  /** containerd-style filters, OR-ed; each may AND selectors with ",". */
  filters: string[];
  /** Print events after this sequence (resume); undefined for only new events unless oldest. */
  since?: bigint;
  /** Start from the oldest event kept. */
  oldest: boolean;
  /** One JSON object per line instead of the readable form. */
  json: boolean;
  /** Ends the stream quietly when aborted (Ctrl-C). */
  stop?: AbortSignal;
}

/** The payload types moby-core components publish, to decode events by. */
const payloads = createRegistry(file_moby_events_v1_container_events, file_moby_events_v1_task_events, file_moby_events_v1_component_events);

/** One event as a readable line: sequence, time, source, topic and the payload as JSON. */
export function formatEvent(envelope: Envelope): string {
  const time = envelope.timestamp === undefined ? "-" : timestampDate(envelope.timestamp).toISOString();
  let payload = "";
  if (envelope.event !== undefined) {
    const message = anyUnpack(envelope.event, payloads);
    payload = message === undefined ? `${envelope.event.typeUrl} (${envelope.event.value.byteLength} bytes)` : toJsonString(payloads.getMessage(message.$typeName)!, message);
  }
  return `${envelope.sequence}  ${time}  ${envelope.source}  ${envelope.topic}  ${payload}`;
}

/** One event as a JSON line, payload decoded when its type is known. */
export function formatEventJson(envelope: Envelope): string {
  return JSON.stringify(toJson(EnvelopeSchema, envelope, { registry: payloads }));
}

/** The socket of the component serving the events API, asked of init's registry. */
async function locateEvents(initSocketPath: string): Promise<string> {
  const init = dialSocket(initSocketPath, { retry: false });
  try {
    const { registrations } = await init.client(RegistryService).resolveService({ service: EventsService.typeName });
    return registrations[0]!.socketPath;
  } catch (error) {
    throw translateError(error, initSocketPath);
  } finally {
    init.close();
  }
}

/** Prints events until the stream ends or options.stop aborts. */
export async function eventsCommand(initSocketPath: string, options: EventsOptions, write: Write = writeStdout): Promise<void> {
  const socket = await locateEvents(initSocketPath);
  const events = dialSocket(socket, { retry: false });
  const start = options.since !== undefined ? StartPosition.AFTER_SEQUENCE : options.oldest ? StartPosition.OLDEST : StartPosition.NOW;
  try {
    const stream = events.client(EventsService).subscribe(
      { filters: options.filters, start, afterSequence: options.since ?? 0n },
      options.stop ? { signal: options.stop } : {},
    );
    for await (const { envelope } of stream) {
      if (envelope === undefined) continue;
      write(`${options.json ? formatEventJson(envelope) : formatEvent(envelope)}\n`);
    }
  } catch (error) {
    if (options.stop?.aborted === true) return;
    throw translateError(error, socket);
  } finally {
    events.close();
  }
}
