/**
 * A real NATS JetStream cluster for a test: nats-server processes (Debian's
 * nats-server 2.9) on free 127.0.0.1 ports, each with a throwaway data
 * directory, routed to each other; ready once a stream with one replica per
 * server can be created. Each server is an OwnedProcess: it dies with the
 * test process (pdeathsig), a missing nats-server fails the start naming it.
 * Servers are killed, paused and started again by pid for the fault tests;
 * stop() kills every one that runs, paused or not, and a start that fails
 * kills those it started.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { freePort } from "./free-port.js";
import { OwnedProcess } from "./owned-process.js";

/** The nats-server binary the tests run (Debian's package puts it here). */
export const NATS_SERVER = process.env.MOBY_NATS_SERVER ?? "/usr/sbin/nats-server";


/** One server of the cluster. */
interface Node {
  name: string;
  clientPort: number;
  clusterPort: number;
  config: string;
  process: OwnedProcess | undefined;
}

/** A cluster of nats-server processes with JetStream. */
export class NatsCluster {
  private readonly nodes: Node[] = [];

  /** size servers (1 for a single server), their files under dir. */
  constructor(
    private readonly dir: string,
    private readonly size = 3,
  ) {}

  /** The client addresses, host:port, one per server. */
  get servers(): string[] {
    return this.nodes.map((node) => `127.0.0.1:${node.clientPort}`);
  }

  /** Writes the configurations, starts every server and waits until the cluster can create a stream replicated on each. */
  async start(): Promise<void> {
    for (let i = 0; i < this.size; i++) {
      this.nodes.push({ name: `n${i + 1}`, clientPort: await freePort(), clusterPort: await freePort(), config: "", process: undefined });
    }
    for (const node of this.nodes) {
      const store = join(this.dir, node.name);
      mkdirSync(store, { recursive: true });
      const routes = this.nodes.filter((other) => other !== node).map((other) => `"nats-route://127.0.0.1:${other.clusterPort}"`);
      const lines = [
        `server_name: ${node.name}`,
        `listen: "127.0.0.1:${node.clientPort}"`,
        `jetstream { store_dir: "${store}", max_memory_store: 64MB, max_file_store: 64GB }`,
        // Each stream reserves its max_bytes (256 MiB by default) of max_file_store, whatever it holds.
        // An event may be 1 MiB, and its envelope a little more: the default 1 MB payload limit is too small.
        "max_payload: 2MB",
        this.size > 1 ? `cluster { name: moby-test, listen: "127.0.0.1:${node.clusterPort}", routes: [${routes.join(", ")}] }` : "",
      ];
      node.config = join(this.dir, `${node.name}.conf`);
      writeFileSync(node.config, lines.join("\n") + "\n");
    }
    try {
      for (let i = 0; i < this.size; i++) this.startNode(i);
      await this.waitUntilReady();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Starts server i (again, on its data directory); throws naming nats-server when it is not installed. */
  startNode(i: number): void {
    const node = this.nodes[i]!;
    if (node.process?.running === true) throw new Error(`nats-server ${node.name} is running (pid ${node.process.pid})`);
    node.process = new OwnedProcess(NATS_SERVER, ["-c", node.config]);
  }

  /** Kills server i with signal (SIGKILL: no chance to flush or hand over leadership; any other is followed by SIGKILL after a grace period) and waits for it to exit. */
  async killNode(i: number, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await this.nodes[i]!.process?.stop(signal);
  }

  /** Stops (SIGSTOP) or continues (SIGCONT) every running server: stopped, a server keeps its connections but answers nothing. */
  pause(paused: boolean): void {
    for (const node of this.nodes) node.process?.signal(paused ? "SIGSTOP" : "SIGCONT");
  }

  /** The pid of server i while it runs. */
  pid(i: number): number | undefined {
    const server = this.nodes[i]!.process;
    return server?.running === true ? server.pid : undefined;
  }

  /** Everything the servers wrote, for a failure message. */
  get log(): string {
    return this.nodes.map((node) => `--- ${node.name}\n${node.process?.output ?? ""}`).join("\n");
  }

  /** Resolves once a stream with one replica per server can be created and deleted; rejects after timeoutMs. */
  async waitUntilReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      for (const node of this.nodes) {
        if (node.process?.running !== true) throw new Error(`nats-server ${node.name} exited:\n${this.log}`);
      }
      try {
        const nc = await connect({ servers: this.servers, timeout: 2000, maxReconnectAttempts: 0 });
        try {
          const jsm = await jetstreamManager(nc, { timeout: 5000 });
          const name = `READY_${process.pid}`;
          await jsm.streams.add({ name, subjects: [`ready.${process.pid}`], num_replicas: this.size });
          await jsm.streams.delete(name);
          return;
        } finally {
          await nc.close();
        }
      } catch (error) {
        last = error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    throw new Error(`the NATS cluster was not ready within ${timeoutMs} ms (${String(last)}):\n${this.log}`);
  }

  /** The index of the server that leads stream now. */
  async leaderOf(stream: string): Promise<number> {
    const nc = await connect({ servers: this.servers, timeout: 2000, maxReconnectAttempts: 0 });
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5000 });
      const leader = (await jsm.streams.info(stream)).cluster?.leader;
      const index = this.nodes.findIndex((node) => node.name === leader);
      if (index < 0) throw new Error(`stream ${stream} has no leader among ${this.nodes.map((n) => n.name).join(", ")} (${String(leader)})`);
      return index;
    } finally {
      await nc.close();
    }
  }

  /** Kills every server that runs (paused ones too: SIGKILL ends a stopped process), by pid, and waits for them. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.killNode(i)));
  }
}
