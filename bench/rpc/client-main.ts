/**
 * A peer's client runner process: `node --import tsx bench/rpc/client-main.ts <peer> <socket>`.
 * Reads LoadRequests as JSON lines on stdin, answers each with a LoadResult
 * as a JSON line on stdout, over one connection kept for the whole run;
 * exits when stdin ends.
 */
import { answerJsonLines } from "../support/json-lines.js";
import { runLoad } from "./load.js";
import type { LoadRequest } from "./load.js";
import { RPC_PEERS, isRpcPeer } from "./peers.js";
import { loadPeer } from "./peer-modules.js";

const [peer = "", socketPath = ""] = process.argv.slice(2);
if (!isRpcPeer(peer) || socketPath === "") {
  process.stderr.write(`usage: client-main.ts <${RPC_PEERS.join("|")}> <socket>\n`);
  process.exit(2);
}
const client = (await loadPeer(peer)).dial(socketPath);
await answerJsonLines((request) => runLoad(client, request as LoadRequest));
client.close();
process.exit(0);
