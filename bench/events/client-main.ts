/**
 * A client runner of the events benchmarks:
 * `node --import tsx bench/events/client-main.ts <events|events-nats|relay|sdk-echo> <socket>`,
 * or `jetstream <servers>` for the direct JetStream client.
 * Reads EventsLoadRequests as JSON lines on stdin, answers each with a
 * Measurement as a JSON line on stdout; exits when stdin ends.
 */
import { answerJsonLines } from "../support/json-lines.js";
import { echoPeer, eventsPeer, jetstreamPeer, relayPeer, runEventsLoad } from "./events-load.js";
import type { EventsLoadRequest } from "./events-load.js";

const [peer = "", socketPath = ""] = process.argv.slice(2);
if (!["events", "events-nats", "relay", "sdk-echo", "jetstream"].includes(peer) || socketPath === "") {
  process.stderr.write("usage: client-main.ts <events|events-nats|relay|sdk-echo> <socket> | jetstream <servers>\n");
  process.exit(2);
}
const client =
  peer === "jetstream" ? await jetstreamPeer(socketPath) : peer === "sdk-echo" ? echoPeer(socketPath) : peer === "relay" ? relayPeer(socketPath) : eventsPeer(socketPath);
await answerJsonLines((request) => runEventsLoad(client, request as EventsLoadRequest));
client.close();
process.exit(0);
