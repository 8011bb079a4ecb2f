/**
 * One etcd member for the benchmarks (Debian's etcd 3.4), on free
 * 127.0.0.1 ports with a data directory the caller owns, started under
 * `setpriv --pdeathsig KILL` so it dies with the benchmark even when that is
 * killed; stop() kills it by its pid.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { Etcd3 } from "etcd3";

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** A running single-member etcd. */
export class EtcdServer {
  private output = "";
  private readonly exited: Promise<void>;

  private constructor(
    /** The client URL. */
    readonly endpoint: string,
    private readonly child: ChildProcess,
  ) {
    child.stderr!.on("data", (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-4000)));
    child.stdout!.on("data", (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-4000)));
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  /** Starts etcd with its data in dataDir and waits until it takes a write. */
  static async start(dataDir: string): Promise<EtcdServer> {
    const [client, peer] = [await freePort(), await freePort()];
    const endpoint = `http://127.0.0.1:${client}`;
    const child = spawn(
      "setpriv",
      ["--pdeathsig", "KILL", "etcd", "--name", "bench", "--data-dir", dataDir, "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
        "--listen-peer-urls", `http://127.0.0.1:${peer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${peer}`, "--initial-cluster", `bench=http://127.0.0.1:${peer}`],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const server = new EtcdServer(endpoint, child);
    const probe = new Etcd3({ hosts: endpoint, defaultCallOptions: () => ({ deadline: Date.now() + 1000 }) });
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          await probe.put("/bench-ready").value("1");
          return server;
        } catch (error) {
          if (Date.now() > deadline || child.exitCode !== null) {
            await server.stop();
            throw new Error(`etcd did not take a write: ${String(error)}\n${server.output}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } finally {
      probe.close();
    }
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Kills etcd by its pid and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) process.kill(this.child.pid, "SIGKILL");
    await this.exited;
  }
}
