/**
 * A peer's server process: `node --import tsx bench/rpc/server-main.ts <peer> <socket>`.
 * Serves the echo service on the socket until SIGTERM.
 */
import { RPC_PEERS, isRpcPeer } from "./peers.js";
import { loadPeer } from "./peer-modules.js";

const [peer = "", socketPath = ""] = process.argv.slice(2);
if (!isRpcPeer(peer) || socketPath === "") {
  process.stderr.write(`usage: server-main.ts <${RPC_PEERS.join("|")}> <socket>\n`);
  process.exit(2);
}
await (await loadPeer(peer)).serve(socketPath);
