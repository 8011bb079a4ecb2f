/**
 * Reads a manifest (moby.yaml) and checks all of it before anything starts.
 *
 * The format, keys in camelCase, durations as strings such as "5s":
 *
 *     runDir: /run/moby                  # optional; --run-dir wins; relative to the manifest's directory
 *     components:
 *       events:
 *         enabled: true                  # optional; false declares the component but does not run it
 *         command: [node, main.js]       # required, non-empty list of strings
 *         env: { KEY: value }            # optional, string values
 *         workingDir: .                  # optional, relative to the manifest's directory
 *         requires: [container-store]    # optional, declared components (or "init")
 *         services: [moby.events.v1.EventsService]
 *         socket: events.sock            # optional, relative to the run dir; default <runDir>/<name>.sock
 *         health: { interval: 5s, timeout: 2s, retries: 3, startPeriod: 30s, startInterval: 100ms }
 *         restart: { policy: on-failure, delay: 100ms, maxDelay: 10s, startLimitBurst: 5, startLimitInterval: 60s }
 *         stopTimeout: 10s
 *         config: { any: json }          # optional, passed to the component as JSON
 *         container:                     # optional: run contained, from an image (then command is optional)
 *           image: images/events         # required, an OCI image layout directory (npm run images)
 *           ref: moby-core/events:0.1.0  # optional, the image's name in the layout
 *           network: none                # none (default: own network namespace) or host
 *           capabilities: [CAP_CHOWN]    # optional, kept; every other is dropped
 *           mounts: [{ source: /srv, target: /srv, readonly: true }]   # optional extra binds
 *
 * The text is parsed with the yaml library (YAML 1.2 core schema, so `no` is
 * the string "no") keeping every node's place, the shape is checked against
 * MANIFEST_SCHEMA (manifest-schema.ts), then the checks across fields run:
 * duplicate keys and names, requirements and cycles, sockets, maxDelay >=
 * delay. Every problem is collected, with its line, column and field, and
 * they come back sorted by line; a manifest comes back only when there is none.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import { formatDuration, notADurationMessage, parseDuration } from "@moby-core/sdk/list";
import { defaultRunDir, initSocket } from "@moby-core/sdk/internal";
import type { ErrorObject } from "ajv";
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type ParsedNode,
  type YAMLError,
} from "yaml";
import { checkDependencies, formatCycle } from "./dependency-order.js";
import {
  type ComponentSpec,
  type ContainerMount,
  type ContainerSpec,
  DEFAULTS,
  type HealthPolicy,
  INIT_NAME,
  type Manifest,
  type ManifestProblem,
  type RestartMode,
  type RestartPolicy,
} from "./manifest.js";
import { manifestValidator } from "./manifest-schema.js";

/** Options of parseManifest and loadManifest. */
export interface ParseManifestOptions {
  /** The run directory from the command line (--run-dir): wins over the manifest's runDir; relative to the current directory. */
  runDir?: string;
}

/** A checked manifest, or every problem found in it. */
export type ParseManifestResult = { manifest: Manifest } | { problems: ManifestProblem[] };

/** The longest path of a unix socket, in bytes (sun_path less its terminating NUL). */
const MAX_SOCKET_PATH_BYTES = process.platform === "linux" ? 107 : 103;

/** Reads the manifest `file` and parses it: see parseManifest. */
export async function loadManifest(file: string, options: ParseManifestOptions = {}): Promise<ParseManifestResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { problems: [{ line: 0, column: 0, field: "", message: `cannot read the manifest: ${reason}` }] };
  }
  return parseManifest(text, file, options);
}

/** The problems as text, one line each: `moby.yaml:12:5: components.events.health.interval: message`. */
export function formatProblems(file: string, problems: readonly ManifestProblem[]): string {
  return problems
    .map((problem) => {
      const where = problem.line > 0 ? `${file}:${problem.line}:${problem.column}` : file;
      const field = problem.field === "" ? "" : `${problem.field}: `;
      return `${where}: ${field}${problem.message}`;
    })
    .join("\n");
}

/**
 * Parses and checks the manifest `text`, read from `file` (relative paths in
 * the manifest resolve against the file's directory). The run directory is
 * options.runDir, else the manifest's runDir, else defaultRunDir().
 */
