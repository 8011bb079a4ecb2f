/**
 * A real moby-init booted by a test from a manifest written to a scratch
 * directory, with the supervisor and registry clients to watch it, and the
 * record its behaving components write (test/fixtures/behaving-component.ts).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { RegistryService } from "@moby-core/registry-api/v1";
import { SupervisorService } from "@moby-core/supervisor-api/v1";
import type { Component } from "@moby-core/supervisor-api/v1";
import { ComponentProcess, scratchDirectory } from "./component-process.js";
import { repoRoot } from "./contract-copy.js";

/** One line of a behaving component's record. */
export interface RecordEntry {
  name: string;
  event: "start" | "serving" | "sigterm" | `exit:${number}`;
  time: number;
  pid: number;
  env: Record<string, string>;
}

/** The manifest lines of a behaving component: its command, working dir and record. */
export function behaving(behaviour = "serve"): string {
  return [
    `    command: ["node", "--import", "tsx", "test/fixtures/behaving-component.ts"]`,
    `    workingDir: ${repoRoot}`,
    `    env: { MOBY_TEST_BEHAVIOUR: "${behaviour}", MOBY_TEST_RECORD: "\${RECORD}" }`,
  ].join("\n");
}

/** A booted assembly. */
export class Assembly {
  readonly runDir: string;
  readonly recordFile: string;
  readonly init: ComponentProcess;
  readonly connection: Connection;
  private readonly scratch: { dir: string; remove: () => void };

  private constructor(scratch: { dir: string; remove: () => void }, init: ComponentProcess) {
    this.scratch = scratch;
    this.runDir = join(scratch.dir, "run");
    this.recordFile = join(scratch.dir, "record.jsonl");
    this.init = init;
    this.connection = dialSocket(join(this.runDir, "init.sock"));
  }

  /**
   * Writes manifest (with ${RECORD} replaced by the record file) and starts
   * moby-init on it, with initArgs added, in a new scratch directory, in a
   * given one, or in the one of an earlier assembly (its run directory and
   * record too).
   */
  static async boot(manifest: string, on?: Assembly | { dir: string; remove: () => void }, initArgs: string[] = []): Promise<Assembly> {
    const scratch = on instanceof Assembly ? on.scratch : (on ?? scratchDirectory("moby-assembly-"));
    const file = join(scratch.dir, "moby.yaml");
    writeFileSync(file, manifest.replaceAll("${RECORD}", join(scratch.dir, "record.jsonl")));
    const init = new ComponentProcess("packages/init/bin/moby-init.js", {}, ["--manifest", file, "--run-dir", join(scratch.dir, "run"), ...initArgs]);
    try {
      await init.waitForSocket(join(scratch.dir, "run", "init.sock"));
    } catch (error) {
      // init never served: end it (and, through it, whatever it started) before failing, and the scratch directory made here.
      await init.stop();
      if (on === undefined) scratch.remove();
      throw error;
    }
    return new Assembly(scratch, init);
  }

  /** The supervisor client. */
  get supervisor() {
    return this.connection.client(SupervisorService);
  }

  /** The registry client. */
  get registry() {
    return this.connection.client(RegistryService);
  }

  /** The supervised state of one component. */
  async component(name: string): Promise<Component> {
    return (await this.supervisor.getComponent({ name })).component!;
  }

  /** Polls until predicate holds for the component, or fails after timeoutMs with its last state. */
  async until(name: string, predicate: (c: Component) => boolean, timeoutMs = 30_000): Promise<Component> {
    const deadline = Date.now() + timeoutMs;
    let last: Component | undefined;
    while (Date.now() < deadline) {
      last = await this.component(name);
      if (predicate(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`component ${name} did not reach the expected state; last: ${JSON.stringify(last, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v))}\n${this.init.output}`);
  }

  /** What the behaving components recorded so far. */
  record(): RecordEntry[] {
    if (!existsSync(this.recordFile)) return [];
    return readFileSync(this.recordFile, "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line) as RecordEntry);
  }

  /** The first record entry of a component and event; throws when absent. */
  entry(name: string, event: RecordEntry["event"]): RecordEntry {
    const found = this.record().find((e) => e.name === name && e.event === event);
    if (found === undefined) throw new Error(`${name} recorded no ${event}`);
    return found;
  }

  /** Closes the connection and stops init with SIGTERM (SIGKILL after a grace period); returns how init exited. */
  async shutdown() {
    this.connection.close();
    const exit = await this.init.stop("SIGTERM");
    return exit;
  }

  /** Removes the scratch directory. */
  remove(): void {
    this.scratch.remove();
  }
}
