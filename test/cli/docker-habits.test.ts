// The docker habits of the moby CLI against a real assembly: moby-init
// boots events, container-store and container-runtime in a scratch run
// directory, containers run with real runc in a busybox rootfs, and every
// command runs as a real `node packages/cli/bin/moby.js` process, checked by
// its stdout, stderr and exit code: stop's grace then SIGKILL, start,
// restart, wait, inspect, several ids with a failure, exit codes 125, 126,
// 127 and the container's, docker's filters, ps -q and --format json, -e,
// -w, -u, -v, --mount and --name, version, and ps and rm with the container
// store stopped. Needs root, runc and busybox; every container is removed,
// init stopped, and no process of the assembly left afterwards.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeBusyboxRootfs } from "../../packages/container-runtime/src/busybox-rootfs.js";
import { alive, scratchDirectory } from "../support/component-process.js";
import { Init, RUNC, cid, component, eventually, moby, ok, skipContainers, suffix } from "./moby-assembly.js";
import type { ContainerJson } from "./moby-assembly.js";

const skip = skipContainers;


/** A shell loop that ignores SIGTERM (it prints that it got it) and runs until killed. */
const IGNORES_TERM = 'trap "echo got TERM" TERM; echo started; while true; do sleep 0.1; done';
/** A shell loop that exits 0 on SIGTERM. */
const EXITS_ON_TERM = 'trap "echo bye; exit 0" TERM; echo started; while true; do sleep 0.1; done';

