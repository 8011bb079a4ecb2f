/**
 * The filters of `moby events --filter`: moby-core's grammar (containerd's,
 * `topic~="^/containers/"`, `source==init,topic==/components/ready`), sent
 * as is, or docker's `key=value` for the keys the events component knows,
 * `topic` and `source`, turned into the grammar with docker's meaning: the
 * values of one key OR-ed, different keys AND-ed (and AND-ed with each
 * grammar filter given beside them).
 */
import { InvalidArgumentError } from "commander";
import { isDockerForm } from "./ps-filter.js";

/** The keys of docker's form `moby events` accepts: the events component's fields. */
export const EVENT_KEYS = ["topic", "source"] as const;

/** A commander collector of --filter values: each kept as given, a docker key=value checked for its key. */
export function collectEventFilter(text: string, previous: string[] = []): string[] {
  if (isDockerForm(text)) {
    const key = text.slice(0, text.indexOf("="));
    if (!(EVENT_KEYS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(`${JSON.stringify(text)}: unknown filter key ${JSON.stringify(key)}; the keys are ${EVENT_KEYS.join(", ")} (or write the grammar, e.g. topic~="^/containers/")`);
    }
  }
  return [...previous, text];
}

/**
 * The filters to send the events component (OR-ed, each an AND of
 * selectors): the docker-form values expanded into every combination of
 * one value per key, each AND-ed with every grammar filter.
 */
export function eventFilters(values: readonly string[]): string[] {
  const grammar = values.filter((v) => !isDockerForm(v));
  const byKey = new Map<string, string[]>();
  for (const value of values.filter(isDockerForm)) {
    const at = value.indexOf("=");
    const key = value.slice(0, at);
    byKey.set(key, [...(byKey.get(key) ?? []), `${key}==${JSON.stringify(value.slice(at + 1))}`]);
  }
  let combinations = [""];
  for (const selectors of byKey.values()) combinations = combinations.flatMap((prefix) => selectors.map((s) => (prefix === "" ? s : `${prefix},${s}`)));
  if (byKey.size === 0) return grammar;
  if (grammar.length === 0) return combinations;
  return combinations.flatMap((docker) => grammar.map((g) => `${docker},${g}`));
}
