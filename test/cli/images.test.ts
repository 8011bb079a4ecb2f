// The image commands of `moby` as a user types them, against the reference
// assembly booted by moby-init from each reference manifest (moby.yaml, and
// moby.contained.yaml with the image-store in a container) and a real
// docker-registry on a loopback port: pull, images, run IMAGE [COMMAND...], tag, save and
// load, import of a filesystem tarball made by tar, rmi.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { scratchDirectory } from "../support/component-process.js";
import { ImageRegistry } from "../support/image-registry.js";
import { busyboxLayer, buildImage, pushImage, tarOf } from "../support/test-images.js";
import { REFERENCE_MANIFESTS, ReferenceAssembly } from "../support/reference-assembly.js";
import { MOBY, cid, moby, ok } from "./moby-assembly.js";

for (const manifest of REFERENCE_MANIFESTS) describe(`moby's image commands against the reference assembly (${manifest.file})`, { skip: manifest.skip }, () => {
  const scratch = scratchDirectory("moby-cli-img-");
  const registry = new ImageRegistry(join(scratch.dir, "registry"));
  const init = new ReferenceAssembly(manifest, scratch.dir);
  let reference = "";

  before(async () => {
    mkdirSync(join(scratch.dir, "registry"), { recursive: true });
    await registry.start();
    const image = buildImage([await busyboxLayer(), await tarOf([{ name: "etc/motd", content: "from the image\n" }])], { Cmd: ["sh", "-c", "cat /etc/motd"], Env: ["PATH=/bin"] });
    await pushImage(registry, "demo/motd", "1", image);
    reference = `${registry.host}/demo/motd:1`;
    await init.boot();
  });

  after(async () => {
    try {
      await init.stopCleanly();
    } finally {
      await init.cleanup();
      await registry.stop();
      scratch.remove();
    }
  });

  it("pulls with a line per layer, lists, runs the image's Cmd or the command given, tags, exports, imports and removes", async () => {
    const pulled = await ok(init.runDir, "pull", reference);
    assert.match(pulled.stdout, /: Pull complete\n/);
    assert.match(pulled.stdout, new RegExp(`Pulled: ${reference.replace(/[.]/g, "\\.")}\n`));
    assert.equal((await ok(init.runDir, "pull", "-q", reference)).stdout, `${reference}\n`);
    const table = (await ok(init.runDir, "images")).stdout;
    assert.match(table, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n/);
    assert.match(table, new RegExp(`${registry.host.replace(/[.]/g, "\\.")}/demo/motd\\s+1\\s+[0-9a-f]{12}\\s`));
    const templated = (await ok(init.runDir, "images", "--format", "{{.Repository}}:{{.Tag}}\\t{{len .ID}}")).stdout;
    assert.equal(templated, `${registry.host}/demo/motd:1\t12\n`, "docker's images --format");
    const header = (await ok(init.runDir, "images", "--format", "table {{.Repository}}\\t{{.ID}}")).stdout.split("\n")[0];
    assert.match(header!, /^REPOSITORY +IMAGE ID$/);
    assert.equal((await ok(init.runDir, "run", "--rm", "--name", cid("img-cmd"), reference)).stdout, "from the image\n");
    assert.equal((await ok(init.runDir, "run", "--rm", "--name", cid("img-args"), reference, "echo", "given")).stdout, "given\n");
    await ok(init.runDir, "tag", reference, "demo/motd:copy");
    const names = (await ok(init.runDir, "images", "--json")).stdout.trim().split("\n").map((line) => (JSON.parse(line) as { name: string }).name);
    assert.deepEqual(names.sort(), ["docker.io/demo/motd:copy", reference].sort());
    const archive = join(scratch.dir, "motd.tar");
    await ok(init.runDir, "save", "-o", archive, "demo/motd:copy");
    assert.ok(existsSync(archive));
    await ok(init.runDir, "rmi", reference, "demo/motd:copy");
    assert.equal((await ok(init.runDir, "images", "--json")).stdout, "");
    assert.equal((await ok(init.runDir, "load", "-i", archive)).stdout, "Loaded image: docker.io/demo/motd:copy\n");
    assert.equal((await ok(init.runDir, "run", "--rm", "--name", cid("img-imported"), "demo/motd:copy")).stdout, "from the image\n");
    const missing = await moby(init.runDir, "run", "--rm", "no/such:image");
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /not in the image store: pull it first/);
    await ok(init.runDir, "rmi", "demo/motd:copy");
  });

  it("imports a filesystem tarball made by tar, from a file or stdin, as docker import: --change sets what runs", async () => {
    const rootfs = join(scratch.dir, "import-rootfs");
    mkdirSync(join(rootfs, "bin"), { recursive: true });
    mkdirSync(join(rootfs, "etc"));
    runChecked("cp", ["/bin/busybox", join(rootfs, "bin/busybox")]);
    for (const name of ["sh", "cat", "echo"]) symlinkSync("busybox", join(rootfs, "bin", name));
    writeFileSync(join(rootfs, "etc/motd"), "from a tarball\n");
    const tarball = join(scratch.dir, "rootfs.tar.gz");
    runChecked("tar", ["-C", rootfs, "-czf", tarball, "."]);

    const id = (await ok(init.runDir, "import", "-c", 'CMD ["cat", "/etc/motd"]', "-c", "ENV GREETING=hi", "-m", "made by tar", tarball, "demo/fs:1")).stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal((await ok(init.runDir, "run", "--rm", "--name", cid("imp-cmd"), "demo/fs:1")).stdout, "from a tarball\n");
    assert.equal((await ok(init.runDir, "run", "--rm", "--name", cid("imp-env"), "demo/fs:1", "sh", "-c", "echo $GREETING")).stdout, "hi\n");

    // From stdin, uncompressed, under `moby image import`, as a pipe from tar.
    const piped = await shell(`tar -C '${rootfs}' -c . | '${process.execPath}' '${MOBY}' --run-dir '${init.runDir}' image import - demo/fs:piped`);
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal((await ok(init.runDir, "run", "--rm", "--name", cid("imp-pipe"), "demo/fs:piped", "cat", "/etc/motd")).stdout, "from a tarball\n");

    // Bad input: a file that is not a tarball, an instruction import cannot apply; nothing recorded.
    const before = (await ok(init.runDir, "images", "--json")).stdout;
    writeFileSync(join(scratch.dir, "notes.txt"), "not a tarball\n".repeat(64));
    const notTar = await moby(init.runDir, "import", join(scratch.dir, "notes.txt"), "demo/fs:bad");
    assert.notEqual(notTar.code, 0);
    assert.match(notTar.stderr, /notes\.txt is not a tar archive \(nor gzip-compressed\)/);
    const badChange = await moby(init.runDir, "import", "-c", "RUN make", tarball, "demo/fs:bad");
    assert.notEqual(badChange.code, 0);
    assert.match(badChange.stderr, /--change "RUN make": RUN is not an instruction import can apply/);
    assert.equal((await ok(init.runDir, "images", "--json")).stdout, before);
    await ok(init.runDir, "rmi", "demo/fs:1", "demo/fs:piped");
  });
});

/** Runs a command to completion, failing on a non-zero exit. */
function runChecked(file: string, args: string[]): void {
  const result = spawnSync(file, args, { stdio: ["ignore", "ignore", "pipe"] });
  assert.equal(result.status, 0, `${file} ${args.join(" ")}: ${result.stderr.toString()}`);
}

/** Runs a bash command line without blocking the test process. */
function shell(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("bash", ["-o", "pipefail", "-c", command], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr });
    });
  });
}
