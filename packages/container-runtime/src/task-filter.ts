/**
 * ListTasks filters: moby-core's filter grammar over two fields, `id` and
 * `status` (a Status name without its prefix, in lowercase). At most 1024
 * bytes; an unknown field, an unknown status value or a malformed term is
 * INVALID_ARGUMENT naming "filter".
 */
import { InvalidArgumentError } from "@moby-core/sdk";
import { matchesFilter, parseFilter } from "@moby-core/sdk/list";
import type { Filter } from "@moby-core/sdk/list";
import { Status } from "@moby-core/container-runtime-api/v1";

/** The longest filter, in bytes. */
export const MAX_TASK_FILTER_BYTES = 1024;

/** The filter value of each status. */
export const STATUS_NAMES: Record<Exclude<Status, Status.UNSPECIFIED>, string> = {
  [Status.CREATED]: "created",
  [Status.RUNNING]: "running",
  [Status.STOPPED]: "stopped",
  [Status.PAUSED]: "paused",
  [Status.PAUSING]: "pausing",
};

const KNOWN = new Set(Object.values(STATUS_NAMES));

/** Parses a ListTasks filter. */
export function parseTaskFilter(text: string): Filter {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_TASK_FILTER_BYTES) throw new InvalidArgumentError("filter", `is ${bytes} bytes, more than ${MAX_TASK_FILTER_BYTES}`);
  const filter = parseFilter(text, { exact: ["id", "status"] }, "filter");
  for (const selector of filter.selectors) {
    if (selector.path[0] === "status" && (selector.operator === "==" || selector.operator === "!=") && !KNOWN.has(selector.value)) {
      throw new InvalidArgumentError(
        "filter",
        `unknown status ${JSON.stringify(selector.value)}; the statuses are ${[...KNOWN].join(", ")}`,
      );
    }
  }
  return filter;
}

/** Tells whether a task with id and status matches filter. */
export function taskMatches(filter: Filter, id: string, status: Status): boolean {
  const statusName = status === Status.UNSPECIFIED ? "" : STATUS_NAMES[status];
  return matchesFilter(filter, (path) => (path[0] === "id" ? id : path[0] === "status" ? statusName : undefined));
}
