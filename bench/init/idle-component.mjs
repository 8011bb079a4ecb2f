// The component the boot benchmark starts: an SDK component with no service
// of its own (component API, health and reflection only), as small as a real
// component gets. Plain ESM JavaScript importing the built SDK, so that each
// start costs what a built component's start costs: no tsx transpiling.
// Name and socket come from $MOBY_COMPONENT_NAME and $MOBY_SOCKET, set by
// moby-init or by the benchmark.
//
// Once serving it prints one line of its start's marks, in ms since the
// epoch (the host's clock, a container's too), for the restart phases of
// bench/init/restart-phases.ts: process start (Node's timeOrigin), main
// module running, the SDK loaded, the socket listening.
const running = Date.now();
const { serveComponent } = await import("@moby-core/sdk");
const loaded = Date.now();
await serveComponent({ version: "1.0.0", services: [] });
const listening = Date.now();
console.log(`start marks pid=${process.pid} origin=${performance.timeOrigin.toFixed(1)} running=${running} loaded=${loaded} listening=${listening}`);
