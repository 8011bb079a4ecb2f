/**
 * The topic of an event payload message, as its contract declares it with
 * the `(moby.events.v1.topic)` message option: the one table of topics, read
 * by every publisher and by anyone who decodes events.
 */
import { getOption, hasOption } from "@bufbuild/protobuf";
import type { DescMessage } from "@bufbuild/protobuf";
import { topic } from "@moby-core/events-api/v1";

/** The topic events with payloads of schema are published under; throws when the message declares none. */
export function eventTopic(schema: DescMessage): string {
  if (!hasOption(schema, topic)) {
    throw new Error(
      `${schema.typeName} declares no event topic: add option (moby.events.v1.topic) = "/<noun>/<verb>"; to the message in its .proto (import "moby/events/v1/topic.proto")`,
    );
  }
  return getOption(schema, topic);
}
