/**
 * The RPC peers compared: each one a server and a client of the same echo
 * service (bench/proto/bench/v1/echo.proto), run in separate processes over
 * a unix socket.
 */

/** The peers, in the order their columns are printed. */
export const RPC_PEERS = ["http2", "http2-x2", "grpc-thin", "grpc-js", "grpc-js-x2", "connect", "sdk", "sdk-unmetered"] as const;

/** One peer's name. */
export type RpcPeer = (typeof RPC_PEERS)[number];

/** What each peer is, for the report. */
export const PEER_DESCRIPTIONS: Record<RpcPeer, string> = {
  http2: "raw node:http2, a length-prefixed body, no gRPC (the floor)",
  "http2-x2": "the http2 peer with its client spreading calls over two sessions, as the SDK's client does (what two connections alone are worth)",
  "grpc-thin": "the thinnest gRPC on node:http2: the http2 peer plus protobuf-es, the message prefix and the status in trailers, nothing else (the gRPC ceiling)",
  "grpc-js": "@grpc/grpc-js server and client, @grpc/proto-loader codecs",
  "grpc-js-x2": "the grpc-js peer with two clients taking turns, each with its own connection (grpc.use_local_subchannel_pool)",
  connect: "connect-node as it comes: connectNodeAdapter + createGrpcTransport",
  sdk: "@moby-core/sdk as an author uses it: serveComponent + dialSocket().client() (the SDK's own gRPC on node:http2), its Prometheus metrics on",
  "sdk-unmetered": "the sdk peer served with metrics: false: sdk against it is what counting every call's metrics costs",
};

/** Tells whether name is a peer. */
export function isRpcPeer(name: string): name is RpcPeer {
  return (RPC_PEERS as readonly string[]).includes(name);
}

/** A client of the echo service, whatever the peer. */
export interface EchoClient {
  /** One unary Echo call: resolves with the echoed payload. */
  echo(payload: Uint8Array): Promise<Uint8Array>;
  /** One server-streaming Stream call: resolves with the number of messages received. */
  stream(count: number, size: number): Promise<number>;
  /** Closes the connection. */
  close(): void;
}
