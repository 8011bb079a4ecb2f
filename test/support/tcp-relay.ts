/**
 * A TCP relay on 127.0.0.1 in front of one server, for a test that cuts one
 * client off the network while others still reach the server: cut() drops
 * every relayed connection and refuses new ones (accepted and closed at once)
 * until restore(). The listening port stays the same throughout.
 */
import { connect, createServer } from "node:net";
import type { Server, Socket } from "node:net";

/** A relay from a port of its own to target (host:port). */
export class TcpRelay {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private isCut = false;
  private port = 0;

  constructor(private readonly target: string) {
    this.server = createServer((client) => this.relay(client));
  }

  /** Starts listening on a free port of 127.0.0.1. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => {
        this.port = (this.server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  /** Where clients connect: host:port. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** How many client connections are relayed now. */
  get connections(): number {
    return this.sockets.size / 2;
  }

  /** Drops every relayed connection, and closes new ones at once until restore(). */
  cut(): void {
    this.isCut = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /** Relays new connections again. */
  restore(): void {
    this.isCut = false;
  }

  /** Drops every connection and stops listening. */
  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket): void {
    if (this.isCut) {
      client.destroy();
      return;
    }
    const [host, port] = this.target.split(":");
    const upstream = connect(Number(port), host!);
    const pair = [client, upstream];
    for (const socket of pair) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on("error", () => {});
      socket.on("close", () => {
        this.sockets.delete(socket);
        for (const other of pair) other.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
