/**
 * A client runner of the container-store benchmarks:
 * `node --import tsx bench/container-store/client-main.ts <container-store|sdk-echo> <socket>`.
 * Reads StoreLoadRequests as JSON lines on stdin, answers each with a
 * Measurement (or a PopulateResult) as a JSON line on stdout; exits when
 * stdin ends.
 */
import { answerJsonLines } from "../support/json-lines.js";
import { echoPeer, measureStoreLoad, storePeer } from "./store-load.js";
import type { StoreLoadRequest } from "./store-load.js";

const [peer = "", socketPath = ""] = process.argv.slice(2);
if ((peer !== "container-store" && peer !== "sdk-echo") || socketPath === "") {
  process.stderr.write("usage: client-main.ts <container-store|sdk-echo> <socket>\n");
  process.exit(2);
}
const store = peer === "container-store" ? storePeer(socketPath) : undefined;
const client = store ?? echoPeer(socketPath);
await answerJsonLines(async (message) => {
  const request = message as StoreLoadRequest;
  if (request.kind === "populate") {
    if (store === undefined) throw new Error("only the container-store runner populates");
    return store.populate(request.from, request.count, request.inFlight);
  }
  return measureStoreLoad(client, request);
});
client.close();
process.exit(0);
