/** The image-store component, declared: its name, its configuration, what it starts (image-store-component.ts). */
import { defineComponent } from "@moby-core/sdk";
import { startImageStore } from "./image-store-component.js";
import { readStoreConfig } from "./store-config.js";

/** The image-store component; its bin calls main(). */
export const { main } = defineComponent({
  name: "image-store",
  kind: "moby.image-store",
  packageJson: new URL("../package.json", import.meta.url),
  config: (raw) => readStoreConfig(raw),
  init: startImageStore,
});
