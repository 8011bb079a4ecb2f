/**
 * `npm start` (or another command that starts an assembly in the foreground,
 * such as `npx moby-init --manifest moby.contained.yaml`) run by a test as a person runs it: in its own process group
 * (as a terminal's foreground job), its output kept, the assembly's
 * processes listed through `moby components`, stopped with Ctrl-C (SIGINT to
 * the group), and everything killed by pid in cleanup if a test fails. npm
 * itself is an OwnedProcess: it dies with the test process, and a missing
 * command fails the start naming it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cleanEnv, runCommand } from "../../scripts/local-registry.js";
import { alive } from "./component-process.js";
import { repoRoot } from "./contract-copy.js";
import { OwnedProcess } from "./owned-process.js";

/** One component as `moby components --json` lists it. */
export interface ListedComponent {
  name: string;
  health: string;
  pid: number;
}

/** A running `npm start`, or another foreground command. */
export class NpmStart {
  private readonly child: OwnedProcess;
  private pids: number[] = [];
  /** The command as run, for messages. */
  private readonly commandLine: string;

  /**
   * Starts `npm start -- ...args` (or command with args, when command is not npm start) in dir
   * with env added to a clean environment (no npm_* variables).
   */
  constructor(
    dir: string,
    args: string[],
    private readonly env: Record<string, string> = {},
    command: readonly string[] = ["npm", "start"],
  ) {
    const npmStart = command.length === 2 && command[0] === "npm" && command[1] === "start";
    const argv = [...command.slice(1), ...(args.length > 0 && npmStart ? ["--"] : []), ...args];
    this.child = new OwnedProcess(command[0]!, argv, { cwd: dir, env: { ...cleanEnv(), ...env }, group: true });
    this.commandLine = [command[0]!, ...argv].join(" ");
  }

  /** Everything npm and what it ran wrote so far. */
  get output(): string {
    return this.child.output;
  }

  /** Resolves once the output includes text; fails with the output if npm ends first or after timeoutMs. */
  async waitFor(text: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(text)) {
      if (!this.child.running || Date.now() > deadline) {
        assert.fail(`${this.commandLine} did not print ${JSON.stringify(text)}:\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The assembly's processes as `moby --run-dir runDir components --json` lists them; remembered for cleanup. */
  async components(runDir: string): Promise<ListedComponent[]> {
    const listed = await runCommand(join(repoRoot, "node_modules/.bin/moby"), ["--run-dir", runDir, "components", "--json"], repoRoot, {
      ...cleanEnv(),
      ...this.env,
    });
    assert.equal(listed.status, 0, listed.stderr);
    const components = JSON.parse(listed.stdout) as ListedComponent[];
    this.pids.push(...components.map((c) => c.pid).filter((pid) => pid > 0));
    return components;
  }

  /** Ctrl-C: SIGINT to npm's process group; resolves once npm has ended. */
  async interrupt(): Promise<void> {
    this.child.signal("SIGINT");
    await this.child.exited;
  }

  /** The processes listed earlier that still run. */
  survivors(): number[] {
    return this.pids.filter(alive);
  }

  /** Kills npm's group and every process listed earlier, whatever state they are in. */
  cleanup(): void {
    this.child.signal("SIGKILL");
    for (const pid of this.survivors()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
  }
}