export function parseManifest(text: string, file: string, options: ParseManifestOptions = {}): ParseManifestResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, version: "1.2" });
  const source = new Source(doc, lineCounter);

  // Syntax first: on a broken document the other checks would only add noise.
  const syntax = [...doc.errors, ...doc.warnings].map((error) => source.syntaxProblem(error));
  if (syntax.length > 0) return { problems: sortProblems(syntax) };
  if (doc.contents === null) {
    return { problems: [{ line: 0, column: 0, field: "", message: "the manifest is empty: it must declare components" }] };
  }

  const problems: ManifestProblem[] = [];
  problems.push(...duplicateKeys(source));

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    problems.push({ line: 0, column: 0, field: "", message: reason });
    return { problems: sortProblems(problems) };
  }

  const validate = manifestValidator();
  if (!validate(data)) {
    for (const error of validate.errors ?? []) {
      const problem = schemaProblem(source, data, error);
      if (problem !== undefined) problems.push(problem);
    }
  }

  const manifest = build(source, data, file, options, problems);
  if (problems.length > 0) return { problems: sortProblems(problems) };
  return { manifest };
}

// ---------------------------------------------------------------------------
// Where things are in the YAML text.

type Segment = string | number;

/** The parsed document and its nodes' places. */
class Source {
  constructor(
    readonly doc: Document.Parsed,
    private readonly lineCounter: LineCounter,
  ) {}

  /** The 1-based line and column of an offset in the text. */
  position(offset: number): { line: number; column: number } {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  /** The position of a node, or undefined when it has none. */
  positionOf(node: unknown): { line: number; column: number } | undefined {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range === undefined ? undefined : this.position(range[0]);
  }

  /** A YAML syntax error (or warning) as a problem. */
  syntaxProblem(error: YAMLError): ManifestProblem {
    const message =
      error.code === "MULTIPLE_DOCS"
        ? "a manifest is a single YAML document (remove the second ---)"
        : (error.message.split("\n")[0] ?? error.message);
    return { ...this.position(error.pos[0]), field: "", message };
  }

  /**
   * The nodes along `path`: for each segment found, its key node (the item
   * itself for a list) and value node. Stops at the first segment not found.
   */
  walk(path: readonly Segment[]): { key: unknown; value: unknown }[] {
    const found: { key: unknown; value: unknown }[] = [];
    let node: unknown = this.doc.contents;
    for (const segment of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (pair === undefined) break;
        found.push({ key: pair.key, value: pair.value });
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)];
        if (item === undefined) break;
        found.push({ key: item, value: item });
        node = item;
      } else break;
    }
    return found;
  }

  /**
   * The position of the field at `path`: of its key (`at: "key"`) or its
   * value (`at: "value"`, the default), else of the nearest node found on
   * the way there.
   */
  locate(path: readonly Segment[], at: "key" | "value" = "value"): { line: number; column: number } {
    const found = this.walk(path);
    if (found.length === path.length) {
      const last = found[found.length - 1];
      const preferred = at === "key" ? last?.key : last?.value;
      const position = this.positionOf(preferred) ?? this.positionOf(last?.key);
      if (position !== undefined) return position;
    }
    for (let i = found.length - 1; i >= 0; i--) {
      const position = this.positionOf(found[i]?.key);
      if (position !== undefined) return position;
    }
    return this.positionOf(this.doc.contents) ?? { line: 0, column: 0 };
  }

  /** A problem at `path`. */
  problem(path: readonly Segment[], message: string, at: "key" | "value" = "value"): ManifestProblem {
    return { ...this.locate(path, at), field: fieldOf(path), message };
  }
}

/** The dotted field of a path; list indexes are left out (the line and column tell the item). */
function fieldOf(path: readonly Segment[]): string {
  return path.filter((segment) => typeof segment === "string").join(".");
}

/** Problems sorted by line and column, keeping the order of those on one spot. */
function sortProblems(problems: ManifestProblem[]): ManifestProblem[] {
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => a.problem.line - b.problem.line || a.problem.column - b.problem.column || a.index - b.index)
    .map(({ problem }) => problem);
}

// ---------------------------------------------------------------------------
// Duplicate keys: the yaml library is told to keep them, and they are
// reported here with the field they are on. The first of them stands: the
// later ones are reported, then removed from the document, so that the rest
// of the checks (and the positions they report) see the first.

