/**
 * moby.events.v1.Envelope on the wire, written and read by hand: the
 * JetStream log stores each event as its Envelope without the sequence (the
 * stream assigns it), and a subscriber's SubscribeResponse carries the
 * Envelope with it. protobuf-es's reflective toBinary and fromBinary cost
 * several microseconds per event (a message object, a Timestamp and an Any
 * built and walked field by field); this writes the same bytes, and reads
 * any valid Envelope, directly. The spec (envelope-wire.spec.ts) holds both
 * to protobuf-es.
 *
 * Envelope: 1 sequence (uint64), 2 timestamp (google.protobuf.Timestamp:
 * 1 seconds int64, 2 nanos int32), 3 source (string), 4 topic (string),
 * 5 event (google.protobuf.Any: 1 type_url string, 2 value bytes). Fields at
 * their default are left out, as proto3 serializers do; the timestamp and the
 * Any are always written.
 */
import type { StoredEvent } from "./backend/event-log.js";

/** What an event's stream message holds besides its time. */
export interface EnvelopeFields {
  source: string;
  topic: string;
  typeUrl: string;
  value: Uint8Array;
}

/** Wire types: varint, 64-bit, length-delimited, 32-bit. */
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

/** How many bytes the varint of a non-negative integer up to 2^53 takes. */
function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Writes the varint of a non-negative integer up to 2^53 at pos; returns the position after it. */
function writeVarint(buffer: Buffer, pos: number, value: number): number {
  while (value >= 128) {
    buffer[pos++] = (value % 128) | 128;
    value = Math.floor(value / 128);
  }
  buffer[pos++] = value;
  return pos;
}

/** The size of a length-delimited field of length bytes with a one-byte tag, or 0 for an empty one (left out). */
function fieldSize(length: number): number {
  return length === 0 ? 0 : 1 + varintSize(length) + length;
}

/**
 * The Envelope of an event at timeMs (ms since the epoch, >= 0, as
 * Date.now() gives), without its sequence: byte for byte what protobuf-es's
 * toBinary writes for the same Envelope with sequence 0.
 */
export function encodeEnvelope(event: EnvelopeFields, timeMs: number): Uint8Array {
  if (!Number.isSafeInteger(timeMs) || timeMs < 0) throw new RangeError(`event time ${timeMs} ms is not a whole number of ms since the epoch`);
  const seconds = Math.floor(timeMs / 1000);
  const nanos = (timeMs - seconds * 1000) * 1_000_000;
  const sourceLength = Buffer.byteLength(event.source);
  const topicLength = Buffer.byteLength(event.topic);
  const typeUrlLength = Buffer.byteLength(event.typeUrl);
  const valueLength = event.value.byteLength;
  const timestampSize = (seconds === 0 ? 0 : 1 + varintSize(seconds)) + (nanos === 0 ? 0 : 1 + varintSize(nanos));
  const anySize = fieldSize(typeUrlLength) + fieldSize(valueLength);
  const size = 1 + varintSize(timestampSize) + timestampSize + fieldSize(sourceLength) + fieldSize(topicLength) + 1 + varintSize(anySize) + anySize;
  const buffer = Buffer.allocUnsafe(size);
  let pos = 0;
  buffer[pos++] = (2 << 3) | LEN;
  pos = writeVarint(buffer, pos, timestampSize);
  if (seconds !== 0) {
    buffer[pos++] = (1 << 3) | VARINT;
    pos = writeVarint(buffer, pos, seconds);
  }
  if (nanos !== 0) {
    buffer[pos++] = (2 << 3) | VARINT;
    pos = writeVarint(buffer, pos, nanos);
  }
  pos = writeString(buffer, pos, 3, event.source, sourceLength);
  pos = writeString(buffer, pos, 4, event.topic, topicLength);
  buffer[pos++] = (5 << 3) | LEN;
  pos = writeVarint(buffer, pos, anySize);
  pos = writeString(buffer, pos, 1, event.typeUrl, typeUrlLength);
  if (valueLength !== 0) {
    buffer[pos++] = (2 << 3) | LEN;
    pos = writeVarint(buffer, pos, valueLength);
    buffer.set(event.value, pos);
    pos += valueLength;
  }
  return buffer;
}

/** How many bytes the varint of a non-negative bigint takes. */
function bigVarintSize(value: bigint): number {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? varintSize(Number(value)) : Math.ceil(value.toString(2).length / 7);
}

/** Writes the varint of a non-negative bigint at pos; returns the position after it. */
function writeBigVarint(buffer: Buffer, pos: number, value: bigint): number {
  if (value <= BigInt(Number.MAX_SAFE_INTEGER)) return writeVarint(buffer, pos, Number(value));
  while (value >= 128n) {
    buffer[pos++] = Number(value & 127n) | 128;
    value >>= 7n;
  }
  buffer[pos++] = Number(value);
  return pos;
}

