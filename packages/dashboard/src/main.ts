/** The dashboard component, declared: its name, its configuration, what it starts (dashboard-component.ts). */
import { defineComponent } from "@moby-core/sdk";
import { readDashboardConfig } from "./dashboard-config.js";
import { startDashboard } from "./dashboard-component.js";

/** The dashboard component; its bin calls main(). */
export const { main } = defineComponent({
  name: "dashboard",
  kind: "moby.dashboard",
  packageJson: new URL("../package.json", import.meta.url),
  config: (raw) => readDashboardConfig(raw),
  init: startDashboard,
});
