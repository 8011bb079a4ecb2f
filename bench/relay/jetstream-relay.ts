/**
 * The relay's JetStream side: a put is a publish of the request's bytes
 * with the key as its message id, answered after JetStream's ack; a watch is
 * an ordered consumer from the sequence after start_revision. The client
 * and stream are the direct JetStream peer's, so that the relay against that
 * peer is what the hop through a component costs, and nothing else.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { ServiceImpl } from "@connectrpc/connect";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { RelayService } from "../gen/bench/v1/relay_pb.js";
import { addBenchStream } from "../events/bench-stream.js";

/** The relay's stream. */
export const RELAY_STREAM = "BENCH_RELAY";

/** The relay's service on the JetStream of servers (comma-separated), and how to close its connection. */
export async function jetstreamRelay(servers: string): Promise<{ service: ServiceImpl<typeof RelayService>; close(): Promise<void> }> {
  const nc = await connect({ servers: servers.split(",") });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const subject = await addBenchStream(jsm, RELAY_STREAM);
  const service: ServiceImpl<typeof RelayService> = {
    async put(request) {
      const ack = await js.publish(subject, request.value, { msgID: request.key });
      if (ack.duplicate) throw new ConnectError(`message id ${JSON.stringify(request.key)} was published before`, Code.AlreadyExists);
      return { revision: BigInt(ack.seq) };
    },
    get() {
      throw new ConnectError("the JetStream relay reads by Watch only", Code.Unimplemented);
    },
    async *watch(request, context) {
      const after = request.startRevision === 0n ? BigInt((await jsm.streams.info(RELAY_STREAM)).state.last_seq) : request.startRevision;
      const consumer = await js.consumers.get(RELAY_STREAM, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Number(after + 1n) });
      const messages = await consumer.consume();
      const stop = () => void messages.close();
      context.signal.addEventListener("abort", stop, { once: true });
      try {
        yield { ready: true, revision: after };
        for await (const message of messages) yield { revision: BigInt(message.seq), value: message.data };
      } finally {
        context.signal.removeEventListener("abort", stop);
        stop();
      }
    },
  };
  return { service, close: () => nc.close() };
}
