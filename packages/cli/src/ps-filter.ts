/**
 * The filters of `moby ps --filter`, in either of two forms, told apart by
 * their text:
 *
 * - docker's `key=value` (one "=" after a plain key): `id=PREFIX`,
 *   `name=TEXT` (the id contains it; a container's name is its id here),
 *   `label=KEY` or `label=KEY=VALUE`, `status=created|running|paused|
 *   pausing|restarting|exited` (`stopped` is the same as `exited`). As docker's: the
 *   values of one key are OR-ed, different keys AND-ed.
 * - moby-core's (containerd's) grammar: `status==running`,
 *   `labels.app==web,id~=^web-`, `exitCode!=0`; over the fields id, status,
 *   pid, exitCode, signal, image, runtime and labels.KEY. Several are OR-ed.
 *
 * A container must match the docker part and, when there are any, one of
 * the grammar filters.
 */
import { InvalidArgumentError } from "commander";
import { matchesFilter, parseFilter } from "@moby-core/sdk/list";
import type { Filter } from "@moby-core/sdk/list";
import type { ContainerJson } from "./containers-table.js";

/** The keys of docker's form. */
export const DOCKER_KEYS = ["id", "name", "label", "status"] as const;

/** The status values of docker's form; exited and stopped both mean the task's STOPPED. */
export const DOCKER_STATUSES: Readonly<Record<string, string>> = {
  created: "created",
  running: "running",
  paused: "paused",
  pausing: "pausing",
  restarting: "restarting",
  exited: "stopped",
  stopped: "stopped",
};

/** The fields the grammar form may name. */
const GRAMMAR_FIELDS = { exact: ["id", "status", "pid", "exitCode", "signal", "image", "runtime"], prefixes: ["labels"] };

/** The parsed filters of one `moby ps`. */
export interface PsFilters {
  /** docker's form: key to its values (OR-ed), keys AND-ed. */
  docker: Map<string, string[]>;
  /** The grammar form, OR-ed. */
  grammar: Filter[];
}

/** No filter: every container. */
export function noPsFilters(): PsFilters {
  return { docker: new Map(), grammar: [] };
}

/** Whether text is docker's `key=value` form: a plain key, then one "=" not followed by another. */
export function isDockerForm(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_-]*=(?!=)/.test(text);
}

/** Adds one --filter value to filters (a commander collector); a bad one is a usage error naming what was wrong. */
export function collectPsFilter(text: string, filters: PsFilters = noPsFilters()): PsFilters {
  if (isDockerForm(text)) {
    const at = text.indexOf("=");
    const key = text.slice(0, at);
    let value = text.slice(at + 1);
    if (!(DOCKER_KEYS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(`${JSON.stringify(text)}: unknown filter key ${JSON.stringify(key)}; the keys are ${DOCKER_KEYS.join(", ")} (or write the grammar, e.g. labels.app==web)`);
    }
    if (key === "status") {
      const status = DOCKER_STATUSES[value];
      if (status === undefined) throw new InvalidArgumentError(`${JSON.stringify(text)}: unknown status; the statuses are ${Object.keys(DOCKER_STATUSES).join(", ")}`);
      value = status;
    }
    const docker = new Map(filters.docker);
    docker.set(key, [...(docker.get(key) ?? []), value]);
    return { docker, grammar: filters.grammar };
  }
  try {
    return { docker: filters.docker, grammar: [...filters.grammar, parseFilter(text, GRAMMAR_FIELDS, "--filter")] };
  } catch (error) {
    throw new InvalidArgumentError(`${JSON.stringify(text)}: ${(error as Error).message}; docker's key=value works too (id, name, label, status)`);
  }
}

/** Whether the filters name a status: then `moby ps` looks at every container, as docker's does. */
export function namesStatus(filters: PsFilters): boolean {
  return filters.docker.has("status") || filters.grammar.some((f) => f.selectors.some((s) => s.path[0] === "status"));
}

/** Whether one docker key's value matches the container. */
function dockerMatch(key: string, value: string, row: ContainerJson): boolean {
  switch (key) {
    case "id":
      return row.id.startsWith(value);
    case "name":
      return row.id.includes(value);
    case "status":
      return row.status === value;
    default: {
      const at = value.indexOf("=");
      return at < 0 ? value in row.labels : row.labels[value.slice(0, at)] === value.slice(at + 1);
    }
  }
}

/** A field of a container for the grammar form; undefined when absent (null). */
function readField(row: ContainerJson, path: string[]): string | undefined {
  if (path[0] === "labels") return row.labels[path.slice(1).join(".")];
  const value = (row as unknown as Record<string, unknown>)[path[0] ?? ""];
  return value === null || value === undefined ? undefined : String(value);
}

/** Whether the container matches the filters (see the top of this file). */
export function matchesPsFilters(filters: PsFilters, row: ContainerJson): boolean {
  for (const [key, values] of filters.docker) if (!values.some((value) => dockerMatch(key, value, row))) return false;
  return filters.grammar.length === 0 || filters.grammar.some((filter) => matchesFilter(filter, (path) => readField(row, path)));
}
