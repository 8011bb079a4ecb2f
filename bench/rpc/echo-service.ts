/**
 * The echo service's implementation for the peers built on protobuf-es
 * (connect-node and the SDK): the same handlers for both, so that only the
 * serving machinery differs.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import { EchoService } from "../gen/bench/v1/echo_pb.js";

export { EchoService };

/** Echo answers with the request's payload; Stream yields count messages of size bytes. */
export const echoImplementation: ServiceImpl<typeof EchoService> = {
  echo(request) {
    return { payload: request.payload };
  },
  async *stream(request) {
    const payload = new Uint8Array(request.size);
    for (let i = 0; i < request.count; i++) yield { payload };
  },
};
