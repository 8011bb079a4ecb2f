/**
 * A client runner of the store-backends benchmarks:
 * `node --import tsx bench/container-store/backend-client-main.ts store <socket>` or
 * `... etcd3 <endpoint,...>`. Reads BackendLoadRequests as JSON lines on
 * stdin, answers each with a Measurement (or a BackendPopulateResult) as a
 * JSON line on stdout; exits when stdin ends.
 */
import { answerJsonLines } from "../support/json-lines.js";
import { directPeer, measureBackendLoad, storePeer } from "./backend-load.js";
import type { BackendLoadRequest } from "./backend-load.js";

const [kind = "", target = ""] = process.argv.slice(2);
if ((kind !== "store" && kind !== "etcd3") || target === "") {
  process.stderr.write("usage: backend-client-main.ts <store <socket>|etcd3 <endpoint,...>>\n");
  process.exit(2);
}
const peer = kind === "store" ? storePeer(target) : directPeer(target.split(","));
await answerJsonLines(async (message) => {
  const request = message as BackendLoadRequest;
  if (request.kind === "populate") return peer.populate(request.from, request.count, request.inFlight);
  return measureBackendLoad(peer, request);
});
peer.close();
process.exit(0);
