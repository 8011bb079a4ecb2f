// Interactive containers through the moby CLI against a real assembly:
// `moby run -i` fed by a pipe, `moby run -it` and `moby exec -it` driven
// through a real pseudo-terminal (util-linux's `script`, from bsdutils, runs
// moby on a pty whose other side this test writes keys to and reads the
// screen from), with raw mode, Ctrl-C and Ctrl-D reaching the container, a
// window resize, the exit code passed through and the terminal restored;
// and `moby attach` by two readers at once. Needs root, runc, busybox and
// script; every container is removed and init stopped afterwards. (Node's
// raw mode keeps the outer terminal's ONLCR, so a line the container ends
// with "\r\n" reaches script's side as "\r\r\n": matched loosely.)
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeBusyboxRootfs } from "../../packages/container-runtime/src/busybox-rootfs.js";
import { findExecutable } from "../../packages/container-runtime/src/prerequisites.js";
import { scratchDirectory } from "../support/component-process.js";
import type { Exit } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";
import { Init, MOBY, cid, component, eventually, moby, ok, skipContainers } from "./moby-assembly.js";

const script = findExecutable("script");
const skip = skipContainers || (script === undefined ? "needs script (Debian: bsdutils)" : false);

/** A process with its stdin a pipe this test writes to and its output collected. */
class Driven {
  output = "";
  readonly exited: Promise<Exit>;
  readonly child: ChildProcess;

