/**
 * The Nats-Msg-Id of an event's stream message, by which JetStream
 * deduplicates: for an event with a publish id, a hash of (source, publish
 * id), so that a publish the client retries, to this node or another, is
 * stored once; for one without, an id no other message has. Every id is
 * MESSAGE_ID_LENGTH characters of base64url, so every stored message has the
 * same header size (see envelopeBytes in jetstream-log.ts).
 */
import * as crypto from "node:crypto";

/** The length of every message id: 32 bytes in base64url. */
export const MESSAGE_ID_LENGTH = 43;

/** SHA-256 of text in base64url: crypto.hash (one call, no Hash object) where this Node has it (20.12 and later). */
const sha256 =
  typeof crypto.hash === "function"
    ? (text: string) => crypto.hash("sha256", text, "base64url")
    : (text: string) => crypto.createHash("sha256").update(text).digest("base64url");

/**
 * 16 random bytes drawn once per process (22 characters), followed by a
 * counter in 21 base-36 digits: unique among this process's ids, and among
 * every other process's with the odds of a 128-bit collision, for the cost
 * of a counter rather than 32 random bytes per event.
 */
const UNIQUE_PREFIX = crypto.randomBytes(16).toString("base64url");
let uniqueCounter = 0;

/** The message id of an event: the hash of (source, publish id), or a unique id for publishId "". */
export function messageId(source: string, publishId: string): string {
  if (publishId !== "") return sha256(`${source}\n${publishId}`);
  uniqueCounter++;
  return UNIQUE_PREFIX + uniqueCounter.toString(36).padStart(MESSAGE_ID_LENGTH - UNIQUE_PREFIX.length, "0");
}
