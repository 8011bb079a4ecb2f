// The hello component, declared as every component of the assembly is:
// its name, its configuration (none) and what it serves. The SDK reads the
// environment, the version from package.json and serves GreeterService on a
// unix socket, with the component API, health and reflection built in.
//
//   npm run server -- /tmp/moby-hello/hello.sock    (or under moby-init: npm start)
import { defineComponent, serviceOf } from "@moby-core/sdk";
import { GreeterService } from "../gen/hello/v1/hello_pb.js";
import { greeter } from "./greeter.js";

/** The hello component; running this file starts it. */
export const hello = defineComponent({
  name: "hello",
  kind: "moby.example.hello",
  packageJson: new URL("../package.json", import.meta.url),
  config: (raw) => {
    const fields = Object.keys(raw);
    if (fields.length > 0) throw new Error(`hello takes no configuration; remove ${fields.join(", ")}`);
    return {};
  },
  init: () => ({
    services: [serviceOf(GreeterService, greeter)],
    socketPath: process.argv[2] ?? process.env.MOBY_SOCKET ?? "/tmp/moby-hello/hello.sock",
    started: (server) => server.logger.info(`say hello with: npm run client -- ${server.socketPath} Ada`),
  }),
});

await hello.main();
