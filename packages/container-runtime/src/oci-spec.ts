/**
 * The container spec this runtime runs (moby.container.runtime.v1.OciSpec):
 * an OCI runtime-spec 1.x config.json in a google.protobuf.Any under one type
 * URL. Checked before anything is written; every violation is
 * INVALID_ARGUMENT naming "spec" and the offending JSON member.
 */
import { statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "@moby-core/sdk";
import { OciSpecSchema } from "@moby-core/container-runtime-api/v1";

/** The one type URL of a runnable container's spec. */
export const OCI_SPEC_TYPE_URL = "type.googleapis.com/moby.container.runtime.v1.OciSpec";
/** The largest config.json accepted, in bytes. */
export const MAX_SPEC_JSON_BYTES = 1024 * 1024;
/** The ociVersion values accepted: 1.x.y, with an optional pre-release or build suffix. */
const OCI_VERSION = /^1\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:[-+][0-9A-Za-z.+-]*)?$/;

const FIELD = "spec";

/** A checked spec: the document as given (written byte for byte) and its parsed form. */
export interface CheckedSpec {
  json: Uint8Array;
  document: JsonObject;
  /** The spec's process member. */
  process: JsonObject;
}

function invalid(reason: string): InvalidArgumentError {
  return new InvalidArgumentError(FIELD, reason);
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The config.json bytes of a container record's spec, or INVALID_ARGUMENT naming what is wrong. */
export function specJsonFromAny(spec: Any | undefined): Uint8Array {
  if (spec === undefined || spec.typeUrl === "") {
    throw invalid(`the container has no spec; this runtime runs a spec of type ${JSON.stringify(OCI_SPEC_TYPE_URL)}`);
  }
  if (spec.typeUrl !== OCI_SPEC_TYPE_URL) {
    throw invalid(`type URL ${JSON.stringify(spec.typeUrl)} is not ${JSON.stringify(OCI_SPEC_TYPE_URL)}: this runtime runs OCI runtime specs only`);
  }
  try {
    return fromBinary(OciSpecSchema, spec.value).json;
  } catch (error) {
    throw invalid(`the value is not an encoded moby.container.runtime.v1.OciSpec: ${(error as Error).message}`);
  }
}

/** Checks an OCI runtime spec document by the rules of OciSpec, the rootfs included. */
export function checkOciSpec(json: Uint8Array): CheckedSpec {
  if (json.byteLength === 0) throw invalid("json is empty: it must hold an OCI runtime spec (config.json)");
  if (json.byteLength > MAX_SPEC_JSON_BYTES) throw invalid(`json is ${json.byteLength} bytes, more than ${MAX_SPEC_JSON_BYTES}`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(json);
  } catch {
    throw invalid("json is not UTF-8");
  }
  let document: JsonValue;
  try {
    document = JSON.parse(text) as JsonValue;
  } catch (error) {
    throw invalid(`json is not JSON: ${(error as Error).message}`);
  }
  if (!isObject(document)) throw invalid("json is not a JSON object: an OCI runtime spec is an object");

  const version = document.ociVersion;
  if (version === undefined) throw invalid("ociVersion is missing");
  if (typeof version !== "string" || !OCI_VERSION.test(version)) {
    throw invalid(`ociVersion ${JSON.stringify(version)} is not a 1.x version ("1.0.0" to "1.x.y")`);
  }

  const process = document.process;
  if (process === undefined) throw invalid("process is missing");
  if (!isObject(process)) throw invalid("process is not an object");
  const args = process.args;
  if (args === undefined || (Array.isArray(args) && args.length === 0)) throw invalid("process.args is empty: give the program to run");
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === "string")) throw invalid("process.args is not an array of strings");
  if (process.terminal !== undefined && typeof process.terminal !== "boolean") throw invalid("process.terminal is not a boolean");

  const root = document.root;
  if (root === undefined) throw invalid("root is missing: root.path must name the rootfs directory");
  if (!isObject(root)) throw invalid("root is not an object");
  const path = root.path;
  if (path === undefined || path === "") throw invalid("root.path is missing: it must be the absolute path of the rootfs directory");
  if (typeof path !== "string") throw invalid("root.path is not a string");
  if (!isAbsolute(path)) throw invalid(`root.path ${JSON.stringify(path)} is not absolute`);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw invalid(`root.path ${JSON.stringify(path)}: the rootfs does not exist${code === "ENOENT" ? "" : ` (${code})`}`);
  }
  if (!isDirectory) throw invalid(`root.path ${JSON.stringify(path)} is not a directory`);
  return { json, document, process };
}
