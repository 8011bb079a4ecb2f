/**
 * A client runner of the store-backends benchmarks:
 * `node --import tsx bench/container-store/backend-client-main.ts store <socket>` or
 * `... etcd3 <endpoint,...>` or `... relay <socket>`. Reads BackendLoadRequests as JSON lines on
 * stdin, answers each with a Measurement (or a BackendPopulateResult) as a
 * JSON line on stdout; exits when stdin ends.
 */
import { answerJsonLines } from "../support/json-lines.js";
import { directPeer, measureBackendLoad, relayPeer, storePeer } from "./backend-load.js";
import type { BackendLoadRequest } from "./backend-load.js";

const [kind = "", target = ""] = process.argv.slice(2);
if (!["store", "etcd3", "relay"].includes(kind) || target === "") {
  process.stderr.write("usage: backend-client-main.ts <store <socket>|etcd3 <endpoint,...>|relay <socket>>\n");
  process.exit(2);
}
const peer = kind === "store" ? storePeer(target) : kind === "relay" ? relayPeer(target) : directPeer(target.split(","));
await answerJsonLines(async (message) => {
  const request = message as BackendLoadRequest;
  if (request.kind === "populate") return peer.populate(request.from, request.count, request.inFlight);
  return measureBackendLoad(peer, request);
});
peer.close();
process.exit(0);
