/**
 * Each peer's server and client, loaded on demand so that a process loads
 * only the libraries of the peer it runs.
 */
import type { EchoClient, RpcPeer } from "./peers.js";

/** A peer's two halves. */
export interface PeerModule {
  /** Serves the echo service on socketPath; resolves once it accepts calls. */
  serve(socketPath: string): Promise<void>;
  /** A client of the echo service on socketPath. */
  dial(socketPath: string): EchoClient;
}

/** Loads peer's server and client. */
export async function loadPeer(peer: RpcPeer): Promise<PeerModule> {
  switch (peer) {
    case "http2": {
      const m = await import("./http2-peer.js");
      return { serve: m.serveHttp2, dial: m.dialHttp2 };
    }
    case "http2-x2": {
      const m = await import("./http2-peer.js");
      return { serve: m.serveHttp2, dial: (socketPath) => m.dialHttp2(socketPath, 2) };
    }
    case "grpc-thin": {
      const m = await import("./grpc-thin-peer.js");
      return { serve: m.serveGrpcThin, dial: m.dialGrpcThin };
    }
    case "grpc-js": {
      const m = await import("./grpc-js-peer.js");
      return { serve: m.serveGrpcJs, dial: m.dialGrpcJs };
    }
    case "grpc-js-x2": {
      const m = await import("./grpc-js-peer.js");
      return { serve: m.serveGrpcJs, dial: (socketPath) => m.dialGrpcJs(socketPath, 2) };
    }
    case "connect": {
      const m = await import("./connect-peer.js");
      return { serve: m.serveConnect, dial: m.dialConnect };
    }
    case "sdk": {
      const m = await import("./sdk-peer.js");
      return { serve: m.serveSdk, dial: m.dialSdk };
    }
    case "sdk-unmetered": {
      const m = await import("./sdk-peer.js");
      return { serve: (socketPath) => m.serveSdk(socketPath, { metrics: false }), dial: m.dialSdk };
    }
  }
}
