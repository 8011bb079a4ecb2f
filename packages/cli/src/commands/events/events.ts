/**
 * `moby events`: the assembly's events as a live, readable stream, found
 * through init's registry, with filters and a start position; --json prints
 * one JSON object per line for machines.
 */
import { createRegistry, toJson, toJsonString } from "@bufbuild/protobuf";
import type { JsonValue } from "@bufbuild/protobuf";
import { AnySchema, anyUnpack, timestampDate } from "@bufbuild/protobuf/wkt";
import type { Any } from "@bufbuild/protobuf/wkt";
import {
  EnvelopeSchema,
  EventsService,
  StartPosition,
  file_moby_events_v1_component_events,
  file_moby_events_v1_container_events,
  file_moby_events_v1_task_events,
} from "@moby-core/events-api/v1";
import type { Envelope } from "@moby-core/events-api/v1";
import type { Client } from "@connectrpc/connect";
import type { Command } from "commander";
import { Option } from "commander";
import { componentError, dialComponent, locateComponent } from "../../container-client.js";
import { collectEventFilter, eventFilters } from "../../event-filter.js";
import { beforeSince, caughtUp, parseSince, parseUntil, pastUntil } from "../../event-window.js";
import type { StopRule } from "../../event-window.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { parseFormat, untilInterrupted, wantsJson } from "../shared.js";
import type { OutputFormat, SocketOf } from "../shared.js";

/** What to print and from where. */
export interface EventsOptions {
  /** containerd-style filters, OR-ed; each may AND selectors with ",". */
  filters: string[];
  /** Print events after this sequence (resume), or from this time on; undefined for only new events unless oldest. */
  since?: bigint | Date;
  /** Start from the oldest event kept. */
  oldest: boolean;
  /** One JSON object per line instead of the readable form. */
  json: boolean;
  /** Stop at this time: at once for the events up to now when it is past, else when it comes. */
  until?: Date;
  /** Ends the stream quietly when aborted (Ctrl-C). */
  stop?: AbortSignal;
}

/** The payload types moby-core components publish, to decode events by. */
const payloads = createRegistry(file_moby_events_v1_container_events, file_moby_events_v1_task_events, file_moby_events_v1_component_events);

/** The payload decoded as a message of a known type, or undefined for an unknown type (or bytes that do not decode). */
function decodedPayload(event: Any): string | undefined {
  try {
    const message = anyUnpack(event, payloads);
    return message === undefined ? undefined : toJsonString(payloads.getMessage(message.$typeName)!, message, { registry: payloads });
  } catch {
    return undefined;
  }
}

/** One event as a readable line: sequence, time, source, topic and the payload as JSON (type and size when its type is unknown). */
export function formatEvent(envelope: Envelope): string {
  const time = envelope.timestamp === undefined ? "-" : timestampDate(envelope.timestamp).toISOString();
  let payload = "";
  if (envelope.event !== undefined) {
    payload = decodedPayload(envelope.event) ?? `${envelope.event.typeUrl} (${envelope.event.value.byteLength} bytes)`;
  }
  return `${envelope.sequence}  ${time}  ${envelope.source}  ${envelope.topic}  ${payload}`;
}

/**
 * The JSON of a payload: the Any's proto3 JSON ({"@type": ..., and its
 * fields}) when its type is known; else, as components may publish types of
 * their own, {"@type": type URL, "value": the bytes in base64}.
 */
function payloadJson(event: Any): JsonValue {
  try {
    return toJson(AnySchema, event, { registry: payloads });
  } catch {
    return { "@type": event.typeUrl, value: Buffer.from(event.value).toString("base64") };
  }
}

/** One event as a JSON line (the Envelope's proto3 JSON), its payload decoded when its type is known (see payloadJson). */
export function formatEventJson(envelope: Envelope): string {
  const json = toJson(EnvelopeSchema, { ...envelope, event: undefined }) as { [key: string]: JsonValue };
  if (envelope.event !== undefined) json["event"] = payloadJson(envelope.event);
  return JSON.stringify(json);
}

