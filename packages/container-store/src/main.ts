/** The container-store component, declared: its name, its configuration, what it starts (store-component.ts). */
import { defineComponent } from "@moby-core/sdk";
import { readStoreConfig } from "./store-config.js";
import { startStore } from "./store-component.js";

/** The container-store component; its bin calls main(). */
export const { main } = defineComponent({
  name: "container-store",
  kind: "moby.container-store",
  packageJson: new URL("../package.json", import.meta.url),
  config: (raw) => readStoreConfig(raw),
  init: startStore,
});