/**
 * The event's whole Envelope, sequence included, as the payload of a
 * length-delimited field (its length, then the Envelope), ready to go out as
 * a message's field already encoded: the sequence (field 1, when not 0)
 * before the Envelope without it that the event carries (`encoded`, as the
 * JetStream log read it) or that is written here from its fields. Parsers
 * read the fields in any order; this keeps them in field order.
 */
export function envelopeFieldPayload(event: StoredEvent): Uint8Array {
  const rest = event.encoded ?? encodeEnvelope(event, event.timeMs);
  const sequenceSize = event.sequence === 0n ? 0 : 1 + bigVarintSize(event.sequence);
  const length = sequenceSize + rest.byteLength;
  const buffer = Buffer.allocUnsafe(varintSize(length) + length);
  let pos = writeVarint(buffer, 0, length);
  if (sequenceSize !== 0) {
    buffer[pos++] = (1 << 3) | VARINT;
    pos = writeBigVarint(buffer, pos, event.sequence);
  }
  buffer.set(rest, pos);
  return buffer;
}

/** Writes a string field of length UTF-8 bytes (none when empty) at pos; returns the position after it. */
function writeString(buffer: Buffer, pos: number, field: number, value: string, length: number): number {
  if (length === 0) return pos;
  buffer[pos++] = (field << 3) | LEN;
  pos = writeVarint(buffer, pos, length);
  return pos + buffer.write(value, pos, length, "utf8");
}

/** Reads protobuf wire data from a byte range, throwing on anything truncated or malformed. */
class WireReader {
  pos: number;

  constructor(
    readonly bytes: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** A varint as a number: exact up to 2^53; one of more than 8 bytes is read as an int64 (negative in two's complement). */
  varint(): number {
    const start = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw new Error("truncated varint");
      const byte = this.bytes[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 128) return value;
      scale *= 128;
    }
    return this.longVarint(start);
  }

  /** A varint of 9 or 10 bytes from start, as an int64. */
  private longVarint(start: number): number {
    this.pos = start;
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new Error("truncated varint");
      const byte = this.bytes[this.pos++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 128) return Number(BigInt.asIntN(64, value));
    }
    throw new Error("varint longer than 10 bytes");
  }

  /** The end of a length-delimited field starting here, after reading its length. */
  delimited(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (length < 0 || end > this.end) throw new Error("truncated length-delimited field");
    return end;
  }

  /** Skips a field of wireType. */
  skip(wireType: number): void {
    if (wireType === VARINT) this.varint();
    else if (wireType === FIXED64) this.pos += 8;
    else if (wireType === LEN) this.pos = this.delimited();
    else if (wireType === FIXED32) this.pos += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
    if (this.pos > this.end) throw new Error("truncated field");
  }

  /** A length-delimited field as a UTF-8 string. */
  string(): string {
    const end = this.delimited();
    const value = this.bytes.toString("utf8", this.pos, end);
    this.pos = end;
    return value;
  }
}

/** The time of a Timestamp in ms, as protobuf-es's timestampMs: seconds * 1000 + nanos rounded to ms. */
function readTimestampMs(reader: WireReader, end: number): number {
  let seconds = 0;
  let nanos = 0;
  while (reader.pos < end) {
    const tag = reader.varint();
    if (tag === ((1 << 3) | VARINT)) seconds = reader.varint();
    else if (tag === ((2 << 3) | VARINT)) nanos = reader.varint();
    else reader.skip(tag & 7);
  }
  return seconds * 1000 + Math.round(nanos / 1_000_000);
}

/**
 * A serialized Envelope without its sequence (a stream message) as the event
 * at sequence, keeping data as the event's `encoded`: reads any serialized
 * Envelope (unknown fields skipped, a sequence field ignored); the value is a
 * view into data, not a copy. Throws on malformed data.
 */
export function decodeEnvelope(sequence: number, data: Uint8Array): StoredEvent {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const reader = new WireReader(bytes, 0, bytes.length);
  const event: StoredEvent = { sequence: BigInt(sequence), timeMs: 0, source: "", topic: "", typeUrl: "", value: new Uint8Array(), encoded: data };
  while (reader.pos < reader.end) {
    const tag = reader.varint();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (wireType !== LEN || field < 2 || field > 5) {
      reader.skip(wireType);
      continue;
    }
    if (field === 3) event.source = reader.string();
    else if (field === 4) event.topic = reader.string();
    else {
      const end = reader.delimited();
      if (field === 2) event.timeMs = readTimestampMs(reader, end);
      else readAny(reader, end, event);
      if (reader.pos !== end) throw new Error(`field ${field} overruns its length`);
    }
  }
  return event;
}

/** Reads a google.protobuf.Any's type URL and value into event. */
function readAny(reader: WireReader, end: number, event: StoredEvent): void {
  while (reader.pos < end) {
    const tag = reader.varint();
    if (tag === ((1 << 3) | LEN)) event.typeUrl = reader.string();
    else if (tag === ((2 << 3) | LEN)) {
      const valueEnd = reader.delimited();
      event.value = reader.bytes.subarray(reader.pos, valueEnd);
      reader.pos = valueEnd;
    } else reader.skip(tag & 7);
  }
}
