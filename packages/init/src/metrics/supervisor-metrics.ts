/**
 * init's own metrics, about the components it supervises: their state and
 * health (one series per value, 1 for the current one, as kube-state-metrics
 * does for a pod's phase), how often init restarted them, and how often a
 * component hit its start limit. Registered in init's component metrics,
 * read from the supervisor when scraped.
 */
import { Health } from "@moby-core/component-api/v1";
import type { ComponentMetrics } from "@moby-core/sdk";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import type { Supervisor } from "../supervisor/supervisor.js";

/** The label values of an enum: its value names, lowercase, without UNSPECIFIED. */
function valueNames(enumObject: Record<string, string | number>): [number, string][] {
  return Object.entries(enumObject)
    .filter((entry): entry is [string, number] => typeof entry[1] === "number" && entry[0] !== "UNSPECIFIED")
    .map(([name, value]) => [value, name.toLowerCase()]);
}

const STATES = valueNames(ComponentState as unknown as Record<string, string | number>);
const HEALTHS = valueNames(Health as unknown as Record<string, string | number>);

/** Registers init's metrics about supervisor's components in metrics. */
export function registerSupervisorMetrics(metrics: ComponentMetrics, supervisor: Supervisor): void {
  const runners = supervisor.runners;
  metrics.gauge({
    name: "moby_init_component_state",
    help: "The supervised state of each component: 1 for its current state, 0 for the others.",
    labelNames: ["name", "state"] as const,
    collect() {
      for (const runner of runners) {
        for (const [value, state] of STATES) this.set({ name: runner.spec.name, state }, runner.state === value ? 1 : 0);
      }
    },
  });
  metrics.gauge({
    name: "moby_init_component_health",
    help: "The health of each component as init last observed it: 1 for its current health, 0 for the others (all 0 while unknown).",
    labelNames: ["name", "health"] as const,
    collect() {
      for (const runner of runners) {
        for (const [value, health] of HEALTHS) this.set({ name: runner.spec.name, health }, runner.health === value ? 1 : 0);
      }
    },
  });
  metrics.counter({
    name: "moby_init_component_restarts_total",
    help: "How many times init restarted each component (after an exit, or for its health), since init started.",
    labelNames: ["name"] as const,
    collect() {
      this.reset();
      for (const runner of runners) this.inc({ name: runner.spec.name }, runner.restarts);
    },
  });
  const startLimitHits = metrics.counter({
    name: "moby_init_component_start_limit_hits_total",
    help: "How many times each component hit its start limit (restart.startLimitBurst starts within startLimitInterval) and was marked failed.",
    labelNames: ["name"] as const,
  });
  for (const runner of runners) startLimitHits.inc({ name: runner.spec.name }, 0);
  supervisor.onEvent((event) => {
    if (event.kind === "failed" && event.failure === "start-limit") startLimitHits.inc({ name: event.component });
  });
}
