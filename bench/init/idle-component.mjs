// The component the boot benchmark starts: an SDK component with no service
// of its own (component API, health and reflection only), as small as a real
// component gets. Plain ESM JavaScript importing the built SDK, so that each
// start costs what a built component's start costs: no tsx transpiling.
// Name and socket come from $MOBY_COMPONENT_NAME and $MOBY_SOCKET, set by
// moby-init or by the benchmark.
import { serveComponent } from "@moby-core/sdk";

await serveComponent({ version: "1.0.0", services: [] });
