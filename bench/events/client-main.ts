/**
 * A client runner of the events benchmarks:
 * `node --import tsx bench/events/client-main.ts <events|sdk-echo> <socket>`.
 * Reads EventsLoadRequests as JSON lines on stdin, answers each with a
 * Measurement as a JSON line on stdout; exits when stdin ends.
 */
import { answerJsonLines } from "../support/json-lines.js";
import { echoPeer, eventsPeer, runEventsLoad } from "./events-load.js";
import type { EventsLoadRequest } from "./events-load.js";

const [peer = "", socketPath = ""] = process.argv.slice(2);
if ((peer !== "events" && peer !== "sdk-echo") || socketPath === "") {
  process.stderr.write("usage: client-main.ts <events|sdk-echo> <socket>\n");
  process.exit(2);
}
const client = peer === "events" ? eventsPeer(socketPath) : echoPeer(socketPath);
await answerJsonLines((request) => runEventsLoad(client, request as EventsLoadRequest));
client.close();
process.exit(0);
