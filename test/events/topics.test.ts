/**
 * The contract is the one table of event topics: every payload message of
 * moby.events.v1 declares the topic it is published under with the
 * (moby.events.v1.topic) option, each topic once, each valid by
 * PublishRequest.topic's rule, and the SDK's publisher reads it from there.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  file_moby_events_v1_component_events,
  file_moby_events_v1_container_events,
  file_moby_events_v1_image_events,
  file_moby_events_v1_task_events,
} from "@moby-core/events-api/v1";
import { eventTopic } from "@moby-core/sdk";

const PAYLOAD_FILES = [file_moby_events_v1_component_events, file_moby_events_v1_container_events, file_moby_events_v1_image_events, file_moby_events_v1_task_events];
/** PublishRequest.topic's rule: "/"-separated segments of letters, digits, ".", "_", "-", never "." or "..". */
const TOPIC_RULE = /^(\/(?!\.{1,2}(\/|$))[A-Za-z0-9._-]+)+$/;

describe("event topics", () => {
  const messages = PAYLOAD_FILES.flatMap((file) => file.messages);

  it("are declared by every payload message, once each, by the topic rule", () => {
    assert.ok(messages.length >= 21, `${messages.length} payload messages`);
    const topics = messages.map((message) => eventTopic(message));
    assert.equal(new Set(topics).size, topics.length, "no topic is used twice");
    for (const topic of topics) assert.match(topic, TOPIC_RULE);
  });

  it("are the topics each message's comment names", () => {
    for (const file of PAYLOAD_FILES) {
      const text = readFileSync(new URL(`../../proto/${file.proto.name}`, import.meta.url), "utf8");
      for (const message of file.messages) {
        const comment = new RegExp(`// ${message.name} is published by [^]*?topic\\s*(?://\\s*)?"([^"]+)"[^]*?\\nmessage ${message.name} \\{`).exec(text);
        assert.ok(comment !== null, `${message.name}'s comment names its topic`);
        assert.equal(comment[1], eventTopic(message), message.typeName);
      }
    }
  });
});
