/**
 * The shape of a manifest, as a JSON Schema: the one place that says which
 * keys exist, which are required and what type each value has. The checks
 * that need more than one field (requirements, cycles, sockets, maxDelay >=
 * delay) are in parse-manifest.ts.
 *
 * Durations are strings with the format "duration" (see duration.ts), or
 * "positive-duration" when zero makes no sense. A schema node may carry an
 * "x-message": the message shown when the node's check fails.
 */
import { Ajv, type SchemaObject, type ValidateFunction } from "ajv";
import { parseDuration } from "@moby-core/sdk/list";

/** A component's name: lowercase letters, digits and "-", 1-63, starting with a letter. */
export const COMPONENT_NAME_PATTERN = "^[a-z][a-z0-9-]{0,62}$";

/** A fully qualified service name: dotted identifiers, at least a package and a service. */
export const SERVICE_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$";

const duration = { type: "string", format: "duration" } as const;
const positiveDuration = { type: "string", format: "positive-duration" } as const;
const nonEmptyString = { type: "string", minLength: 1 } as const;

const health = {
  type: "object",
  additionalProperties: false,
  properties: {
    interval: positiveDuration,
    timeout: positiveDuration,
    retries: { type: "integer", minimum: 1 },
    startPeriod: duration,
    startInterval: positiveDuration,
  },
} as const;

const restart = {
  type: "object",
  additionalProperties: false,
  properties: {
    policy: { type: "string", enum: ["no", "on-failure", "always"] },
    delay: duration,
    maxDelay: duration,
    startLimitBurst: { type: "integer", minimum: 1 },
    startLimitInterval: positiveDuration,
  },
} as const;

const CAPABILITY_PATTERN = "^CAP_[A-Z_]+$";

const container = {
  type: "object",
  additionalProperties: false,
  required: ["image"],
  properties: {
    image: nonEmptyString,
    ref: nonEmptyString,
    network: { type: "string", enum: ["none", "host"] },
    capabilities: {
      type: "array",
      uniqueItems: true,
      items: { type: "string", pattern: CAPABILITY_PATTERN, "x-message": "is not a capability name (for example CAP_CHOWN)" },
    },
    mounts: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["source"],
        properties: { source: nonEmptyString, target: nonEmptyString, readonly: { type: "boolean" } },
      },
    },
  },
} as const;

const component = {
  type: "object",
  additionalProperties: false,
  properties: {
    container,
    enabled: { type: "boolean" },
    command: { type: "array", minItems: 1, items: nonEmptyString },
    env: {
      type: "object",
      propertyNames: {
        pattern: "^[^=\\u0000]+$",
        "x-message": "is not an environment variable name (not empty, no = in it)",
      },
      additionalProperties: { type: "string" },
    },
    workingDir: nonEmptyString,
    requires: { type: "array", uniqueItems: true, items: nonEmptyString },
    services: {
      type: "array",
      uniqueItems: true,
      items: {
        type: "string",
        pattern: SERVICE_NAME_PATTERN,
        "x-message": "is not a fully qualified service name (for example moby.events.v1.EventsService)",
      },
    },
    socket: nonEmptyString,
    health,
    restart,
    stopTimeout: duration,
    config: { type: "object" },
  },
} as const;

/** The JSON Schema of a manifest. */
export const MANIFEST_SCHEMA: SchemaObject = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "moby-init manifest",
  type: "object",
  additionalProperties: false,
  required: ["components"],
  properties: {
    runDir: nonEmptyString,
    components: {
      type: "object",
      propertyNames: {
        allOf: [
          {
            pattern: COMPONENT_NAME_PATTERN,
            "x-message": 'is not a component name (lowercase letters, digits and "-", 1-63, starting with a letter)',
          },
          { not: { const: "init" }, "x-message": 'is reserved for the supervisor' },
        ],
      },
      additionalProperties: component,
    },
  },
};

let compiled: ValidateFunction | undefined;

/**
 * The compiled check of MANIFEST_SCHEMA: all errors, with the failing schema
 * node and data (verbose) so that they can be turned into messages.
 */
export function manifestValidator(): ValidateFunction {
  if (compiled !== undefined) return compiled;
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
  ajv.addKeyword({ keyword: "x-message", schemaType: "string" });
  ajv.addFormat("duration", { type: "string", validate: (text: string) => parseDuration(text) !== undefined });
  ajv.addFormat("positive-duration", {
    type: "string",
    validate: (text: string) => (parseDuration(text) ?? 0) > 0,
  });
  compiled = ajv.compile(MANIFEST_SCHEMA);
  return compiled;
}