/** The stop rule of --until: for a time already past, the latest sequence the log holds now. */
async function stopRule(client: Client<typeof EventsService>, until: Date): Promise<StopRule> {
  if (until.getTime() > Date.now()) return { until };
  const { latestSequence } = await client.getStatus({});
  return { until, latestSequence };
}

/**
 * Prints events until the stream ends, options.until is reached or options.stop aborts. The events
 * component is found through init's registry; a failure is one CliError
 * naming init or the events component, whichever could not be reached.
 */
export async function eventsCommand(initSocketPath: string, options: EventsOptions, write: Write = writeStdout): Promise<void> {
  const events = dialComponent(await locateComponent(initSocketPath, EventsService.typeName));
  const since = options.since;
  const start =
    typeof since === "bigint" ? StartPosition.AFTER_SEQUENCE : since !== undefined || options.oldest ? StartPosition.OLDEST : StartPosition.NOW;
  const ending = new AbortController();
  const stop = options.stop ? AbortSignal.any([options.stop, ending.signal]) : ending.signal;
  let timer: NodeJS.Timeout | undefined;
  try {
    const client = events.client(EventsService);
    const rule = options.until === undefined ? undefined : await stopRule(client, options.until);
    if (rule !== undefined && rule.latestSequence === undefined) {
      timer = setTimeout(() => ending.abort(), rule.until.getTime() - Date.now());
    }
    const afterSequence = typeof since === "bigint" ? since : 0n;
    const stream = client.subscribe({ filters: options.filters, start, afterSequence }, { signal: stop });
    for await (const { envelope, resumeAfterSequence } of stream) {
      if (envelope !== undefined) {
        const time = envelope.timestamp && timestampDate(envelope.timestamp);
        if (rule !== undefined && pastUntil(rule, time)) break;
        if (!(since instanceof Date && beforeSince(since, time))) {
          write(`${options.json ? formatEventJson(envelope) : formatEvent(envelope)}\n`);
        }
      }
      if (rule !== undefined && caughtUp(rule, resumeAfterSequence)) break;
    }
  } catch (error) {
    if (stop.aborted) return;
    throw componentError(error);
  } finally {
    clearTimeout(timer);
    events.close();
  }
}

/** Adds `events` to program. */
export function registerEvents(program: Command, socketOf: SocketOf): void {
  program
    .command("events")
    .description("print the assembly's events as they happen (sequence, time, source, topic, payload), until Ctrl-C or --until")
    .option(
      "-f, --filter <filter>",
      'only events matching: the grammar, e.g. topic~="^/containers/" or source==init,topic==/components/ready (repeat to OR), or docker\'s topic=VALUE, source=VALUE (one key\'s values OR-ed, keys AND-ed)',
      collectEventFilter,
      [] as string[],
    )
    .option(
      "--since <sequence|time>",
      "start after this sequence number (to resume where you stopped), or at a date and time or a duration ago (10m) as docker",
      (text: string) => parseSince(text),
    )
    .option("--oldest", "start from the oldest event kept")
    .option("--until <time>", 'stop at this time: "now" (the events so far), a date and time, or a duration ago (10m)', (text: string) => parseUntil(text))
    .addOption(
      new Option(
        "--format <format>",
        'json or table (default: table); json: one JSON object per event and line (the Envelope\'s proto3 JSON); a payload of a type moby does not know is {"@type": its type URL, "value": its bytes in base64}',
      ).argParser(parseFormat),
    )
    .option("--json", "the same as --format json")
    .action((options: { filter: string[]; since?: bigint | Date; oldest?: boolean; until?: Date; format?: OutputFormat; json?: boolean }, command: Command) =>
      untilInterrupted((stop) =>
        eventsCommand(socketOf(command), {
          filters: eventFilters(options.filter),
          ...(options.since === undefined ? {} : { since: options.since }),
          oldest: options.oldest === true,
          json: wantsJson(options),
          ...(options.until === undefined ? {} : { until: options.until }),
          stop,
        }),
      ),
    );
}