function duplicateKeys(source: Source): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const visit = (node: unknown, path: string[]): void => {
    if (isMap(node)) {
      const seen = new Map<string, unknown>();
      const later: unknown[] = [];
      for (const pair of node.items) {
        if (!isScalar(pair.key)) {
          const position = source.positionOf(pair.key) ?? source.locate(path, "key");
          problems.push({ ...position, field: fieldOf(path), message: "a key must be a plain string" });
          continue;
        }
        const key = String(pair.key.value);
        const first = seen.get(key);
        if (first !== undefined) {
          const firstLine = source.positionOf(first)?.line ?? 0;
          const message =
            path.length === 1 && path[0] === "components"
              ? `two components named "${key}" (the first on line ${firstLine})`
              : `duplicate key "${key}" (the first on line ${firstLine})`;
          problems.push({ ...(source.positionOf(pair.key) ?? { line: 0, column: 0 }), field: fieldOf([...path, key]), message });
          later.push(pair);
          continue;
        }
        seen.set(key, pair.key);
        visit(pair.value, [...path, key]);
      }
      node.items = node.items.filter((pair) => !later.includes(pair));
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item, path);
    }
  };
  visit(source.doc.contents as ParsedNode | null, []);
  return problems;
}

// ---------------------------------------------------------------------------
// Schema errors as problems.

/** The segments of a JSON pointer, with indexes of arrays as numbers. */
function pointerSegments(pointer: string, data: unknown): Segment[] {
  if (pointer === "") return [];
  const segments: Segment[] = [];
  let value = data;
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(value)) {
      segments.push(Number(segment));
      value = value[Number(segment)];
    } else {
      segments.push(segment);
      value = isObject(value) ? value[segment] : undefined;
    }
  }
  return segments;
}

/** A value as a message shows it. */
function show(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
  object: "a map",
  array: "a list",
};

/** The closest of `candidates` to `word`, when it is close enough to be a likely typo. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function schemaProblem(source: Source, data: unknown, error: ErrorObject): ManifestProblem | undefined {
  const path = pointerSegments(error.instancePath, data);
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>;
  const custom = typeof parent["x-message"] === "string" ? parent["x-message"] : undefined;
  const params = error.params as Record<string, unknown>;

  // An error inside propertyNames: about a key, not a value.
  const propertyName = (error as { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    return source.problem([...path, propertyName], `${JSON.stringify(propertyName)} ${custom ?? error.message ?? "is not allowed"}`, "key");
  }

  switch (error.keyword) {
    case "propertyNames":
    case "allOf":
      return undefined; // summaries of the errors reported on their own
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const known = Object.keys((parent.properties ?? {}) as Record<string, unknown>);
      const suggestion = closest(key, known);
      const hint = suggestion === undefined ? "" : ` (did you mean "${suggestion}"?)`;
      return source.problem([...path, key], `unknown key "${key}"${hint}`, "key");
    }
    case "required": {
      const missing = String(params.missingProperty);
      const problem = source.problem(path, `required, but missing`, "key");
      return { ...problem, field: fieldOf([...path, missing]) };
    }
    case "type": {
      if (parent.format === "duration" || parent.format === "positive-duration") {
        return source.problem(path, notADurationMessage(error.data));
      }
      const expected = TYPE_NAMES[String(params.type)] ?? String(params.type);
      const value = error.data;
      if (value === null || value === undefined) return source.problem(path, `has no value (expected ${expected})`);
      if (typeof value === "object") return source.problem(path, `expected ${expected}, not ${show(value)}`);
      const quote = params.type === "string" ? ` (write it in quotes: "${String(value)}")` : "";
      return source.problem(path, `${show(value)} is not ${expected}${quote}`);
    }
    case "format": {
      if (params.format === "positive-duration" && parseDuration(String(error.data)) === 0) {
        return source.problem(path, `must be more than 0`);
      }
      return source.problem(path, notADurationMessage(error.data));
    }
    case "enum": {
      const allowed = ((params.allowedValues ?? []) as unknown[]).map(String).join(", ");
      return source.problem(path, `${show(error.data)} is not one of: ${allowed}`);
    }
    case "minItems":
    case "minLength":
      return source.problem(path, "must not be empty");
    case "minimum":
      return source.problem(path, `${show(error.data)} is less than ${String(params.limit)}`);
    case "pattern":
      return source.problem(path, `${show(error.data)} ${custom ?? `does not match ${String(params.pattern)}`}`);
    case "uniqueItems": {
      const later = Math.max(Number(params.i), Number(params.j));
      const data: unknown = error.data;
      const item: unknown = Array.isArray(data) ? data[later] : undefined;
      return source.problem([...path, later], `${show(item)} is listed twice`);
    }
    default:
      return source.problem(path, custom ?? error.message ?? `is not valid (${error.keyword})`);
  }
}

// ---------------------------------------------------------------------------
// The manifest, and the checks across fields.

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A duration field in milliseconds, or its default when absent or not valid (the schema reported it). */
function durationOf(value: unknown, fallback: number): number {
  return typeof value === "string" ? (parseDuration(value) ?? fallback) : fallback;
}

