/**
 * Sending stored records without decoding them: the store keeps each
 * container as its encoded Container message, and a response field of type
 * Container (repeated or not) can carry those bytes as they are. They go in
 * as unknown fields of the field's number, which protobuf-es writes
 * verbatim and a client reads back as the field. Decoding and encoding
 * again would be most of a read's time. On the server the field looks empty
 * (an interceptor reading it would see nothing). Only protobuf carries such
 * fields: both SDK engines refuse JSON codecs.
 */
import type { DescField, Message } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/**
 * Adds records (encoded Containers) as the value of field, a Container
 * field of message's own type, to message, and returns it. A singular field
 * takes one record at most, and must not be set already.
 */
export function withRecords<T extends Message>(message: T, field: DescField, records: readonly Uint8Array[]): T {
  const name = field.toString();
  if (field.parent.typeName !== message.$typeName) throw new Error(`${name} is not a field of ${message.$typeName}`);
  const repeated = field.fieldKind === "list" && field.listKind === "message";
  if ((field.fieldKind !== "message" && !repeated) || field.delimitedEncoding) {
    throw new Error(`${name} is not a length-delimited message field: records cannot be passed through it`);
  }
  if (!repeated && (records.length > 1 || (message as Record<string, unknown>)[field.localName] !== undefined)) {
    throw new Error(`${name} is singular: it takes one record, and only while it is unset`);
  }
  const fields = records.map((record) => ({ no: field.number, wireType: WireType.LengthDelimited, data: new BinaryWriter().bytes(record).finish() }));
  message.$unknown = [...(message.$unknown ?? []), ...fields];
  return message;
}
