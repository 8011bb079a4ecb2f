/** The events component, declared: its name, its configuration, what it starts (events-component.ts). */
import { defineComponent } from "@moby-core/sdk";
import { readEventsConfig } from "./events-config.js";
import { startEvents } from "./events-component.js";

/** The events component; its bin calls main(). */
export const { main } = defineComponent({
  name: "events",
  kind: "moby.events",
  packageJson: new URL("../package.json", import.meta.url),
  config: (raw) => readEventsConfig(raw),
  init: startEvents,
});
