import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { EnvelopeSchema } from "@moby-core/events-api/v1";
import { decodeEnvelope, encodeEnvelope, envelopeFieldPayload } from "./envelope-wire.js";
import type { EnvelopeFields } from "./envelope-wire.js";

/** What protobuf-es writes for the event at timeMs, with sequence 0. */
function reference(event: EnvelopeFields, timeMs: number): Uint8Array {
  return toBinary(
    EnvelopeSchema,
    create(EnvelopeSchema, { timestamp: timestampFromMs(timeMs), source: event.source, topic: event.topic, event: { typeUrl: event.typeUrl, value: event.value } }),
  );
}

describe("envelope-wire's view of the Envelope", () => {
  it("knows every field the contract gives Envelope, Timestamp and Any: a field added there fails here until the codec writes it", () => {
    const shape = (fields: readonly { number: number; name: string; fieldKind: string }[]) => fields.map((f) => `${f.number} ${f.name} ${f.fieldKind}`);
    assert.deepEqual(shape(EnvelopeSchema.fields), ["1 sequence scalar", "2 timestamp message", "3 source scalar", "4 topic scalar", "5 event message"]);
    assert.deepEqual(shape(EnvelopeSchema.field.timestamp!.message!.fields), ["1 seconds scalar", "2 nanos scalar"]);
    assert.deepEqual(shape(EnvelopeSchema.field.event!.message!.fields), ["1 type_url scalar", "2 value scalar"]);
  });
});

const bytes = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + 7) % 256);

const EVENTS: EnvelopeFields[] = [
  { source: "container-store", topic: "/containers/create", typeUrl: "type.googleapis.com/moby.events.v1.ContainerCreate", value: bytes(40) },
  { source: "a", topic: "/x", typeUrl: "t/a.B", value: new Uint8Array() },
  { source: "", topic: "", typeUrl: "", value: new Uint8Array() },
  { source: "ünïcode-ß", topic: "/naïve/日本", typeUrl: "example.com/a.B", value: bytes(127) },
  { source: "s", topic: "/t", typeUrl: "x/y.Z", value: bytes(128) },
  { source: "s".repeat(200), topic: `/${"t".repeat(300)}`, typeUrl: "x/y.Z", value: bytes(70_000) },
];

const TIMES = [0, 1, 999, 1000, 1_700_000_000_000, 1_700_000_000_123, Date.now(), 2 ** 50];

describe("envelope wire", () => {
  it("writes what protobuf-es writes, for every shape of event and time", () => {
    for (const event of EVENTS) {
      for (const timeMs of TIMES) {
        assert.deepEqual(Buffer.from(encodeEnvelope(event, timeMs)), Buffer.from(reference(event, timeMs)), `${event.source} at ${timeMs}`);
      }
    }
  });

  it("reads back what it writes", () => {
    for (const event of EVENTS) {
      for (const timeMs of TIMES) {
        const data = encodeEnvelope(event, timeMs);
        const { encoded, ...decoded } = decodeEnvelope(42, data);
        assert.deepEqual({ ...decoded, value: Buffer.from(decoded.value) }, { sequence: 42n, timeMs, ...event, value: Buffer.from(event.value) });
        assert.equal(encoded, data);
      }
    }
  });

  it("reads any Envelope protobuf-es writes: a sequence, negative times, unknown fields", () => {
    const envelope = create(EnvelopeSchema, {
      sequence: 2n ** 60n,
      timestamp: { seconds: -5n, nanos: -3_000_000 },
      source: "src",
      topic: "/a",
      event: { typeUrl: "x/y.Z", value: bytes(3) },
    });
    envelope.$unknown = [
      { no: 9, wireType: 0, data: Uint8Array.of(0x96, 0x01) },
      { no: 10, wireType: 2, data: Uint8Array.of(2, 1, 2) },
      { no: 11, wireType: 1, data: new Uint8Array(8) },
      { no: 12, wireType: 5, data: new Uint8Array(4) },
    ];
    const data = toBinary(EnvelopeSchema, envelope, { writeUnknownFields: true });
    const decoded = decodeEnvelope(7, data);
    const expected = fromBinary(EnvelopeSchema, data);
    assert.equal(decoded.sequence, 7n);
    assert.equal(decoded.timeMs, timestampMs(expected.timestamp!));
    assert.equal(decoded.timeMs, -5003);
    assert.deepEqual([decoded.source, decoded.topic, decoded.typeUrl, Buffer.from(decoded.value)], ["src", "/a", "x/y.Z", Buffer.from(bytes(3))]);
  });

  it("writes the whole Envelope as a field's payload, sequence included, from the stream bytes or from the fields", () => {
    const timeMs = 1_700_000_000_123;
    for (const sequence of [1n, 127n, 128n, 2n ** 40n, 2n ** 53n + 1n, 2n ** 64n - 1n]) {
      for (const event of EVENTS) {
        const expected = toBinary(
          EnvelopeSchema,
          create(EnvelopeSchema, { sequence, timestamp: timestampFromMs(timeMs), source: event.source, topic: event.topic, event: { typeUrl: event.typeUrl, value: event.value } }),
        );
        const fromFields = envelopeFieldPayload({ sequence, timeMs, ...event });
        const fromStream = envelopeFieldPayload({ ...decodeEnvelope(1, encodeEnvelope(event, timeMs)), sequence });
        for (const payload of [fromFields, fromStream]) {
          const reader = new BinaryReader(payload);
          assert.deepEqual(Buffer.from(reader.bytes()), Buffer.from(expected), `${event.source} at ${sequence}`);
          assert.equal(reader.pos, payload.length, "the payload is the length and the Envelope, nothing more");
        }
      }
    }
  });

  it("sends the stream bytes it read as they are", () => {
    const stored = encodeEnvelope(EVENTS[0]!, 1_700_000_000_123);
    const event = decodeEnvelope(9, stored);
    assert.equal(event.encoded, stored);
    assert.deepEqual(Buffer.from(envelopeFieldPayload(event).subarray(-stored.length)), Buffer.from(stored));
  });

  it("refuses a time it cannot write, and data that is truncated or overruns a field", () => {
    assert.throws(() => encodeEnvelope(EVENTS[0]!, -1), /not a whole number of ms/);
    assert.throws(() => encodeEnvelope(EVENTS[0]!, 1.5), /not a whole number of ms/);
    const data = encodeEnvelope(EVENTS[0]!, 1_700_000_000_123);
    for (const cut of [1, 5, data.length - 1]) assert.throws(() => decodeEnvelope(1, data.subarray(0, cut)), /truncated/, `cut at ${cut}`);
    // A timestamp whose nanos varint runs past the timestamp's own length.
    assert.throws(() => decodeEnvelope(1, Uint8Array.of(0x12, 0x01, 0x10, 0x80, 0x01)), /overruns|truncated/);
  });
});
