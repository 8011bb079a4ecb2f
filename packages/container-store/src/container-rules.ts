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

/** Checks a label or extension key: 1 to 4096 bytes of UTF-8. */
function checkKey(key: string, path: string): void {
  if (key === "") throw new InvalidArgumentError(path, "key is empty");
  const bytes = utf8Length(key);
  if (bytes > MAX_LABEL_BYTES) throw new InvalidArgumentError(path, `key is ${bytes} bytes, more than ${MAX_LABEL_BYTES}`);
}

/** Checks one label: the key rule, and key plus value at most 4096 bytes. */
export function checkLabel(key: string, value: string, field = "container.labels"): void {
  const path = entryPath(field, key);
  checkKey(key, path);
  const bytes = utf8Length(key) + utf8Length(value);
  if (bytes > MAX_LABEL_BYTES) throw new InvalidArgumentError(path, `key and value are ${bytes} bytes together, more than ${MAX_LABEL_BYTES}`);
}

/** Checks an opaque Any that must carry a type URL when present. */
function checkAny(any: Any, path: string): void {
  if (any.typeUrl === "") throw new InvalidArgumentError(path, "type_url is empty");
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
 */
export function checkContainer(record: Container, field = "container"): void {
  checkId(record.id, `${field}.id`);
  for (const [key, value] of Object.entries(record.labels)) checkLabel(key, value, `${field}.labels`);
  const imageBytes = utf8Length(record.image);
  if (imageBytes > MAX_IMAGE_BYTES) throw new InvalidArgumentError(`${field}.image`, `is ${imageBytes} bytes, more than ${MAX_IMAGE_BYTES}`);
  checkRuntimeName(record.runtime?.name ?? "", `${field}.runtime.name`);
  if (record.runtime?.options !== undefined) checkAny(record.runtime.options, `${field}.runtime.options`);
  if (record.spec === undefined) throw new InvalidArgumentError(`${field}.spec`, "required");
  checkAny(record.spec, `${field}.spec`);
  for (const [key, value] of Object.entries(record.extensions)) {
    const path = entryPath(`${field}.extensions`, key);
    checkKey(key, path);
    checkAny(value, path);
  }
  const size = recordSize(record);
  if (size > MAX_RECORD_BYTES) throw new InvalidArgumentError(field, `the record is ${size} bytes encoded, more than ${MAX_RECORD_BYTES}`);
}
