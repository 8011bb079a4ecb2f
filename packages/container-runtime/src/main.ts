/** The container-runtime component, declared: its name, its configuration, what it starts (runtime-component.ts). */
import { defineComponent } from "@moby-core/sdk";
import { readRuntimeConfig } from "./runtime-config.js";
import { startRuntime } from "./runtime-component.js";

/** The container-runtime component; its bin calls main(). */
export const { main } = defineComponent({
  name: "container-runtime",
  kind: "moby.container-runtime",
  packageJson: new URL("../package.json", import.meta.url),
  config: (raw) => readRuntimeConfig(raw),
  init: startRuntime,
});
