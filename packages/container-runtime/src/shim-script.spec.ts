// The shim on its own, with a fake runc (a shell script that starts the
// "container" process in the background and exits, as runc create does):
// the shim becomes the process's parent, records its exit status, keeps its
// output in bounded record files, passes what its stdin FIFO gets to the
// process until close-stdin, and reports a failed runc. Needs perl and
// Linux, not root.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ProcessLogReader } from "./log-files.js";
import { findExecutable, shimSyscalls } from "./prerequisites.js";
import { exitStatusOf, processStartTime, readCreatedFile, readExitFile } from "./process-files.js";
import { ProcessInput } from "./process-input.js";
import { SHIM_SCRIPT } from "./shim-script.js";

const perl = findExecutable("perl");
const syscalls = shimSyscalls();
const skip = perl === undefined || syscalls === undefined || process.platform !== "linux" ? "needs perl on Linux" : false;

const root = mkdtempSync(join(tmpdir(), "moby-shim-"));
after(() => rmSync(root, { recursive: true, force: true }));
const script = join(root, "shim.pl");
writeFileSync(script, SHIM_SCRIPT);
const fakeRunc = join(root, "runc");
writeFileSync(
  fakeRunc,
  `#!/bin/sh
# A fake runc: finds --pid-file, runs $FAKE_COMMAND in the background, writes its pid, exits.
while [ $# -gt 0 ]; do
  case "$1" in
    --pid-file) pidfile="$2"; shift 2 ;;
    *) shift ;;
  esac
done
if [ -n "$FAKE_FAIL" ]; then echo "runc create failed: $FAKE_FAIL" >&2; exit 1; fi
# (Through fd 3: an asynchronous list's stdin is /dev/null before its redirections.)
exec 3<&0
sh -c "$FAKE_COMMAND" <&3 3<&- &
echo $! > "$pidfile"
`,
);
chmodSync(fakeRunc, 0o755);

let runs = 0;
/** Runs the shim with the fake runc (with an open stdin: STDIN 1); resolves when the shim has exited, after calling meanwhile(dir) once its process is created. */
async function runShim(env: Record<string, string>, maxBytes = 1024 * 1024, stdin = false, meanwhile?: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(root, `p${runs++}`);
  mkdirSync(dir);
  const args = [script, "init", String(syscalls!.prctl), String(syscalls!.clockGettime), fakeRunc, join(root, "state"), "c1", dir, root, String(maxBytes)];
  if (stdin) args.push("1", "0", String(syscalls!.recvmsg), String(syscalls!.tiocswinsz));
  const child = spawn(perl!, args, { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, ...env } });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  if (meanwhile !== undefined) {
    while (readCreatedFile(dir) === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    await meanwhile(dir);
  }
  await exited;
  return dir;
}

async function output(dir: string, streams: (1 | 2)[] = [1, 2]): Promise<string> {
  const reader = new ProcessLogReader(dir, streams);
  let text = "";
  for (;;) {
    const { records, caughtUp } = await reader.poll();
    text += Buffer.concat(records.map((r) => r.data)).toString();
    if (caughtUp) break;
  }
  await reader.close();
  return text;
}

describe("the shim", { skip }, () => {
  it("reaps the process runc left behind and records its exit status and output", async () => {
    const dir = await runShim({ FAKE_COMMAND: "echo out; sleep 0.2; echo err >&2; sleep 0.2; exit 3" });
    const created = readCreatedFile(dir);
    assert.ok(created?.ok, JSON.stringify(created));
    const exit = readExitFile(dir);
    assert.deepEqual(exitStatusOf(exit!.status), { exitCode: 3, signal: 0 });
    assert.ok(Math.abs(exit!.timeUs / 1000 - Date.now()) < 10_000, "the exit time is now");
    assert.ok(existsSync(join(dir, "drained")));
    assert.equal(await output(dir), "out\nerr\n");
    assert.equal(await output(dir, [2]), "err\n");
  });

  it("records the process's start time with its pid, read before it could reap it", async () => {
    // The process ends at once: the shim reads its start time from its zombie.
    const dir = await runShim({ FAKE_COMMAND: "exit 0" });
    const created = readCreatedFile(dir);
    assert.ok(created?.ok === true && created.startTime !== undefined, JSON.stringify(created));
    assert.match(created.startTime, /^\d+$/);
    assert.ok(Number(created.startTime) >= Number(processStartTime(process.pid)), "it started after this test did");
    assert.match(readFileSync(join(dir, "created"), "utf8"), new RegExp(`^ok ${created.pid} ${created.startTime}\n$`));
  });

  it("records a signal", async () => {
    const dir = await runShim({ FAKE_COMMAND: "sleep 0.3; kill -9 $$" });
    assert.deepEqual(exitStatusOf(readExitFile(dir)!.status), { exitCode: 137, signal: 9 });
  });

  it("keeps each stream under its bound, the newest output", async () => {
    const dir = await runShim({ FAKE_COMMAND: "seq 1 100000" }, 65536);
    const onDisk = ["stdout.log", "stdout.log.1"].reduce((sum, f) => sum + (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0), 0);
    assert.ok(onDisk <= 65536 + 2 * (24 + 32768), `${onDisk} bytes kept`);
    const text = await output(dir);
    assert.ok(text.endsWith("99999\n100000\n"));
    assert.ok(text.length >= 32768 - 24);
  });

  it("passes what the stdin FIFO gets to the process, and closes its stdin on close-stdin", async () => {
    const dir = await runShim({ FAKE_COMMAND: "cat; echo closed" }, 1024 * 1024, true, async (dir) => {
      assert.equal(statSync(join(dir, "stdin")).isFIFO(), true);
      const first = ProcessInput.open(dir)!;
      await first.write(Buffer.from("one\n"));
      first.close();
      // Writers come and go: the shim keeps the FIFO open.
      const second = ProcessInput.open(dir)!;
      await second.write(Buffer.alloc(200_000, "x"));
      await second.flush();
      assert.equal(ProcessInput.control(dir, "close-stdin"), true);
      second.close();
    });
    assert.deepEqual(exitStatusOf(readExitFile(dir)!.status), { exitCode: 0, signal: 0 });
    assert.equal(await output(dir), `one\n${"x".repeat(200_000)}closed\n`);
    assert.equal(ProcessInput.open(dir), undefined, "no reader once the shim is gone");
  });

  it("reports a failed runc with its message", async () => {
    const dir = await runShim({ FAKE_FAIL: "boom", FAKE_COMMAND: "true" });
    const created = readCreatedFile(dir);
    assert.equal(created?.ok, false);
    assert.match(readFileSync(join(dir, "created"), "utf8"), /runc create failed: boom/);
    assert.equal(readExitFile(dir), undefined);
  });
});
