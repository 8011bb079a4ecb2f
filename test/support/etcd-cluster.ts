/**
 * A real etcd cluster for tests: Debian's etcd 3.4, three members (or as
 * many as asked) on free 127.0.0.1 ports with throwaway data directories
 * under a directory the caller owns. Each member is an OwnedProcess (under
 * `setpriv --pdeathsig KILL`), so it dies with the test process even when
 * that is killed, and a missing etcd fails the start naming it; stop() kills
 * each member by its pid. A member can be killed (kill -9) and started again
 * on its data directory.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { freePort } from "./free-port.js";
import { OwnedProcess } from "./owned-process.js";


/** One member of the cluster. */
interface Member {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  process?: OwnedProcess;
}

/** A running etcd cluster. */
export class EtcdCluster {
  private readonly members: Member[] = [];

  private constructor(private readonly dir: string) {}

  /** Starts a cluster of size members under dir and waits until it answers a write. */
  static async start(dir: string, size = 3): Promise<EtcdCluster> {
    const cluster = new EtcdCluster(dir);
    for (let i = 0; i < size; i++) {
      const [client, peer] = [await freePort(), await freePort()];
      cluster.members.push({
        name: `m${i}`,
        clientUrl: `http://127.0.0.1:${client}`,
        peerUrl: `http://127.0.0.1:${peer}`,
        dataDir: join(dir, `m${i}`),
      });
    }
    try {
      for (let i = 0; i < size; i++) cluster.launch(i, "new");
      await cluster.waitUntilWritable();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The client URLs of every member. */
  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  /** The pid of member i, or undefined when it is not running. */
  pid(i: number): number | undefined {
    const member = this.members[i]!.process;
    return member?.running === true ? member.pid : undefined;
  }

  /** What member i logged. */
  log(i: number): string {
    return this.members[i]!.process?.output ?? "";
  }

  /** Starts member i on its data directory. */
  private launch(i: number, state: "new" | "existing"): void {
    const member = this.members[i]!;
    mkdirSync(member.dataDir, { recursive: true, mode: 0o700 });
    const initial = this.members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
    member.process = new OwnedProcess(
      "etcd",
      [
        "--name",
        member.name,
        "--data-dir",
        member.dataDir,
        "--listen-client-urls",
        member.clientUrl,
        "--advertise-client-urls",
        member.clientUrl,
        "--listen-peer-urls",
        member.peerUrl,
        "--initial-advertise-peer-urls",
        member.peerUrl,
        "--initial-cluster",
        initial,
        "--initial-cluster-state",
        state,
        "--initial-cluster-token",
        "moby-test",
        // Short elections, so a killed leader is replaced quickly.
        "--heartbeat-interval",
        "50",
        "--election-timeout",
        "500",
      ],
    );
  }

  /** Waits until a write through every endpoint succeeds. */
  async waitUntilWritable(timeoutMs = 30_000): Promise<void> {
    const client = new Etcd3({ hosts: this.endpoints, defaultCallOptions: () => ({ deadline: Date.now() + 1000 }) });
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        try {
          await client.put("/moby-test/ready").value("1");
          return;
        } catch (error) {
          if (Date.now() > deadline) throw new Error(`etcd did not accept a write within ${timeoutMs} ms: ${String(error)}\n${this.members.map((m) => (m.process?.output ?? "").slice(-2000)).join("\n")}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } finally {
      client.close();
    }
  }

  /** The index of the member that leads the cluster now. */
  async leader(): Promise<number> {
    for (let i = 0; i < this.members.length; i++) {
      if (this.pid(i) === undefined) continue;
      const client = new Etcd3({ hosts: this.members[i]!.clientUrl, defaultCallOptions: () => ({ deadline: Date.now() + 2000 }) });
      try {
        const status = await client.maintenance.status();
        if (status.leader === status.header.member_id) return i;
      } finally {
        client.close();
      }
    }
    throw new Error("no member leads the cluster");
  }

  /** Kills member i with signal (SIGKILL: kill -9; any other is followed by SIGKILL after a grace period) and waits until it has exited. */
  async kill(i: number, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await this.members[i]!.process?.stop(signal);
  }

  /** Starts member i again on its data directory (after kill). */
  restart(i: number): void {
    if (this.pid(i) !== undefined) throw new Error(`member ${i} is running`);
    this.launch(i, "existing");
  }

  /** An etcd client on every endpoint, for tests that act on the cluster directly; close it. */
  client(): Etcd3 {
    return new Etcd3({ hosts: this.endpoints });
  }

  /** Kills every member by its pid and waits for each to exit. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((_, i) => this.kill(i)));
  }
}
