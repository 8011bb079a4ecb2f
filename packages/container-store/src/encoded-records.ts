/**
 * Sending stored records without decoding them: the store keeps each
 * container as its encoded Container message, and a response field of type
 * Container (repeated or not) can carry those bytes as they are. They go in
 * as unknown fields of the field's number, which protobuf-es writes
 * verbatim and a client reads back as the field. Decoding and encoding
 * again would be most of a read's time. Only protobuf carries them: both
 * SDK engines refuse JSON codecs.
 */
import type { DescField, Message } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/** Sets records (encoded Containers) as the value of field (a Container field of message's type) on message, and returns it. */
export function withRecords<T extends Message>(message: T, field: DescField, records: readonly Uint8Array[]): T {
  if (field.fieldKind !== "message" && !(field.fieldKind === "list" && field.listKind === "message")) {
    throw new Error(`${field.toString()} is not a message field: records cannot be passed through it`);
  }
  message.$unknown = records.map((record) => ({ no: field.number, wireType: WireType.LengthDelimited, data: new BinaryWriter().bytes(record).finish() }));
  return message;
}
