/**
 * The client runner of the container-runtime benchmarks:
 * `node --import tsx bench/container-runtime/client-main.ts <store socket> <runtime socket> <runc> <runc root> <true bundle> <sleep bundle>`.
 * Reads RuntimeLoadRequests as JSON lines on stdin, answers each as a JSON
 * line on stdout; exits when stdin ends.
 */
import { answerJsonLines } from "../support/json-lines.js";
import { RuntimeLoad } from "./runtime-load.js";
import type { RuntimeLoadRequest } from "./runtime-load.js";

const [storeSocket = "", runtimeSocket = "", runc = "", runcRoot = "", trueBundle = "", sleepBundle = ""] = process.argv.slice(2);
if (sleepBundle === "") {
  process.stderr.write("usage: client-main.ts <store socket> <runtime socket> <runc> <runc root> <true bundle> <sleep bundle>\n");
  process.exit(2);
}
const load = new RuntimeLoad({ storeSocket, runtimeSocket, runc, runcRoot, trueBundle, sleepBundle });
await answerJsonLines((message) => load.handle(message as RuntimeLoadRequest));
load.close();
process.exit(0);
