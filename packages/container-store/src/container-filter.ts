/**
 * Filters over containers, in the one filter grammar of moby-core (the SDK's
 * parseFilter and matchesFilter), on the fields "id", "image",
 * "runtime.name" and "labels.<key>", where the key's parts are joined with
 * "." (`labels.app.kubernetes.io==x` names the key "app.kubernetes.io"; a
 * part with other characters is quoted: `labels."my key"==x`).
 */
import { matchesFilter, parseFilter } from "@moby-core/sdk/list";
import type { Filter, FilterFields } from "@moby-core/sdk/list";
import type { Container } from "@moby-core/container-store-api/v1";

/** The fields a container filter may name: "labels" takes a key of one or more parts. */
const FIELDS: FilterFields = { exact: ["id", "image", "runtime.name"], prefixes: ["labels"] };

/** Parses a container filter, throwing INVALID_ARGUMENT naming field ("filter") when it breaks a rule. */
export function parseContainerFilter(text: string, field = "filter"): Filter {
  return parseFilter(text, FIELDS, field);
}

/** The label key a labels path names: its parts after "labels", joined with ".". */
function labelKey(path: string[]): string {
  return path.slice(1).join(".");
}

/** Reads a field of a container: undefined when absent (an empty scalar, a label not set; a label set to "" is present). */
function reader(container: Container): (path: string[]) => string | undefined {
  return (path) => {
    if (path[0] === "labels") {
      const key = labelKey(path);
      return Object.hasOwn(container.labels, key) ? container.labels[key] : undefined;
    }
    const field = path.join(".");
    const value = field === "id" ? container.id : field === "image" ? container.image : field === "runtime.name" ? (container.runtime?.name ?? "") : undefined;
    return value === "" ? undefined : value;
  };
}

/** Tells whether a container matches every selector of filter. */
export function matchesContainer(filter: Filter, container: Container): boolean {
  return matchesFilter(filter, reader(container));
}
