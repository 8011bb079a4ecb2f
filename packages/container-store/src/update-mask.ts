/**
 * UpdateContainer's field mask: which paths it accepts, and how they are
 * applied to a stored record. A path outside the accepted set is
 * INVALID_ARGUMENT naming "update_mask".
 */
import { clone, create } from "@bufbuild/protobuf";
import type { FieldMask } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "@moby-core/sdk";
import { ContainerSchema, RuntimeSchema } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { copyAny, copyMap, setEntry } from "./container-record.js";

/** The request field masks are checked as. */
const FIELD = "update_mask";

/** Paths that name a whole field. */
const WHOLE = ["labels", "extensions", "spec", "image", "runtime.options"] as const;
/** Map fields whose entries can be named one by one ("labels.<key>"). */
const MAPS = ["labels", "extensions"] as const;
/** Paths that name fields the caller may not change, with why. */
const REFUSED: Record<string, string> = {
  id: "is immutable",
  "runtime.name": "is immutable",
  runtime: 'is not accepted: runtime.name is immutable; name "runtime.options" to change the options',
  created_at: "is output only",
  updated_at: "is output only",
  revision: "is output only",
  "*": 'is not accepted: name each field to change',
};

/** One accepted mask path. */
export type MaskPath =
  | { field: (typeof WHOLE)[number]; path: string }
  | { field: (typeof MAPS)[number]; key: string; path: string };

const DESCRIBED = "labels, labels.<key>, extensions, extensions.<key>, spec, image and runtime.options";

/** Reads one path, or throws naming update_mask. */
function readPath(path: string): MaskPath {
  const refused = REFUSED[path];
  if (refused !== undefined) throw new InvalidArgumentError(FIELD, `${JSON.stringify(path)} ${refused}`);
  if ((WHOLE as readonly string[]).includes(path)) return { field: path as (typeof WHOLE)[number], path };
  for (const map of MAPS) {
    if (path.startsWith(`${map}.`)) {
      const key = path.slice(map.length + 1);
      if (key === "") throw new InvalidArgumentError(FIELD, `${JSON.stringify(path)} names no key`);
      return { field: map, key, path };
    }
  }
  throw new InvalidArgumentError(FIELD, `unknown path ${JSON.stringify(path)}; the accepted paths are ${DESCRIBED}`);
}

/**
 * Checks an update mask and returns its paths in the order given: required,
 * every path accepted, none repeated, and no whole map together with one of
 * its own keys.
 */
export function parseUpdateMask(mask: FieldMask | undefined): MaskPath[] {
  if (mask === undefined || mask.paths.length === 0) throw new InvalidArgumentError(FIELD, "required: name the fields to change");
  const seen = new Set<string>();
  const paths = mask.paths.map((path) => {
    if (seen.has(path)) throw new InvalidArgumentError(FIELD, `${JSON.stringify(path)} is repeated`);
    seen.add(path);
    return readPath(path);
  });
  for (const map of MAPS) {
    const entry = paths.find((p) => "key" in p && p.field === map);
    if (seen.has(map) && entry !== undefined) {
      throw new InvalidArgumentError(FIELD, `${JSON.stringify(map)} and ${JSON.stringify(entry.path)} overlap: name the whole map or its keys`);
    }
  }
  return paths;
}

/** The record that results from applying the masked fields of input to current; current is not changed. */
export function applyUpdateMask(current: Container, input: Container, paths: MaskPath[]): Container {
  const next = clone(ContainerSchema, current);
  for (const mask of paths) {
    if ("key" in mask) {
      const source: Record<string, unknown> = mask.field === "labels" ? input.labels : input.extensions;
      const target: Record<string, unknown> = mask.field === "labels" ? next.labels : next.extensions;
      if (Object.hasOwn(source, mask.key)) {
        const value = source[mask.key];
        setEntry(target, mask.key, mask.field === "labels" ? value : copyAny(value as Container["extensions"][string]));
      } else {
        delete target[mask.key];
      }
      continue;
    }
    switch (mask.field) {
      case "labels":
        next.labels = copyMap(input.labels, (value) => value);
        break;
      case "extensions":
        next.extensions = copyMap(input.extensions, copyAny);
        break;
      case "spec":
        next.spec = input.spec === undefined ? undefined : copyAny(input.spec);
        break;
      case "image":
        next.image = input.image;
        break;
      case "runtime.options": {
        const options = input.runtime?.options;
        next.runtime ??= create(RuntimeSchema);
        next.runtime.options = options === undefined ? undefined : copyAny(options);
        break;
      }
    }
  }
  return next;
}

/** The mask's paths sorted, as events report them. */
export function sortedPaths(paths: MaskPath[]): string[] {
  return paths.map((p) => p.path).sort();
}
