/**
 * Container records as the store keeps them: rebuilt from a request with the
 * known fields only, the opaque Any values (spec, runtime options,
 * extensions) carried as they came (type URL and bytes, never decoded), and
 * the output-only fields set by the store.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import type { Any, Timestamp } from "@bufbuild/protobuf/wkt";
import { ContainerSchema, RuntimeSchema } from "@moby-core/container-store-api/v1";
import type { Container, Runtime } from "@moby-core/container-store-api/v1";

/** The output-only fields the store sets on every write. */
export interface WriteStamp {
  createdAt: Timestamp;
  updatedAt: Timestamp;
  revision: bigint;
}

/** A copy of an Any with only its type URL and bytes. */
export function copyAny(any: Any): Any {
  return create(AnySchema, { typeUrl: any.typeUrl, value: any.value });
}

/** A copy of a string map as a plain object holding own properties only (safe for any key, "__proto__" included). */
export function copyMap<V, W>(map: Record<string, V>, copy: (value: V) => W): Record<string, W> {
  return Object.fromEntries(Object.entries(map).map(([key, value]) => [key, copy(value)]));
}

/** Sets key in map as an own property, whatever the key. */
export function setEntry<V>(map: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A copy of a runtime with its known fields. */
export function copyRuntime(runtime: Runtime): Runtime {
  return create(RuntimeSchema, { name: runtime.name, ...(runtime.options === undefined ? {} : { options: copyAny(runtime.options) }) });
}

/** The record to store for a container given by a client: its known fields, with the store's stamp. */
export function storedRecord(input: Container, stamp: WriteStamp): Container {
  return create(ContainerSchema, {
    id: input.id,
    labels: copyMap(input.labels, (value) => value),
    image: input.image,
    ...(input.runtime === undefined ? {} : { runtime: copyRuntime(input.runtime) }),
    ...(input.spec === undefined ? {} : { spec: copyAny(input.spec) }),
    extensions: copyMap(input.extensions, copyAny),
    createdAt: stamp.createdAt,
    updatedAt: stamp.updatedAt,
    revision: stamp.revision,
  });
}

/** The fields a filter can read (id, image, runtime.name, labels) of a record, for judging a change later. */
export function filterProjection(record: Container): Container {
  return create(ContainerSchema, {
    id: record.id,
    image: record.image,
    labels: copyMap(record.labels, (value) => value),
    runtime: create(RuntimeSchema, { name: record.runtime?.name ?? "" }),
  });
}

/** The tag of Container.revision (field 9, varint) in the protobuf binary format. */
const REVISION_TAG = (9 << 3) | 0;

/** How many bytes revision takes as a protobuf varint. */
function varintLength(revision: bigint): number {
  let length = 1;
  for (let rest = revision >> 7n; rest > 0n; rest >>= 7n) length++;
  return length;
}

/** How many bytes Container.revision adds to an encoded record: its tag and varint, none for 0 (proto3 leaves it out). */
export function revisionFieldBytes(revision: bigint): number {
  return revision === 0n ? 0 : 1 + varintLength(revision);
}

/** A record encoded without its revision, with Container.revision appended (the last value of a field wins when decoding). */
export function withRevision(stored: Uint8Array, revision: bigint): Uint8Array {
  const record = new Uint8Array(stored.byteLength + 1 + varintLength(revision));
  record.set(stored);
  let at = stored.byteLength;
  record[at++] = REVISION_TAG;
  let rest = revision;
  while (rest >= 0x80n) {
    record[at++] = Number(rest & 0x7fn) | 0x80;
    rest >>= 7n;
  }
  record[at] = Number(rest);
  return record;
}

/** A record encoded without its revision: what the store writes, adding the revision it gets at commit. */
export function encodeWithoutRevision(record: Container): Uint8Array {
  const revision = record.revision;
  record.revision = 0n;
  try {
    return toBinary(ContainerSchema, record);
  } finally {
    record.revision = revision;
  }
}