  constructor(command: string, args: string[]) {
    this.child = spawn(command, args, { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout!.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /** Writes to its stdin. */
  type(text: string): void {
    this.child.stdin!.write(text);
  }

  /** Ends its stdin. */
  end(): void {
    this.child.stdin!.end();
  }

  /** Resolves once the output includes text (after `from` characters); fails if it exits first. */
  async waitFor(text: string, from = 0): Promise<number> {
    let exited = false;
    void this.exited.then(() => (exited = true));
    await eventually(async () => {
      if (this.output.indexOf(text, from) >= 0) return true;
      if (exited) assert.fail(`exited without ${JSON.stringify(text)}: ${JSON.stringify(this.output)}`);
      return false;
    }, JSON.stringify(text), 30_000);
    return this.output.indexOf(text, from) + text.length;
  }

  /** Kills it, if it still runs. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

/** The pids of the processes whose command line has every one of words. */
function pidsWith(...words: string[]): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (words.every((word) => argv.includes(word))) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

describe("interactive containers through the moby CLI", { skip }, () => {
  const scratch = scratchDirectory("moby-cli-tty-");
  const rootfs = join(scratch.dir, "rootfs");
  const init = new Init(scratch.dir, {
    events: component("packages/events/bin/moby-events.js", { services: ["moby.events.v1.EventsService"] }),
    "container-store": component("packages/container-store/bin/moby-container-store.js", { services: ["moby.container.store.v1.ContainerStoreService"] }),
    "container-runtime": component("packages/container-runtime/bin/moby-container-runtime.js", {
      services: ["moby.container.runtime.v1.ContainerRuntimeService"],
      requires: ["container-store"],
    }),
  });
  const runDir = init.runDir;
  const driven: Driven[] = [];
  /** Runs `sh -c line` on a new pseudo-terminal of script's, driven by this test. */
  const onTerminal = (line: string) => {
    const process = new Driven(script!, ["--quiet", "--return", "--flush", "--command", line, "/dev/null"]);
    driven.push(process);
    return process;
  };
  const mobyLine = (...args: string[]) => [process.execPath, MOBY, "--run-dir", runDir, ...args].map((word) => `'${word}'`).join(" ");

  before(async () => {
    makeBusyboxRootfs(rootfs);
    await init.boot();
  });

  after(async () => {
    try {
      for (const process of driven) process.kill();
      const listed = await moby(runDir, "ps", "-a", "--json");
      for (const container of listed.code === 0 ? (JSON.parse(listed.stdout) as { id: string }[]) : []) await moby(runDir, "rm", "-f", container.id);
      await init.stopCleanly();
    } finally {
      scratch.remove();
    }
  });

  it("moby run -i passes a pipe to the container's stdin, and its end closes it", async () => {
    const cat = new Driven(process.execPath, [MOBY, "--run-dir", runDir, "run", "-i", "--rm", "--rootfs", rootfs, "--", "sh", "-c", "cat; echo end-of-input"]);
    driven.push(cat);
    cat.type("hello\n");
    await cat.waitFor("hello\n");
    cat.type("world");
    cat.end();
    assert.deepEqual(await cat.exited, { code: 0, signal: null });
    assert.equal(cat.output, "hello\nworldend-of-input\n");

    const shell = new Driven(process.execPath, [MOBY, "--run-dir", runDir, "run", "-i", "--rm", "--rootfs", rootfs, "--", "sh"]);
    driven.push(shell);
    shell.type("echo from-a-pipe; exit 4\n");
    assert.deepEqual(await shell.exited, { code: 4, signal: null });
    assert.equal(shell.output, "from-a-pipe\n");
  });

  it("moby run -it is an interactive shell: raw mode, Ctrl-C, resize, the exit code, the terminal restored", async () => {
    const name = cid("shell");
    const before = join(scratch.dir, "stty-before");
    const afterFile = join(scratch.dir, "stty-after");
    const terminal = onTerminal(
      `stty rows 30 cols 90; stty -g > ${before}; ${mobyLine("run", "-it", "--rm", "--name", name, "--rootfs", rootfs, "--", "sh")}; code=$?; stty -g > ${afterFile}; exit $code`,
    );
    const at = await terminal.waitFor("/ # ");
    terminal.type("stty size; echo $((6*7))\n");
    await terminal.waitFor("42\r", at);
    assert.match(terminal.output, /30 90\r+\n42\r+\n/, "the container's terminal starts with moby's size");

    // A resize of moby's terminal reaches the container's (SIGWINCH to moby).
    const [mobyPid] = pidsWith(MOBY, "--name", name);
    assert.ok(mobyPid !== undefined, "moby runs");
    const pty = execFileSync("readlink", [`/proc/${mobyPid}/fd/0`], { encoding: "utf8" }).trim();
    execFileSync("stty", ["-F", pty, "rows", "40", "cols", "100"]);
    await eventually(async () => {
      const mark = terminal.output.length;
      terminal.type("stty size\n");
      const end = await terminal.waitFor("\n/ # ", mark);
      return terminal.output.slice(mark, end).includes("40 100");
    }, "the new size inside the container");

    // Ctrl-C reaches the foreground program through the container's terminal.
    terminal.type("sleep 4321\n");
    await eventually(async () => pidsWith("sleep", "4321").length > 0, "sleep running in the container");
    terminal.type("\x03");
    terminal.type("echo status=$?\n");
    await terminal.waitFor("status=130", terminal.output.length - 1);
    terminal.type("exit 3\n");
    assert.deepEqual(await terminal.exited, { code: 3, signal: null }, terminal.output);
    assert.equal(readFileSync(afterFile, "utf8"), readFileSync(before, "utf8"), "the terminal's settings are restored");
    const left = await ok(runDir, "ps", "-a", "--json");
    assert.ok(!left.stdout.includes(name), "--rm removed it");
  });

  it("moby exec -it runs a shell on a terminal of its own; Ctrl-D ends it", async () => {
    const name = cid("execbox");
    await ok(runDir, "run", "-d", "--name", name, "--rootfs", rootfs, "--", "sleep", "1000");
    const terminal = onTerminal(mobyLine("exec", "-it", name, "sh"));
    const at = await terminal.waitFor("/ # ");
    terminal.type("tty\n");
    await terminal.waitFor("/dev/pts/", at);
    terminal.type("\x04");
    assert.deepEqual(await terminal.exited, { code: 0, signal: null }, terminal.output);
    await ok(runDir, "rm", "-f", name);
  });

  it("moby run -it refuses a stdin that is not a terminal, as docker does (exit 125: moby run's own failure)", async () => {
    const result = await moby(runDir, "run", "-it", "--rm", "--rootfs", rootfs, "--", "sh");
    assert.equal(result.code, 125, result.stderr);
    assert.match(result.stderr, /the input device is not a TTY/);
  });

  it("moby attach: two readers each get all output, input from one, the exit code to both", async () => {
    const name = cid("attached");
    await ok(runDir, "run", "-d", "-i", "--name", name, "--rootfs", rootfs, "--", "sh", "-c", "cat; exit 6");
    const writer = new Driven(process.execPath, [MOBY, "--run-dir", runDir, "attach", name]);
    const reader = new Driven(process.execPath, [MOBY, "--run-dir", runDir, "attach", "--no-stdin", name]);
    driven.push(writer, reader);
    // Attached once an input comes back through each of them.
    await eventually(async () => {
      writer.type("ping\n");
      await new Promise((resolve) => setTimeout(resolve, 200));
      return writer.output.includes("ping\n") && reader.output.includes("ping\n");
    }, "both attached");
    const mark = [writer.output.length, reader.output.length] as const;
    writer.type("one\ntwo\n");
    await writer.waitFor("two\n", mark[0]);
    await reader.waitFor("two\n", mark[1]);
    writer.end();
    assert.deepEqual(await writer.exited, { code: 6, signal: null }, writer.output);
    assert.deepEqual(await reader.exited, { code: 6, signal: null }, reader.output);
    assert.equal(writer.output.slice(mark[0]), "one\ntwo\n");
    assert.equal(reader.output.slice(mark[1]), "one\ntwo\n");
    await ok(runDir, "rm", name);
  });
});
