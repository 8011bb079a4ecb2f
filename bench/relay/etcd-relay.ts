/**
 * The relay's etcd side: each call becomes one etcd3 call on keys under
 * ETCD_RELAY_PREFIX, with the client configured as the direct etcd3 peer
 * configures its own, so that the relay against that peer is what the hop
 * through a component costs, and nothing else.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { ServiceImpl } from "@connectrpc/connect";
import { Etcd3 } from "etcd3";
import type { IWatchResponse } from "etcd3";
import { RelayService } from "../gen/bench/v1/relay_pb.js";
import type { WatchResponseSchema } from "../gen/bench/v1/relay_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ChangeQueue } from "./change-queue.js";

/** The prefix of the relay's keys in etcd. */
export const ETCD_RELAY_PREFIX = "/bench-relay/";

/** A Buffer over the same bytes (etcd3 wants Buffers; no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The relay's service on etcd at endpoints, and how to close its client. */
export function etcdRelay(endpoints: string[]): { service: ServiceImpl<typeof RelayService>; close(): void } {
  const client = new Etcd3({ hosts: endpoints });
  const key = (name: string) => Buffer.from(`${ETCD_RELAY_PREFIX}${name}`);
  const prefix = Buffer.from(ETCD_RELAY_PREFIX);
  const prefixEnd = Buffer.from(ETCD_RELAY_PREFIX.slice(0, -1) + String.fromCharCode(ETCD_RELAY_PREFIX.charCodeAt(ETCD_RELAY_PREFIX.length - 1) + 1));
  const service: ServiceImpl<typeof RelayService> = {
    async put(request) {
      const response = await client.kv.put({ key: key(request.key), value: asBuffer(request.value) });
      return { revision: BigInt(response.header.revision) };
    },
    async get(request) {
      const response = await client.kv.range({ key: key(request.key) });
      const kv = response.kvs[0];
      if (kv === undefined) throw new ConnectError(`key ${JSON.stringify(request.key)} holds nothing`, Code.NotFound);
      return { value: kv.value, revision: BigInt(kv.mod_revision) };
    },
    async *watch(request, context) {
      const queue = new ChangeQueue<MessageInitShape<typeof WatchResponseSchema>>(context.signal);
      const stream = await client.watchClient.watch();
      try {
        stream.on("data", (response: IWatchResponse) => {
          if (response.created) queue.push({ ready: true, revision: request.startRevision === 0n ? BigInt(response.header.revision) : request.startRevision });
          for (const event of response.events) queue.push({ revision: BigInt(event.kv.mod_revision), value: event.kv.value });
        });
        stream.on("error", (error: unknown) => queue.fail(error));
        stream.write({
          create_request: { key: prefix, range_end: prefixEnd, ...(request.startRevision === 0n ? {} : { start_revision: String(request.startRevision + 1n) }) },
        });
        yield* queue.drain();
      } finally {
        stream.end(); // first: etcd3 takes an error on a writable stream for a failed member
        stream.cancel();
      }
    },
  };
  return { service, close: () => client.close() };
}
