/**
 * The relay's process: `node --import tsx bench/relay/relay-main.ts
 * <etcd|jetstream> <socket> <endpoints|servers>`. Serves bench.v1.RelayService
 * with serveComponent on the socket, passing each call on to the engine,
 * until SIGTERM.
 */
import { serveComponent, serviceOf } from "@moby-core/sdk";
import { RelayService } from "../gen/bench/v1/relay_pb.js";
import { etcdRelay } from "./etcd-relay.js";
import { jetstreamRelay } from "./jetstream-relay.js";

const [engine = "", socketPath = "", target = ""] = process.argv.slice(2);
if ((engine !== "etcd" && engine !== "jetstream") || socketPath === "" || target === "") {
  process.stderr.write("usage: relay-main.ts <etcd|jetstream> <socket> <endpoints|servers>\n");
  process.exit(2);
}
const relay = engine === "etcd" ? etcdRelay(target.split(",")) : await jetstreamRelay(target);
await serveComponent({ name: "bench-relay", version: "1.0.0", services: [serviceOf(RelayService, relay.service)], socketPath });