describe("moby's docker habits against a real assembly", { skip }, () => {
  const scratch = scratchDirectory("moby-cli-docker-");
  const rootfs = join(scratch.dir, "rootfs");
  const hostDir = join(scratch.dir, "host");
  const init = new Init(scratch.dir, {
    events: component("packages/events/bin/moby-events.js", { services: ["moby.events.v1.EventsService"] }),
    "container-store": component("packages/container-store/bin/moby-container-store.js", {
      services: ["moby.container.store.v1.ContainerStoreService"],
    }),
    "container-runtime": component("packages/container-runtime/bin/moby-container-runtime.js", {
      services: ["moby.container.runtime.v1.ContainerRuntimeService"],
      requires: ["container-store"],
    }),
  });
  const runDir = init.runDir;
  const runcRoot = join(runDir, "container-runtime", "runc");
  const runcList = () => spawnSync(RUNC!, ["--root", runcRoot, "list", "-q"], { encoding: "utf8" }).stdout.split("\n").filter((line) => line.trim() !== "");
  /** Every pid the assembly's components had, to check none is left. */
  const componentPids = new Set<number>();

  const ps = async (...args: string[]): Promise<ContainerJson[]> => JSON.parse((await ok(runDir, "ps", "--format", "json", ...args)).stdout) as ContainerJson[];
  const psOf = async (id: string): Promise<ContainerJson | undefined> => (await ps("-a")).find((c) => c.id === id);
  const quiet = async (...args: string[]): Promise<string[]> => (await ok(runDir, "ps", "-q", ...args)).stdout.split("\n").filter((l) => l !== "").sort();
  const rememberPids = async () => {
    for (const c of JSON.parse((await ok(runDir, "components", "--json")).stdout) as { pid: number }[]) if (c.pid > 0) componentPids.add(c.pid);
  };
  const runDetached = async (id: string, script: string, ...flags: string[]) => {
    assert.equal((await ok(runDir, "run", "-d", "--name", id, ...flags, "--rootfs", rootfs, "--", "sh", "-c", script)).stdout, `${id}\n`);
  };
  const waitForOutput = (id: string, text: string) => eventually(async () => (await moby(runDir, "logs", id)).stdout.includes(text), `${JSON.stringify(text)} from ${id}`);

  before(async () => {
    makeBusyboxRootfs(rootfs);
    // A file the container may not execute: mode 0644.
    writeFileSync(join(rootfs, "bin", "not-executable"), "#!/bin/sh\necho never\n");
    chmodSync(join(rootfs, "bin", "not-executable"), 0o644);
    mkdirSync(hostDir);
    chmodSync(hostDir, 0o777);
    writeFileSync(join(hostDir, "in"), "from the host\n");
    // Users and groups for -u NAME, as an image's /etc/passwd and /etc/group hold them.
    mkdirSync(join(rootfs, "etc"), { recursive: true });
    writeFileSync(join(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1001::/tmp:/bin/sh\n");
    writeFileSync(join(rootfs, "etc", "group"), "root:x:0:\nnogroup:x:65534:\napp:x:1001:\nstaff:x:50:app\n");
    await init.boot();
    await rememberPids();
  });

  after(async () => {
    let leftover: string[] = [];
    try {
      await rememberPids().catch(() => undefined);
      for (const container of await ps("-a").catch(() => [])) await moby(runDir, "rm", "-f", container.id);
      await init.stopCleanly();
      leftover = existsSync(runcRoot) ? runcList() : [];
    } finally {
      if (existsSync(runcRoot)) for (const id of runcList()) spawnSync(RUNC!, ["--root", runcRoot, "delete", "--force", id]);
      scratch.remove();
    }
    assert.deepEqual(leftover, [], "runc has no container left");
    assert.deepEqual([...componentPids].filter(alive), [], "no process of the assembly is left");
  });

  it("stops gracefully: SIGTERM first; SIGKILL after -t seconds only when the container ignores it", async () => {
    const stubborn = cid("stubborn");
    await runDetached(stubborn, IGNORES_TERM);
    await waitForOutput(stubborn, "started\n");
    assert.equal((await ok(runDir, "stop", "-t", "1", stubborn)).stdout, `${stubborn}\n`);
    assert.equal((await ok(runDir, "logs", stubborn)).stdout.includes("got TERM"), true, "SIGTERM came first");
    const killed = await psOf(stubborn);
    assert.deepEqual([killed?.status, killed?.exitCode, killed?.signal], ["stopped", 137, "SIGKILL"]);

    const polite = cid("polite");
    await runDetached(polite, EXITS_ON_TERM);
    await waitForOutput(polite, "started\n");
    assert.equal((await ok(runDir, "stop", polite)).stdout, `${polite}\n`);
    const exited = await psOf(polite);
    assert.deepEqual([exited?.status, exited?.exitCode, exited?.signal], ["stopped", 0, null], "it exited by itself on SIGTERM, within the default 10 s");
    assert.equal((await ok(runDir, "logs", polite)).stdout, "started\nbye\n");
    // Stopping a stopped container is no error, as docker's.
    assert.equal((await ok(runDir, "stop", polite)).stdout, `${polite}\n`);
    await ok(runDir, "rm", stubborn, polite);
  });

  it("starts a created container, starts an exited one again, and restarts a running one", async () => {
    const job = cid("job");
    assert.equal((await ok(runDir, "create", "--name", job, "--rootfs", rootfs, "--", "sh", "-c", "echo ran; exit 2")).stdout, `${job}\n`);
    assert.equal((await psOf(job))?.status, "created");
    assert.equal((await ok(runDir, "start", job)).stdout, `${job}\n`);
    assert.equal((await ok(runDir, "wait", job)).stdout, "2\n");
    assert.equal((await ok(runDir, "start", job)).stdout, `${job}\n`, "an exited container starts again");
    assert.equal((await ok(runDir, "wait", job)).stdout, "2\n");
    assert.equal((await ok(runDir, "logs", job)).stdout, "ran\n");

    const service = cid("service");
    await runDetached(service, EXITS_ON_TERM);
    const before = await psOf(service);
    assert.equal((await ok(runDir, "restart", "-t", "5", service)).stdout, `${service}\n`);
    const after = await psOf(service);
    assert.equal(after?.status, "running");
    assert.notEqual(after?.pid, before?.pid, "a new process");
    await ok(runDir, "rm", "-f", job, service);
  });

  it("waits for several containers and prints each exit code; a missing id is reported, the others still waited for", async () => {
    const [a, b, missing] = [cid("wait-a"), cid("wait-b"), cid("wait-missing")];
    await runDetached(a, "sleep 1; exit 3");
    await runDetached(b, "exit 5");
    const result = await moby(runDir, "wait", a, missing, b);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, "3\n5\n");
    assert.match(result.stderr, new RegExp(`^moby: ${missing}: [^\\n]*\\n$`));
    await ok(runDir, "rm", a, b);
  });

  it("inspects containers as JSON: the record with its OCI spec, and the task; a missing id fails, the others printed", async () => {
    const id = cid("inspected");
    const missing = cid("inspect-missing");
    await ok(runDir, "create", "--name", id, "-l", "app=web", "-e", "A=1", "-w", "/tmp", "-u", "1000:1000", "--rootfs", rootfs, "--", "sh", "-c", "true");
    const result = await moby(runDir, "inspect", id, missing);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`^moby: ${missing}: no such container: [^\\n]*\\n$`));
    const [only, ...rest] = JSON.parse(result.stdout) as {
      id: string;
      record: { id: string; labels: Record<string, string>; spec: { process: { env: string[]; cwd: string; user: { uid: number; gid: number }; args: string[] } } };
      task: { containerId: string; status: string };
    }[];
    assert.deepEqual(rest, []);
    assert.equal(only?.id, id);
    assert.deepEqual(only.record.labels, { app: "web" });
    assert.ok(only.record.spec.process.env.includes("A=1"), JSON.stringify(only.record.spec.process.env));
    assert.equal(only.record.spec.process.cwd, "/tmp");
    assert.deepEqual(only.record.spec.process.user, { uid: 1000, gid: 1000 });
    assert.deepEqual(only.record.spec.process.args, ["sh", "-c", "true"]);
    assert.equal(only.task.containerId, id);
    assert.equal(only.task.status, "STATUS_CREATED");
    await ok(runDir, "rm", id);
  });

  it("cuts a container's logs with --since and --until, by the time the runtime read the output", async () => {
    const id = cid("timed");
    await runDetached(id, "echo one; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo two");
    await waitForOutput(id, "one\n");
    // "one" was read before this moment, "two" is written only after it.
    const between = new Date().toISOString();
    await ok(runDir, "exec", id, "--", "touch", "/tmp/go");
    assert.equal((await ok(runDir, "wait", id)).stdout, "0\n");
    assert.equal((await ok(runDir, "logs", id)).stdout, "one\ntwo\n");
    assert.equal((await ok(runDir, "logs", "--since", between, id)).stdout, "two\n");
    assert.equal((await ok(runDir, "logs", "--until", between, id)).stdout, "one\n");
    assert.equal((await ok(runDir, "logs", "--since", "1h", id)).stdout, "one\ntwo\n", "a duration before now");
    const bad = await moby(runDir, "logs", "--since", "yesterday", id);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /--since "yesterday": give a duration before now \(10m\), an RFC 3339 time/);
    await ok(runDir, "rm", id);
  });

  it("kills and removes several containers, going on past a missing one and exiting 1", async () => {
    const [x, y, missing] = [cid("multi-x"), cid("multi-y"), cid("multi-missing")];
    await runDetached(x, IGNORES_TERM);
    await runDetached(y, IGNORES_TERM);
    const killed = await moby(runDir, "kill", x, missing, y);
    assert.equal(killed.code, 1, killed.stderr);
    assert.equal(killed.stdout, `${x}\n${y}\n`);
    assert.match(killed.stderr, new RegExp(`^moby: ${missing}: [^\\n]*\\n$`));
    assert.equal((await ok(runDir, "wait", x, y)).stdout, "137\n137\n");
    const removed = await moby(runDir, "rm", x, missing, y);
    assert.equal(removed.code, 1, removed.stderr);
    assert.equal(removed.stdout, `${x}\n${y}\n`);
    assert.equal(removed.stderr, `moby: ${missing}: no such container: no task in the runtime, no record in the store (moby ps -a lists them)\n`);
    assert.equal(await psOf(x), undefined);
    assert.equal(await psOf(y), undefined);
  });

  it("exits as docker: the container's code, 127 for a missing command, 126 for one it cannot execute, 125 for moby's own errors", async () => {
    const own = await moby(runDir, "run", "--rm", "--rootfs", rootfs, "--", "sh", "-c", "exit 3");
    assert.equal(own.code, 3, own.stderr);

    const notFound = await moby(runDir, "run", "--rm", "--rootfs", rootfs, "--", "no-such-command");
    assert.equal(notFound.code, 127);
    assert.match(notFound.stderr, /^moby: [^\n]*"no-such-command": executable file not found[^\n]*\n$/);
    const notExecutable = await moby(runDir, "run", "--rm", "--rootfs", rootfs, "--", "/bin/not-executable");
    assert.equal(notExecutable.code, 126);
    assert.match(notExecutable.stderr, /^moby: [^\n]*permission denied\n$/);

    const running = cid("exec-codes");
    await runDetached(running, IGNORES_TERM);
    assert.equal((await moby(runDir, "exec", running, "--", "no-such-command")).code, 127);
    assert.equal((await moby(runDir, "exec", running, "--", "/bin/not-executable")).code, 126);
    assert.equal((await moby(runDir, "exec", running, "--", "sh", "-c", "exit 9")).code, 9);
    await ok(runDir, "rm", "-f", running);

    const badFlag = await moby(runDir, "run", "--no-such-flag", "--rootfs", rootfs, "--", "true");
    assert.equal(badFlag.code, 125);
    assert.match(badFlag.stderr, /^moby: unknown option '--no-such-flag'\n/);
    const noInit = await moby(join(scratch.dir, "nowhere"), "ps");
    assert.equal(noInit.code, 125);
    assert.match(noInit.stderr, /^moby: cannot reach init at [^\n]*\n$/);
  });

  it("filters ps by docker's key=value and by the grammar; -q prints ids, --format json the same JSON as --json", async () => {
    const [web, db, job] = [cid("flt-web"), cid("flt-db"), cid("flt-job")];
    await runDetached(web, IGNORES_TERM, "-l", "app=web", "-l", "tier=front");
    await runDetached(db, IGNORES_TERM, "-l", "app=db");
    await ok(runDir, "run", "--name", job, "-l", "app=job", "--rootfs", rootfs, "--", "true");
    const mine = ["--filter", `id=flt-`];

    assert.deepEqual(await quiet(...mine), [db, web].sort(), "without -a: the running ones");
    assert.deepEqual(await quiet("-a", ...mine), [db, job, web].sort());
    assert.deepEqual(await quiet(...mine, "--filter", "label=app=web"), [web]);
    assert.deepEqual(await quiet(...mine, "--filter", "label=tier"), [web]);
    assert.deepEqual(await quiet("-a", ...mine, "--filter", "label=app=web", "--filter", "label=app=job"), [job, web].sort(), "one key's values are OR-ed");
    assert.deepEqual(await quiet(...mine, "--filter", "status=exited"), [job], "a status filter lists exited ones without -a");
    assert.deepEqual(await quiet("-a", "--filter", `name=db-${suffix}`), [db]);
    assert.deepEqual(await quiet("-a", ...mine, "--filter", "labels.app==db"), [db], "the grammar, AND-ed with docker's form");
    assert.deepEqual(await quiet("-a", "--filter", `id~=^flt-.*-${suffix}$,exitCode==0`), [job]);

    const viaFormat = (await ok(runDir, "ps", "-a", "--format", "json", ...mine)).stdout;
    assert.equal(viaFormat, (await ok(runDir, "ps", "-a", "--json", ...mine)).stdout);
    const rows = JSON.parse(viaFormat) as ContainerJson[];
    assert.deepEqual(rows.map((r) => r.id), [db, job, web].sort());
    assert.deepEqual(rows.find((r) => r.id === web)?.labels, { app: "web", tier: "front" });

    for (const [filter, message] of [
      ["color=red", /unknown filter key "color"; the keys are id, name, label, status/],
      ["status=sleeping", /unknown status; the statuses are/],
      ["nosuchfield==1", /"nosuchfield==1"/],
    ] as const) {
      const bad = await moby(runDir, "ps", "--filter", filter);
      assert.equal(bad.code, 125, filter);
      assert.match(bad.stderr.split("\n")[0]!, message);
    }
    await ok(runDir, "rm", "-f", web, db, job);
  });

  it("runs with -e, -w, -u, --name and bind mounts from -v and --mount, read-write and read-only", async () => {
    const named = cid("named");
    const script = 'echo "$A $B $(pwd) $(id -u):$(id -g)"; cat /data/in; echo from the container > /data/out';
    const result = await moby(runDir, "run", "--rm", "--name", named, "-e", "A=1", "--env", "B=two words", "-w", "/tmp", "-u", "1000:1000", "-v", `${hostDir}:/data`, "--rootfs", rootfs, "--", "sh", "-c", script);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "1 two words /tmp 1000:1000\nfrom the host\n");
    assert.equal(readFileSync(join(hostDir, "out"), "utf8"), "from the container\n", "-v is read-write");

    const tryWrite = 'cat /m/in; if echo x > /m/written 2>/dev/null; then echo wrote; else echo refused; fi';
    for (const flags of [["-v", `${hostDir}:/m:ro`], ["--mount", `type=bind,source=${hostDir},target=/m,readonly`]]) {
      const readOnly = await moby(runDir, "run", "--rm", ...flags, "--rootfs", rootfs, "--", "sh", "-c", tryWrite);
      assert.equal(readOnly.code, 0, readOnly.stderr);
      assert.equal(readOnly.stdout, "from the host\nrefused\n", flags.join(" "));
    }
    assert.equal(existsSync(join(hostDir, "written")), false);
    const rw = await moby(runDir, "run", "--rm", "--mount", `type=bind,src=${hostDir},dst=/m`, "--rootfs", rootfs, "--", "sh", "-c", tryWrite);
    assert.equal(rw.stdout, "from the host\nwrote\n", rw.stderr);

    const missing = join(scratch.dir, "no-such-dir");
    const noSource = await moby(runDir, "run", "--rm", "-v", `${missing}:/d`, "--rootfs", rootfs, "--", "true");
    assert.equal(noSource.code, 125);
    assert.equal(noSource.stderr, `moby: bind source ${missing} does not exist on this node: create it first (it is mounted at /d)\n`);
    const named2 = await moby(runDir, "run", "--rm", "-v", "vol:/d", "--rootfs", rootfs, "--", "true");
    assert.equal(named2.code, 125);
    assert.match(named2.stderr, /named volumes do not exist here/);
  });

  it("prints ps and inspect through docker's Go templates: fields, json, table headers; a bad field is exit 125", async () => {
    const id = cid("templated");
    await runDetached(id, EXITS_ON_TERM, "-l", "tier=front", "-e", "A=1");
    await waitForOutput(id, "started\n");
    const line = await ok(runDir, "ps", "-f", `id=${id}`, "--format", "{{.ID}}\\t{{.State}}\\t{{.Labels}}\\t{{upper .Names}}");
    assert.equal(line.stdout, `${id}\trunning\ttier=front\t${id.toUpperCase()}\n`);
    const table = (await ok(runDir, "ps", "-f", `id=${id}`, "--format", "table {{.ID}}\\t{{.Status}}")).stdout.split("\n");
    assert.match(table[0]!, /^CONTAINER ID +STATUS$/);
    assert.match(table[1]!, new RegExp(`^${id} +Up \\d+s$`));
    const json = JSON.parse((await ok(runDir, "ps", "-f", `id=${id}`, "--format", "{{json .}}")).stdout) as { ID: string; State: string; Pid: number };
    assert.deepEqual([json.ID, json.State], [id, "running"]);
    const comparing = await ok(runDir, "inspect", "--format", '{{range .Config.Env}}{{if eq . "A=1"}}found {{.}}{{end}}{{end}}', id);
    assert.equal(comparing.stdout, "found A=1\n");
    const unknownFunction = await moby(runDir, "inspect", "--format", "{{.Name}} {{html .Name}}", id);
    assert.equal(unknownFunction.code, 125);
    assert.match(unknownFunction.stderr, /template: at column 13: function "html" is not defined \(known: json, join/);
    const state = await ok(runDir, "inspect", "-f", "{{.State.Status}} {{.State.Running}} {{json .Config.Labels}} {{.Name}}", id);
    assert.equal(state.stdout, `running true {"tier":"front"} /${id}\n`);
    const env = JSON.parse((await ok(runDir, "inspect", "-f", "{{json .Config.Env}}", id)).stdout) as string[];
    assert.ok(env.includes("A=1"), JSON.stringify(env));
    const badField = await moby(runDir, "inspect", "-f", "{{.State.Stauts}}", id);
    assert.equal(badField.code, 125);
    assert.match(badField.stderr, /^moby: --format: template: at column 3: \.State\.Stauts: no field "Stauts" \(fields: Status, Running, Paused/);
    const badTemplate = await moby(runDir, "ps", "--format", "{{.ID");
    assert.equal(badTemplate.code, 125);
    assert.match(badTemplate.stderr, /template: at column 1: unclosed action/);
    await ok(runDir, "rm", "-f", id);
  });

  it("exec -d starts the program and returns at once, printing nothing; it keeps running, and its exit is recorded", async () => {
    const id = cid("exec-detach");
    await runDetached(id, EXITS_ON_TERM);
    await waitForOutput(id, "started\n");
    interface Exec {
      execId: string;
      status: string;
      args: string[];
      exitStatus?: { exitCode?: number };
    }
    const execs = async (): Promise<Exec[]> => (JSON.parse((await ok(runDir, "inspect", id)).stdout) as { task: { execs?: Exec[] } }[])[0]!.task.execs ?? [];
    // The program waits for a file that only a later exec writes (the rootfs is shared: a name of its own): exec -d returned while it was still running.
    const go = `/tmp/go-${id}`;
    const script = `while [ ! -e ${go} ]; do sleep 0.1; done; exit 7`;
    const waiter = await ok(runDir, "exec", "-d", id, "sh", "-c", script);
    assert.deepEqual([waiter.stdout, waiter.stderr], ["", ""]);
    const [running] = await execs();
    assert.deepEqual([running?.status, running?.args], ["STATUS_RUNNING", ["sh", "-c", script]], JSON.stringify(running));
    assert.equal((await ok(runDir, "exec", id, "touch", go)).stdout, "");
    await eventually(async () => (await execs()).some((e) => e.execId === running!.execId && e.status === "STATUS_STOPPED" && e.exitStatus?.exitCode === 7), "the detached exec's exit 7 recorded");
    const missing = await moby(runDir, "exec", "-d", id, "no-such-program");
    assert.equal(missing.code, 127, missing.stderr);
    await ok(runDir, "rm", "-f", id);
  });

  it("runs as a user named with -u (NAME, NAME:GROUP, UID:GROUP) from the container's /etc/passwd and /etc/group, for run and exec", async () => {
    const ids = 'echo "$(id -u):$(id -g):$(id -G)"';
    const asUser = async (user: string) => (await ok(runDir, "run", "--rm", "-u", user, "--rootfs", rootfs, "--", "sh", "-c", ids)).stdout;
    assert.equal(await asUser("nobody"), "65534:65534:65534\n");
    assert.equal(await asUser("nobody:staff"), "65534:50:50\n");
    assert.equal(await asUser("app"), "1000:1001:1001 50\n", "the primary group, and the groups that list app");
    assert.equal(await asUser("1000:app"), "1000:1001:1001 50\n");
    const unknown = await moby(runDir, "run", "--rm", "-u", "bogus", "--rootfs", rootfs, "--", "true");
    assert.equal(unknown.code, 125);
    assert.equal(unknown.stderr, "moby: unable to find user bogus: no matching entries in passwd file\n");
    const noGroup = await moby(runDir, "run", "--rm", "-u", "nobody:wheel", "--rootfs", rootfs, "--", "true");
    assert.equal(noGroup.code, 125);
    assert.equal(noGroup.stderr, "moby: unable to find group wheel: no matching entries in group file\n");

    const id = cid("exec-user");
    await runDetached(id, EXITS_ON_TERM);
    await waitForOutput(id, "started\n");
    assert.equal((await ok(runDir, "exec", "-u", "nobody:nogroup", id, "sh", "-c", ids)).stdout, "65534:65534:65534\n");
    assert.equal((await ok(runDir, "exec", "--user", "app", id, "sh", "-c", ids)).stdout, "1000:1001:1001 50\n");
    const badExec = await moby(runDir, "exec", "-u", "ghost", id, "true");
    assert.equal(badExec.code, 125);
    assert.equal(badExec.stderr, "moby: unable to find user ghost: no matching entries in passwd file\n");
    await ok(runDir, "rm", "-f", id);
  });

  it("prints the version of every component of the assembly, with the container APIs", async () => {
    const json = JSON.parse((await ok(runDir, "version", "--format", "json")).stdout) as {
      components: { name: string; apis: { service: string; apiVersion: string }[]; error: string | null }[];
    };
    assert.deepEqual(json.components.map((c) => c.name).sort(), ["container-runtime", "container-store", "events", "init"]);
    const runtime = json.components.find((c) => c.name === "container-runtime");
    assert.ok(runtime?.apis.some((a) => a.service === "moby.container.runtime.v1.ContainerRuntimeService" && a.apiVersion === "v1"));
  });

  // Last: it stops the container store.
  it("lists the runtime's tasks with the container store stopped, and says what rm could and could not do", async () => {
    const id = cid("degraded");
    await runDetached(id, IGNORES_TERM, "-l", "app=web");
    assert.equal((await ok(runDir, "component", "stop", "container-store")).stdout, "stopped container-store\n");

    const listed = await moby(runDir, "ps");
    assert.equal(listed.code, 0, listed.stderr);
    const line = listed.stdout.split("\n").find((l) => l.startsWith(`${id} `));
    assert.ok(line, listed.stdout);
    assert.match(line, /\s+running\s+\d+\s+-\s+.* ago\s+-$/, "COMMAND is unknown without the record");
    assert.match(listed.stderr, /^moby: note: container records are unavailable \(cannot reach the container-store component at [^\n]*\); listing the runtime's tasks only, without their command and labels\n$/);
    assert.deepEqual(await quiet(), [id]);

    const removed = await moby(runDir, "rm", "-f", id);
    assert.equal(removed.code, 125);
    assert.equal(removed.stdout, "");
    assert.match(removed.stderr, new RegExp(`^moby: ${id}: deleted its task, but not its record: cannot reach the container-store component [^\\n]*; run moby rm ${id} again once the container store serves \\(moby component start container-store\\)\\n$`));

    await ok(runDir, "component", "start", "container-store");
    await eventually(async () => (await moby(runDir, "ps", "-a")).stderr === "", "container-store serving again");
    await rememberPids();
    const recordOnly = await psOf(id);
    assert.deepEqual([recordOnly?.status, recordOnly?.labels], [null, { app: "web" }], "the record is back, without a task");
    assert.equal((await ok(runDir, "rm", id)).stdout, `${id}\n`);
    assert.equal(await psOf(id), undefined);
  });
});
