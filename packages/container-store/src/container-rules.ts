/**
 * The rules of a container record, checked in one place before anything is
 * written. Each violation is INVALID_ARGUMENT whose message starts with the
 * offending field's path in the request, for example
 * `container.labels["app"]: ...`.
 */
import { toBinary } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "@moby-core/sdk";
import { checkId } from "@moby-core/sdk/list";
import { ContainerSchema } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { encodeWithoutRevision, revisionFieldBytes } from "./container-record.js";

/** The most bytes of a label key, and of a label key and its value together; also the extension key bound. */
export const MAX_LABEL_BYTES = 4096;
/** The longest image reference, in bytes. */
export const MAX_IMAGE_BYTES = 4096;
/** The longest runtime name, in bytes. */
export const MAX_RUNTIME_NAME_BYTES = 255;
/** The largest record, encoded with every field the store sets, in bytes. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** Keys longer than this many characters are shortened in error paths, so that an error fits in a status trailer. */
const MAX_KEY_IN_PATH = 256;

const BLANK_OR_CONTROL = /[\s\p{Cc}]/u;

/** The byte length of a string in UTF-8. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** The path of a map entry, for example `container.labels["app"]`. */
export function entryPath(field: string, key: string): string {
  const shown = key.length > MAX_KEY_IN_PATH ? `${key.slice(0, MAX_KEY_IN_PATH)}...` : key;
  return `${field}[${JSON.stringify(shown)}]`;
}

/** Checks a label or extension key of the map at field: 1 to 4096 bytes of UTF-8 (the entry's path is built only for an error). */
function checkKey(key: string, field: string): void {
  if (key === "") throw new InvalidArgumentError(entryPath(field, key), "key is empty");
  const bytes = utf8Length(key);
  if (bytes > MAX_LABEL_BYTES) throw new InvalidArgumentError(entryPath(field, key), `key is ${bytes} bytes, more than ${MAX_LABEL_BYTES}`);
}

/** Checks one label: the key rule, and key plus value at most 4096 bytes. */
export function checkLabel(key: string, value: string, field = "container.labels"): void {
  checkKey(key, field);
  const bytes = utf8Length(key) + utf8Length(value);
  if (bytes > MAX_LABEL_BYTES) throw new InvalidArgumentError(entryPath(field, key), `key and value are ${bytes} bytes together, more than ${MAX_LABEL_BYTES}`);
}

/** Checks an opaque Any that must carry a type URL when present: the one at field, or the entry key of the map at field. */
function checkAny(any: Any, field: string, key?: string): void {
  if (any.typeUrl === "") throw new InvalidArgumentError(key === undefined ? field : entryPath(field, key), "type_url is empty");
}

/** Checks a runtime name: 1 to 255 bytes, no whitespace or control characters. */
export function checkRuntimeName(name: string, field = "container.runtime.name"): void {
  if (name === "") throw new InvalidArgumentError(field, "required");
  const bytes = utf8Length(name);
  if (bytes > MAX_RUNTIME_NAME_BYTES) throw new InvalidArgumentError(field, `is ${bytes} bytes, more than ${MAX_RUNTIME_NAME_BYTES}`);
  if (BLANK_OR_CONTROL.test(name)) throw new InvalidArgumentError(field, `${JSON.stringify(name)} holds whitespace or a control character`);
}

/** The encoded size of a record, in bytes. */
export function recordSize(record: Container): number {
  return toBinary(ContainerSchema, record).byteLength;
}

/**
 * Checks every rule of a record as it would be stored (with created_at,
 * updated_at and revision set), field being its path in the request.
 * Returns the record encoded without its revision, the bytes the size rule
 * measured (with the revision's field added): a backend stores them, so a
 * write encodes its record once.
 */
export function checkContainer(record: Container, field = "container"): Uint8Array {
  checkId(record.id, `${field}.id`);
  for (const [key, value] of Object.entries(record.labels)) checkLabel(key, value, `${field}.labels`);
  const imageBytes = utf8Length(record.image);
  if (imageBytes > MAX_IMAGE_BYTES) throw new InvalidArgumentError(`${field}.image`, `is ${imageBytes} bytes, more than ${MAX_IMAGE_BYTES}`);
  checkRuntimeName(record.runtime?.name ?? "", `${field}.runtime.name`);
  if (record.runtime?.options !== undefined) checkAny(record.runtime.options, `${field}.runtime.options`);
  if (record.spec === undefined) throw new InvalidArgumentError(`${field}.spec`, "required");
  checkAny(record.spec, `${field}.spec`);
  for (const [key, value] of Object.entries(record.extensions)) {
    checkKey(key, `${field}.extensions`);
    checkAny(value, `${field}.extensions`, key);
  }
  const encoded = encodeWithoutRevision(record);
  const size = encoded.byteLength + revisionFieldBytes(record.revision);
  if (size > MAX_RECORD_BYTES) throw new InvalidArgumentError(field, `the record is ${size} bytes encoded, more than ${MAX_RECORD_BYTES}`);
  return encoded;
}
