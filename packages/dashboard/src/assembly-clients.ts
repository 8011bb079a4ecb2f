/**
 * How the dashboard reaches the assembly: init (its supervisor, on the
 * registry socket init passes every component), and the components by the
 * service they serve, looked up in init's registry at each call. Each call
 * dials, uses and closes its own connection, so a component that restarted
 * (on the same or another socket) is found again at the next call.
 */
import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { Connection, resolveService } from "@moby-core/sdk";
import { ENV_REGISTRY_ENDPOINT, defaultRunDir, initSocket } from "@moby-core/sdk/internal";
import { SupervisorService } from "@moby-core/supervisor-api/v1";

/** Dials init and the components for the dashboard's calls. */
export class AssemblyClients {
  /** The clients of the assembly whose init listens on registrySocket (default: $MOBY_REGISTRY_ENDPOINT, else the run directory's init.sock). */
  constructor(readonly registrySocket: string = process.env[ENV_REGISTRY_ENDPOINT] || initSocket(defaultRunDir())) {}

  /** Runs use with a client of init's supervisor, on a connection closed afterwards. */
  supervisor<T>(use: (client: Client<typeof SupervisorService>) => Promise<T>): Promise<T> {
    return this.#with(this.registrySocket, SupervisorService, use);
  }

  /** Runs use with a client of the component that serves service (found through the registry), on a connection closed afterwards. */
  async service<S extends DescService, T>(service: S, use: (client: Client<S>) => Promise<T>): Promise<T> {
    const socket = await resolveService(service, { registrySocket: this.registrySocket });
    return this.#with(socket, service, use);
  }

  /** Streams what stream yields with a client of the component serving service; the connection closes when the iteration ends. */
  async *stream<S extends DescService, T>(service: S, stream: (client: Client<S>) => AsyncIterable<T>): AsyncGenerator<T> {
    const socket = await resolveService(service, { registrySocket: this.registrySocket });
    const connection = new Connection(socket);
    try {
      yield* stream(connection.client(service));
    } finally {
      connection.close();
    }
  }

  async #with<S extends DescService, T>(socket: string, service: S, use: (client: Client<S>) => Promise<T>): Promise<T> {
    const connection = new Connection(socket);
    try {
      return await use(connection.client(service));
    } finally {
      connection.close();
    }
  }
}