function integerOf(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 ? value : fallback;
}

function build(
  source: Source,
  data: unknown,
  file: string,
  options: ParseManifestOptions,
  problems: ManifestProblem[],
): Manifest {
  const manifestFile = resolve(file);
  const baseDir = dirname(manifestFile);
  const root = isObject(data) ? data : {};
  const declaredRunDir = text(root.runDir);
  const runDir =
    options.runDir !== undefined && options.runDir !== ""
      ? resolve(options.runDir)
      : declaredRunDir !== undefined
        ? resolve(baseDir, declaredRunDir)
        : defaultRunDir();

  const components: ComponentSpec[] = [];
  const declared = isObject(root.components) ? root.components : {};
  const ownSocket = initSocket(runDir);
  const sockets = new Map<string, string>();

  const disabled = new Set(Object.entries(declared).filter(([, raw]) => isObject(raw) && raw.enabled === false).map(([name]) => name));
  for (const [name, raw] of Object.entries(declared)) {
    const spec = isObject(raw) ? raw : {};
    if (disabled.has(name)) continue; // declared and checked, not run
    const at = (...rest: Segment[]): Segment[] => ["components", name, ...rest];
    const health = isObject(spec.health) ? spec.health : {};
    const restart = isObject(spec.restart) ? spec.restart : {};

    const restartPolicy: RestartPolicy = {
      mode: (["no", "on-failure", "always"].includes(String(restart.policy))
        ? restart.policy
        : DEFAULTS.restart.mode) as RestartMode,
      delayMs: durationOf(restart.delay, DEFAULTS.restart.delayMs),
      maxDelayMs: durationOf(restart.maxDelay, DEFAULTS.restart.maxDelayMs),
      startLimitBurst: integerOf(restart.startLimitBurst, DEFAULTS.restart.startLimitBurst),
      startLimitIntervalMs: durationOf(restart.startLimitInterval, DEFAULTS.restart.startLimitIntervalMs),
    };
    if (restartPolicy.maxDelayMs < restartPolicy.delayMs) {
      const field = restart.maxDelay !== undefined ? "maxDelay" : "delay";
      problems.push(
        source.problem(
          at("restart", field),
          `maxDelay (${formatDuration(restartPolicy.maxDelayMs)}) must not be less than delay (${formatDuration(restartPolicy.delayMs)})`,
        ),
      );
    }

    const healthPolicy: HealthPolicy = {
      intervalMs: durationOf(health.interval, DEFAULTS.health.intervalMs),
      timeoutMs: durationOf(health.timeout, DEFAULTS.health.timeoutMs),
      retries: integerOf(health.retries, DEFAULTS.health.retries),
      startPeriodMs: durationOf(health.startPeriod, DEFAULTS.health.startPeriodMs),
      startIntervalMs: durationOf(health.startInterval, DEFAULTS.health.startIntervalMs),
    };

    const declaredSocket = text(spec.socket);
    const socket = resolve(runDir, declaredSocket ?? (isObject(spec.container) ? containedSocket(name) : `${name}.sock`));
    const socketPath = declaredSocket !== undefined ? at("socket") : at();
    const socketAt = declaredSocket !== undefined ? "value" : "key";
    const other = sockets.get(socket);
    if (other !== undefined) {
      problems.push(source.problem(socketPath, `socket ${socket} is also the socket of component "${other}"`, socketAt));
    } else if (socket === ownSocket && name !== INIT_NAME) {
      problems.push(source.problem(socketPath, `socket ${socket} is init's own socket`, socketAt));
    } else sockets.set(socket, name);
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
      problems.push(
        source.problem(
          socketPath,
          `socket ${socket} is ${Buffer.byteLength(socket)} bytes long; a unix socket's path may have at most ${MAX_SOCKET_PATH_BYTES}`,
          socketAt,
        ),
      );
    }

    const container = isObject(spec.container) ? containerOf(source, spec.container, at("container"), baseDir, problems) : undefined;
    if (container === undefined && spec.command === undefined) {
      problems.push({ ...source.problem(at(), "required, but missing", "key"), field: fieldOf(at("command")) });
    }
    if (container !== undefined && text(spec.workingDir) !== undefined) {
      problems.push(source.problem(at("workingDir"), "a contained component starts in its image's working directory: remove workingDir (it names a host directory)", "key"));
    }
    if (container !== undefined && dirname(socket) === runDir) {
      problems.push(
        source.problem(socketPath, `a contained component's socket must be in a directory of its own (for example ${name}/${name}.sock), as that directory is mounted into its container`, socketAt),
      );
    }

    const env: Record<string, string> = {};
    if (isObject(spec.env)) {
      for (const [key, value] of Object.entries(spec.env)) if (typeof value === "string") env[key] = value;
    }

    components.push({
      name,
      command: strings(spec.command),
      env,
      workingDir: resolve(baseDir, text(spec.workingDir) ?? "."),
      requires: strings(spec.requires),
      services: strings(spec.services),
      socket,
      health: healthPolicy,
      restart: restartPolicy,
      stopTimeoutMs: durationOf(spec.stopTimeout, DEFAULTS.stopTimeoutMs),
      config: (isObject(spec.config) ? spec.config : {}) as JsonObject,
      ...(container === undefined ? {} : { container }),
    });
  }

  // Requirements: a requirement that is not a string (reported by the schema)
  // stands in as "init", which the graph ignores, so indexes stay right.
  const nodes = Object.entries(declared).map(([name, raw]) => ({
    name,
    requires: isObject(raw) && Array.isArray(raw.requires)
      ? raw.requires.map((item: unknown) => (typeof item === "string" ? item : INIT_NAME))
      : [],
  }));
  for (const node of nodes) {
    if (disabled.has(node.name)) continue;
    node.requires.forEach((requirement, index) => {
      if (disabled.has(requirement)) {
        problems.push(source.problem(["components", node.name, "requires", index], `"${requirement}" is disabled (enabled: false): enable it, or remove the requirement`));
      }
    });
  }
  for (const problem of checkDependencies(nodes)) {
    switch (problem.kind) {
      case "unknown":
        problems.push(
          source.problem(
            ["components", problem.component, "requires", problem.index],
            `"${problem.requirement}" is not a declared component`,
          ),
        );
        break;
      case "self":
        problems.push(
          source.problem(
            ["components", problem.component, "requires", problem.index],
            `"${problem.component}" requires itself`,
          ),
        );
        break;
      case "cycle": {
        const [first, second] = problem.cycle;
        const requires = nodes.find((node) => node.name === first)?.requires ?? [];
        const index = requires.indexOf(second ?? first ?? "");
        problems.push(
          source.problem(["components", first ?? "", "requires", index], `dependency cycle: ${formatCycle(problem.cycle)}`),
        );
        break;
      }
    }
  }

  return { file: manifestFile, runDir, components };
}

