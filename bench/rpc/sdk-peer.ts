/**
 * The SDK exactly as a component author uses it: serveComponent with the
 * echo service (component API, health, reflection, the call guard and its
 * logger all included), and dialSocket(...).client(...) with its default
 * deadline and retry policy.
 */
import { dialSocket, serveComponent, serviceOf } from "@moby-core/sdk";
import { EchoService, echoImplementation } from "./echo-service.js";
import type { EchoClient } from "./peers.js";

/** Serves the echo service as a component named "bench-echo" on socketPath, metrics on unless told; resolves once serving. */
export async function serveSdk(socketPath: string, options: { metrics?: false } = {}): Promise<void> {
  await serveComponent({
    name: "bench-echo",
    version: "1.0.0",
    services: [serviceOf(EchoService, echoImplementation)],
    socketPath,
    ...options,
  });
}

/** An SDK client of the echo service on socketPath. */
export function dialSdk(socketPath: string): EchoClient {
  const connection = dialSocket(socketPath);
  const client = connection.client(EchoService);
  return {
    async echo(payload) {
      return (await client.echo({ payload })).payload;
    },
    async stream(count, size) {
      let messages = 0;
      for await (const _ of client.stream({ count, size })) messages++;
      return messages;
    },
    close() {
      connection.close();
    },
  };
}
