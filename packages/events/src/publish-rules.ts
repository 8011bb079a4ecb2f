/**
 * The rules of a PublishRequest, checked in one place before anything is
 * recorded; each violation is INVALID_ARGUMENT naming the field.
 */
import { InvalidArgumentError } from "@moby-core/sdk";
import type { PublishRequest } from "@moby-core/events-api/v1";

/** The longest topic. */
export const MAX_TOPIC_LENGTH = 256;
/** The largest payload value, in bytes. */
export const MAX_EVENT_BYTES = 1024 * 1024;
/** The longest type URL. */
export const MAX_TYPE_URL_LENGTH = 256;

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const SOURCE = /^[a-z][a-z0-9-]{0,62}$/;
const PUBLISH_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TYPE_URL = /^[^/\s]+(\/[^/\s]+)*\/[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

/** Checks a topic: "/" then segments of letters, digits, ".", "_", "-", never "." or "..". */
export function checkTopic(topic: string, field = "topic"): void {
  if (topic === "") throw new InvalidArgumentError(field, "required");
  if (topic.length > MAX_TOPIC_LENGTH) throw new InvalidArgumentError(field, `longer than ${MAX_TOPIC_LENGTH} characters`);
  if (!topic.startsWith("/")) throw new InvalidArgumentError(field, `${JSON.stringify(topic)} must start with "/"`);
  for (const segment of topic.slice(1).split("/")) {
    if (!SEGMENT.test(segment) || segment === "." || segment === "..") {
      throw new InvalidArgumentError(field, `${JSON.stringify(topic)}: segments are letters, digits, ".", "_" and "-" (not "." or ".."), with no empty segment`);
    }
  }
}

/** Checks every rule of a publish request. */
export function checkPublish(request: PublishRequest): void {
  checkTopic(request.topic);
  if (request.source === "") throw new InvalidArgumentError("source", "required");
  if (!SOURCE.test(request.source)) throw new InvalidArgumentError("source", `${JSON.stringify(request.source)} is not a component name`);
  if (request.publishId !== "" && !PUBLISH_ID.test(request.publishId)) {
    throw new InvalidArgumentError("publish_id", 'must be 1 to 128 letters, digits, ".", "_", ":" or "-"');
  }
  const event = request.event;
  if (event === undefined) throw new InvalidArgumentError("event", "required");
  if (event.typeUrl === "") throw new InvalidArgumentError("event.type_url", "required");
  if (event.typeUrl.length > MAX_TYPE_URL_LENGTH || !TYPE_URL.test(event.typeUrl)) {
    throw new InvalidArgumentError("event.type_url", `${JSON.stringify(event.typeUrl.slice(0, 80))} is not "<host>/<message name>"`);
  }
  if (event.value.byteLength > MAX_EVENT_BYTES) throw new InvalidArgumentError("event", `value is ${event.value.byteLength} bytes, more than ${MAX_EVENT_BYTES}`);
}