/** The default socket of a contained component, relative to the run directory: in a directory of its own, mounted into its container. */
export function containedSocket(name: string): string {
  return `sockets/${name}/${name}.sock`;
}

/** The container section of a component; problems for an image that is not an OCI image layout and for relative mount paths. */
function containerOf(source: Source, raw: Record<string, unknown>, at: Segment[], baseDir: string, problems: ManifestProblem[]): ContainerSpec {
  const image = resolve(baseDir, text(raw.image) ?? ".");
  if (text(raw.image) !== undefined && !existsSync(join(image, "oci-layout"))) {
    problems.push(source.problem([...at, "image"], `${image} is not an OCI image layout (no oci-layout file in it); build the images with \`npm run images\``));
  }
  const mounts: ContainerMount[] = [];
  (Array.isArray(raw.mounts) ? raw.mounts : []).forEach((item: unknown, index) => {
    if (!isObject(item)) return;
    const mountSource = text(item.source);
    const target = text(item.target) ?? mountSource;
    for (const [key, value] of [["source", mountSource], ["target", target]] as const) {
      if (value !== undefined && !isAbsolute(value)) problems.push(source.problem([...at, "mounts", index, key], `${JSON.stringify(value)} is not an absolute path`));
    }
    if (mountSource !== undefined && target !== undefined) mounts.push({ source: mountSource, target, readonly: item.readonly !== false });
  });
  return {
    image,
    ref: text(raw.ref) ?? "",
    network: raw.network === "host" ? "host" : "none",
    capabilities: strings(raw.capabilities),
    mounts,
  };
}
