// The hello component: GreeterService served with @moby-core/sdk on a unix
// socket, with the component API, health and reflection built in.
//
//   npm run server -- /tmp/moby-hello/hello.sock    (or under moby-init: npm start)
import { serveComponent, serviceOf } from "@moby-core/sdk";
import { GreeterService } from "../gen/hello/v1/hello_pb.js";
import { greeter } from "./greeter.js";

const server = await serveComponent({
  name: "hello",
  kind: "moby.example.hello",
  version: "0.1.0",
  services: [serviceOf(GreeterService, greeter)],
  socketPath: process.argv[2] ?? process.env.MOBY_SOCKET ?? "/tmp/moby-hello/hello.sock",
});
server.logger.info(`say hello with: npm run client -- ${server.socketPath} Ada`);
