// The image-store component against a real registry (Debian's docker-registry
// on 127.0.0.1, throwaway storage) with images built here from busybox-static:
// pull with progress, the overlayfs root filesystem with whiteouts and an
// opaque directory, delete and re-pull, a multi-platform index, a tampered
// blob, an interrupted pull, two concurrent pulls, garbage collection,
// kill -9 during a pull, basic auth, bearer tokens from a token service, and
// docker-save import and export.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { randomBytes } from "node:crypto";
import type { Client } from "@connectrpc/connect";
import { Code, dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ContentKind, ImageService, PullPhase } from "@moby-core/image-api/v1";
import type { Image, PullImageResponse } from "@moby-core/image-api/v1";
import { ComponentProcess, scratchDirectory } from "../support/component-process.js";
import { ImageRegistry } from "../support/image-registry.js";
import { TokenServer } from "../support/token-server.js";
import { busyboxLayer, buildImage, dockerSaveArchive, pushImage, pushMultiPlatform, tarOf } from "../support/test-images.js";
import type { BuiltImage } from "../support/test-images.js";
import { rejection } from "../support/rejection.js";

const scratch = scratchDirectory("moby-is-");
const isRoot = process.getuid?.() === 0;

/** Unmounts whatever is still mounted under the scratch directory, then removes it. */
function cleanScratch(): void {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((line) => line.split(" ")[4] ?? "").filter((path) => path.startsWith(scratch.dir));
  for (const path of mounts.reverse()) execFileSync("umount", ["-l", path]);
  scratch.remove();
}

type ImageClient = Client<typeof ImageService>;

/** One image-store process under test. */
class Store {
  readonly socketPath: string;
  readonly root: string;
  process: ComponentProcess | undefined;
  private readonly connections: Connection[] = [];

  constructor(
    readonly name: string,
    private readonly config: Record<string, unknown> = {},
  ) {
    this.socketPath = join(scratch.dir, name, "is.sock");
    this.root = join(scratch.dir, name, "state");
  }

  async start(): Promise<void> {
    const child = new ComponentProcess("packages/image-store/bin/moby-image-store.js", {
      MOBY_SOCKET: this.socketPath,
      MOBY_COMPONENT_NAME: "image-store",
      MOBY_LOG_LEVEL: "warn",
      MOBY_REGISTRY_ENDPOINT: "",
      MOBY_ENDPOINT_EVENTS: join(scratch.dir, this.name, "no-events.sock"),
      MOBY_COMPONENT_CONFIG: JSON.stringify({ root: this.root, ...this.config }),
    });
    this.process = child;
    await child.waitForSocket(this.socketPath);
  }

  client(): ImageClient {
    const connection = dialSocket(this.socketPath);
    this.connections.push(connection);
    return connection.client(ImageService);
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    this.connections.splice(0).forEach((c) => c.close());
    const child = this.process;
    this.process = undefined;
    await child?.stop(signal);
  }

  /** Every blob digest on disk; each file's bytes must hash to its name. */
  blobs(): string[] {
    const dir = join(this.root, "blobs", "sha256");
    const names = existsSync(dir) ? readdirSync(dir) : [];
    for (const hex of names) assert.equal(createHash("sha256").update(readFileSync(join(dir, hex))).digest("hex"), hex, `blob ${hex} is whole and verified`);
    return names.map((hex) => `sha256:${hex}`).sort();
  }

  /** The files left in ingest/ (half-written blobs). */
  ingest(): string[] {
    const dir = join(this.root, "ingest");
    return existsSync(dir) ? readdirSync(dir) : [];
  }
}

/** Pulls reference; returns the progress messages and the image. */
async function pull(client: ImageClient, reference: string, platform = ""): Promise<{ progress: PullImageResponse[]; image: Image }> {
  const progress: PullImageResponse[] = [];
  let image: Image | undefined;
  for await (const message of client.pullImage({ reference, platform })) {
    if (message.kind.case === "image") image = message.kind.value;
    else progress.push(message);
  }
  assert.ok(image, "the pull ends with the image");
  return { progress, image };
}

const registry = new ImageRegistry(join(scratch.dir, "registry"));
let multi: BuiltImage;
let sibling: BuiltImage;
let big: BuiltImage;

before(async () => {
  mkdirSync(join(scratch.dir, "registry"), { recursive: true });
  await registry.start();
  const base = await busyboxLayer();
  const upper = await tarOf([
    { name: "etc/.wh.removed" },
    { name: "etc/hello", content: "two\n" },
    { name: "data/opq/.wh..wh..opq" },
    { name: "data/opq/upper", content: "only this one\n" },
  ]);
  const top = await tarOf([{ name: "app/", type: "directory" }, { name: "app/run.sh", content: "echo app\n", mode: 0o755 }]);
  multi = buildImage([base, upper, top], { Entrypoint: ["/bin/sh", "-c"], Cmd: ["echo hi"], Env: ["PATH=/bin", "GREETING=hello"], WorkingDir: "/app", User: "0:0", Labels: { team: "core" } });
  await pushImage(registry, "test/multi", "1.0", multi);
  // Shares the busybox layer with multi: garbage collection must keep it while either is named.
  sibling = buildImage([base, await tarOf([{ name: "sibling", content: "s\n" }])], { Cmd: ["sh"] });
  await pushImage(registry, "test/sibling", "latest", sibling);
  await pushMultiPlatform(registry, "test/multiarch", "latest", multi);
  // 24 MiB of random bytes: large enough that a pull can be stopped part way, on a progress message.
  big = buildImage([base, await tarOf([{ name: "big.bin", content: randomBytes(24 * 1024 * 1024) }])]);
  await pushImage(registry, "test/big", "latest", big);
});

after(async () => {
  await registry.stop();
  cleanScratch();
});

describe("image-store with a real registry", { skip: isRoot ? false : "needs root (overlayfs mounts, chown)" }, () => {
  const store = new Store("main");
  before(() => store.start());
  after(() => store.stop("SIGKILL"));

  it("pulls an image with per-layer progress and records it under its normalized name", async () => {
    const { progress, image } = await pull(store.client(), `${registry.host}/test/multi:1.0`);
    assert.equal(image.name, `${registry.host}/test/multi:1.0`);
    assert.equal(image.manifestDigest, multi.manifestDigest);
    assert.equal(image.configDigest, multi.configDigest);
    assert.deepEqual(image.layers.map((l) => l.digest), multi.layers);
    assert.deepEqual(image.config?.entrypoint, ["/bin/sh", "-c"]);
    assert.deepEqual(image.config?.env, ["PATH=/bin", "GREETING=hello"]);
    assert.equal(image.config?.labels.team, "core");
    for (const layer of multi.layers) {
      const phases = progress.filter((m) => m.kind.case === "progress" && m.kind.value.digest === layer).map((m) => (m.kind.value as { phase: PullPhase }).phase);
      assert.equal(phases[0], PullPhase.RESOLVED, `layer ${layer} is resolved first`);
      assert.ok(phases.includes(PullPhase.EXTRACTING), `layer ${layer} is extracted`);
      assert.equal(phases.at(-1), PullPhase.DONE, `layer ${layer} ends done`);
    }
    assert.ok(progress.some((m) => m.kind.case === "progress" && m.kind.value.kind === ContentKind.CONFIG));
    const listed = await store.client().listImages({});
    assert.deepEqual(listed.images.map((i) => i.name), [`${registry.host}/test/multi:1.0`]);
    const byId = await store.client().getImage({ name: multi.configDigest.slice(7, 19) });
    assert.equal(byId.image?.name, image.name);
  });

  it("prepares a root filesystem on overlayfs with whiteouts and the opaque directory honoured, and runs busybox in it", async () => {
    const client = store.client();
    const prepared = await client.prepareRootfs({ containerId: "c1", image: `${registry.host}/test/multi:1.0` });
    try {
      await checkRootfs(client, prepared.path);
    } finally {
      await client.releaseRootfs({ containerId: "c1" });
      await client.releaseRootfs({ containerId: "c2" });
    }
    assert.equal(prepared.method, "overlayfs");
    assert.equal(existsSync(prepared.path), false);
  });

  async function checkRootfs(client: ImageClient, root: string): Promise<void> {
    assert.equal(readFileSync(join(root, "etc/hello"), "utf8"), "two\n");
    assert.equal(existsSync(join(root, "etc/removed")), false, "the whiteout hides etc/removed");
    assert.deepEqual(readdirSync(join(root, "data/opq")), ["upper"], "the opaque directory hides what is below it");
    assert.equal(readlinkSync(join(root, "bin/sh")), "busybox");
    assert.equal(execFileSync("chroot", [root, "/bin/sh", "-c", "cat /etc/hello; sh /app/run.sh"], { encoding: "utf8" }), "two\napp\n");
    const again = await client.prepareRootfs({ containerId: "c1", image: `${registry.host}/test/multi:1.0` });
    assert.equal(again.path, root, "prepare is idempotent");
    // A container's writes land in its own layer, never in the image's.
    writeFileSync(join(root, "etc/hello"), "changed\n");
    const second = await client.prepareRootfs({ containerId: "c2", image: `${registry.host}/test/multi:1.0` });
    assert.equal(readFileSync(join(second.path, "etc/hello"), "utf8"), "two\n");
    const inUse = await rejection(client.deleteImage({ name: `${registry.host}/test/multi:1.0` }));
    assert.equal(inUse.code, Code.FailedPrecondition, inUse.message);
    assert.equal((await client.releaseRootfs({ containerId: "c2" })).released, true);
    assert.equal((await client.releaseRootfs({ containerId: "c2" })).released, false, "release is idempotent");
  }

  it("pulls zstd-compressed layers (OCI 1.1), runs busybox from them, and refuses a corrupt zstd layer", async () => {
    const client = store.client();
    const zstd = buildImage([await busyboxLayer(), await tarOf([{ name: "etc/zstd", content: "decompressed\n" }])], { Cmd: ["sh"] }, undefined, "zstd");
    await pushImage(registry, "test/zstd", "1", zstd);
    const { image } = await pull(client, `${registry.host}/test/zstd:1`);
    assert.deepEqual(image.layers.map((l) => l.digest), zstd.layers);
    const prepared = await client.prepareRootfs({ containerId: "zstd", image: image.name });
    try {
      assert.equal(execFileSync("chroot", [prepared.path, "/bin/sh", "-c", "cat /etc/zstd"], { encoding: "utf8" }), "decompressed\n");
    } finally {
      await client.releaseRootfs({ containerId: "zstd" });
    }
    await client.deleteImage({ name: image.name });
    // A layer that starts as zstd and then is not: the digest matches (it was pushed so), the unpacking fails.
    const tar = await tarOf([{ name: "etc/x", content: "x\n" }]);
    const corrupt = buildImage([tar], {}, undefined, "zstd");
    const [layerDigest] = corrupt.layers;
    const broken = Buffer.concat([corrupt.blobs.get(layerDigest!)!.subarray(0, 8), Buffer.alloc(64, 0xff)]);
    const brokenImage = buildImageWithLayerBlob(corrupt, layerDigest!, broken);
    await pushImage(registry, "test/zstd-broken", "1", brokenImage);
    const error = await rejection(pull(client, `${registry.host}/test/zstd-broken:1`));
    assert.match(error.message, /zstd/, error.message);
    assert.equal((await client.listImages({})).images.some((i) => i.name.includes("zstd-broken")), false, "nothing recorded");
  });

  it("deletes an image and frees its content, then pulls it again", async () => {
    const client = store.client();
    const deleted = await client.deleteImage({ name: `${registry.host}/test/multi:1.0` });
    assert.deepEqual(deleted.untagged, [`${registry.host}/test/multi:1.0`]);
    assert.deepEqual(store.blobs(), [], "nothing else names any blob");
    assert.deepEqual(readdirSync(join(store.root, "snapshots")), []);
    const { image } = await pull(client, `${registry.host}/test/multi:1.0`);
    assert.equal(image.manifestDigest, multi.manifestDigest);
    const prepared = await client.prepareRootfs({ containerId: "c3", image: image.name });
    assert.equal(readFileSync(join(prepared.path, "etc/hello"), "utf8"), "two\n");
    await client.releaseRootfs({ containerId: "c3" });
  });

  it("frees exactly what no other image uses", async () => {
    const client = store.client();
    await pull(client, `${registry.host}/test/sibling`);
    await client.tagImage({ source: `${registry.host}/test/multi:1.0`, target: `${registry.host}/test/multi:alias` });
    const onlyAlias = await client.deleteImage({ name: `${registry.host}/test/multi:1.0` });
    assert.deepEqual(onlyAlias.deletedBlobs, [], "the alias still names every blob");
    const deleted = await client.deleteImage({ name: `${registry.host}/test/multi:alias` });
    const unique = [multi.manifestDigest, multi.configDigest, ...multi.layers].filter((d) => !sibling.blobs.has(d) && d !== sibling.manifestDigest).sort();
    assert.deepEqual([...deleted.deletedBlobs].sort(), unique);
    assert.deepEqual(store.blobs(), [sibling.manifestDigest, ...sibling.blobs.keys()].sort(), "the sibling's blobs, the shared base layer among them, stay");
    await client.deleteImage({ name: `${registry.host}/test/sibling` });
    assert.deepEqual(store.blobs(), []);
  });

  it("keeps a force-deleted image's content while a root filesystem uses it, and frees it at release", async () => {
    const client = store.client();
    await pull(client, `${registry.host}/test/sibling`);
    const prepared = await client.prepareRootfs({ containerId: "forced", image: `${registry.host}/test/sibling` });
    const deleted = await client.deleteImage({ name: `${registry.host}/test/sibling`, force: true });
    assert.deepEqual(deleted.deletedBlobs, [], "the container still uses every blob");
    assert.equal(readFileSync(join(prepared.path, "sibling"), "utf8"), "s\n");
    assert.equal((await client.releaseRootfs({ containerId: "forced" })).released, true);
    assert.deepEqual(store.blobs(), []);
    assert.deepEqual(readdirSync(join(store.root, "snapshots")), []);
  });

  it("selects this machine's platform from a multi-platform index", async () => {
    const { image } = await pull(store.client(), `${registry.host}/test/multiarch`);
    assert.equal(image.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.equal(image.manifestDigest, multi.manifestDigest);
    const other = await rejection(pull(store.client(), `${registry.host}/test/multiarch`, "linux/mips64le"));
    assert.equal(other.code, Code.FailedPrecondition, other.message);
    await store.client().deleteImage({ name: `${registry.host}/test/multiarch` });
  });

  it("refuses a tampered blob and keeps nothing of it", async () => {
    const tampered = buildImage([await tarOf([{ name: "x", content: "original content" }])]);
    await pushImage(registry, "test/tampered", "latest", tampered);
    const path = registry.blobData(tampered.layers[0]!);
    const bytes = readFileSync(path);
    bytes[bytes.length - 5]! ^= 0xff;
    writeFileSync(path, bytes);
    const snapshots = readdirSync(join(store.root, "snapshots")).sort();
    const error = await rejection(pull(store.client(), `${registry.host}/test/tampered`));
    assert.equal(error.code, Code.DataLoss, error.message);
    assert.deepEqual(readdirSync(join(store.root, "snapshots")).sort(), snapshots, "no snapshot of it, and no half-unpacked directory, though it was unpacked as it arrived");
    assert.equal(existsSync(join(store.root, "blobs/sha256", tampered.layers[0]!.slice(7))), false);
    assert.deepEqual(store.ingest(), []);
    assert.deepEqual((await store.client().listImages({})).images, []);
  });

  it("leaves nothing half-present when a pull is cancelled", async () => {
    const controller = new AbortController();
    const layer = big.layers[1]!;
    const error = await rejection(
      (async () => {
        for await (const message of store.client().pullImage({ reference: `${registry.host}/test/big` }, { signal: controller.signal })) {
          if (message.kind.case === "progress" && message.kind.value.digest === layer && message.kind.value.phase === PullPhase.DOWNLOADING) controller.abort();
        }
      })(),
    );
    assert.equal(error.code, Code.Canceled, error.message);
    assert.deepEqual((await store.client().listImages({})).images, []);
    // The store finishes cancelling on its side: the big layer is never present, and no partial file stays.
    for (let i = 0; i < 200 && store.ingest().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.deepEqual(store.ingest(), []);
    assert.equal(store.blobs().includes(layer), false);
    // What was verified before the cancel is whole (store.blobs() checks every file) and a pull completes it.
    await pull(store.client(), `${registry.host}/test/big`);
    await store.client().deleteImage({ name: `${registry.host}/test/big` });
  });

  it("downloads each blob once when two pulls of one image run together", async () => {
    const before = Object.fromEntries(big.layers.map((d) => [d, registry.blobGets(d)]));
    const [a, b] = await Promise.all([pull(store.client(), `${registry.host}/test/big`), pull(store.client(), `${registry.host}/test/big`)]);
    assert.equal(a.image.manifestDigest, b.image.manifestDigest);
    for (const digest of big.layers) assert.equal(registry.blobGets(digest) - before[digest]!, 1, `blob ${digest} was downloaded once`);
    await store.client().deleteImage({ name: `${registry.host}/test/big` });
  });

  it("imports a docker save archive and exports an archive it imports again", async () => {
    const client = store.client();
    const archive = await dockerSaveArchive(multi, ["saved/app:v1"]);
    const chunks = async function* () {
      yield { kind: { case: "header" as const, value: { name: "", platform: "" } } };
      for (let offset = 0; offset < archive.byteLength; offset += 1 << 20) yield { kind: { case: "chunk" as const, value: archive.subarray(offset, offset + (1 << 20)) } };
    };
    const imported = await client.importImages(chunks());
    assert.deepEqual(imported.images.map((i) => i.name), ["docker.io/saved/app:v1"]);
    assert.equal(imported.images[0]!.configDigest, multi.configDigest);
    const prepared = await client.prepareRootfs({ containerId: "imported", image: "saved/app:v1" });
    assert.equal(readFileSync(join(prepared.path, "etc/hello"), "utf8"), "two\n");
    await client.releaseRootfs({ containerId: "imported" });
    const parts: Uint8Array[] = [];
    for await (const message of client.exportImage({ names: ["saved/app:v1"] })) parts.push(message.chunk);
    const exported = Buffer.concat(parts);
    await client.deleteImage({ name: "saved/app:v1" });
    assert.deepEqual(store.blobs(), []);
    const again = await client.importImages(
      (async function* () {
        yield { kind: { case: "chunk" as const, value: exported } };
      })(),
    );
    assert.deepEqual(again.images.map((i) => i.name), ["docker.io/saved/app:v1"]);
    assert.equal(again.images[0]!.configDigest, multi.configDigest);
    await client.deleteImage({ name: "saved/app:v1" });
    const notArchive = await rejection(client.importImages((async function* () { yield { kind: { case: "chunk" as const, value: Buffer.from("not a tar at all") } }; })()));
    assert.equal(notArchive.code, Code.InvalidArgument, notArchive.message);
  });

  it("names the field of a bad reference", async () => {
    const error = await rejection(pull(store.client(), "UPPER/Case:tag"));
    assert.equal(error.code, Code.InvalidArgument);
    assert.match(error.rawMessage, /^reference: /);
  });
});

describe("image-store killed with -9 during a pull", { skip: isRoot ? false : "needs root" }, () => {
  it("pulls again after the restart, with no half-written blob", async () => {
    const store = new Store("killed");
    await store.start();
    try {
      const layer = big.layers[1]!;
      const error = await rejection(
        (async () => {
          for await (const message of store.client().pullImage({ reference: `${registry.host}/test/big` })) {
            if (message.kind.case === "progress" && message.kind.value.digest === layer && message.kind.value.phase === PullPhase.DOWNLOADING) {
              await store.stop("SIGKILL");
            }
          }
        })(),
      );
      assert.ok([Code.Unavailable, Code.Unknown, Code.Internal, Code.Canceled].includes(error.code), error.message);
      await store.start();
      assert.deepEqual(store.ingest(), [], "the restart emptied ingest/");
      store.blobs();
      const { image } = await pull(store.client(), `${registry.host}/test/big`);
      assert.equal(image.manifestDigest, big.manifestDigest);
    } finally {
      await store.stop("SIGKILL");
    }
  });
});

describe("image-store with a registry that wants basic auth", { skip: isRoot ? false : "needs root" }, () => {
  const authRegistry = new ImageRegistry(join(scratch.dir, "auth-registry"), { tester: "s3cret pass" });
  const user: [string, string] = ["tester", "s3cret pass"];
  before(async () => {
    mkdirSync(join(scratch.dir, "auth-registry"), { recursive: true });
    await authRegistry.start();
    await pushImage(authRegistry, "private/app", "1", multi, user);
  });
  after(() => authRegistry.stop());

  it("is UNAUTHENTICATED without credentials and pulls with them from a 0600 file", async () => {
    const anonymous = new Store("anonymous");
    await anonymous.start();
    try {
      const error = await rejection(pull(anonymous.client(), `${authRegistry.host}/private/app:1`));
      assert.equal(error.code, Code.Unauthenticated, error.message);
    } finally {
      await anonymous.stop("SIGKILL");
    }
    const file = join(scratch.dir, "auth.json");
    writeFileSync(file, JSON.stringify({ auths: { [authRegistry.host]: { username: user[0], password: user[1] } } }), { mode: 0o600 });
    const withCredentials = new Store("credentials", { credentialsFile: file });
    await withCredentials.start();
    try {
      const { image } = await pull(withCredentials.client(), `${authRegistry.host}/private/app:1`);
      assert.equal(image.manifestDigest, multi.manifestDigest);
      assert.equal(withCredentials.process!.output.includes(user[1]), false, "the password is never logged");
    } finally {
      await withCredentials.stop("SIGKILL");
    }
    chmodSync(file, 0o644);
    const refused = new Store("open-credentials", { credentialsFile: file });
    await assert.rejects(refused.start(), /mode 644; it must be 0600/);
    await refused.stop("SIGKILL");
  });
});

describe("image-store with a registry that wants bearer tokens from a token service", { skip: isRoot ? false : "needs root" }, () => {
  const dir = join(scratch.dir, "token-registry");
  const user: [string, string] = ["tester", "t0ken pass"];
  const tokens = new TokenServer(dir, { [user[0]]: user[1] });
  const tokenRegistry = new ImageRegistry(dir, {}, tokens);
  const credentials = join(dir, "auth.json");
  before(async () => {
    mkdirSync(dir, { recursive: true });
    await tokens.start();
    await tokenRegistry.start();
    await pushImage(tokenRegistry, "private/tok", "1", multi, user);
    tokens.requests.length = 0;
  });
  after(async () => {
    await tokenRegistry.stop();
    await tokens.stop();
  });

  it("gets one token for a whole pull with the configured credentials, scoped to pulling that repository", async () => {
    writeFileSync(credentials, JSON.stringify({ auths: { [tokenRegistry.host]: { username: user[0], password: user[1] } } }), { mode: 0o600 });
    const store = new Store("token-credentials", { credentialsFile: credentials });
    await store.start();
    try {
      const { image } = await pull(store.client(), `${tokenRegistry.host}/private/tok:1`);
      assert.equal(image.manifestDigest, multi.manifestDigest);
      // The manifest, the config and every layer went out with the one token the first 401 asked for.
      assert.deepEqual(tokens.requests, [{ user: user[0], scope: ["repository:private/tok:pull"], service: tokens.service }]);
      assert.equal(store.process!.output.includes(user[1]), false, "the password is never logged");
    } finally {
      await store.stop("SIGKILL");
    }
  });

  it("is UNAUTHENTICATED when the token grants nothing (anonymous) or the service refuses the password", async () => {
    const anonymous = new Store("token-anonymous");
    await anonymous.start();
    try {
      tokens.requests.length = 0;
      const error = await rejection(pull(anonymous.client(), `${tokenRegistry.host}/private/tok:1`));
      assert.equal(error.code, Code.Unauthenticated, error.message);
      assert.deepEqual(tokens.requests, [{ user: undefined, scope: ["repository:private/tok:pull"], service: tokens.service }]);
    } finally {
      await anonymous.stop("SIGKILL");
    }
    const wrong = join(dir, "wrong.json");
    writeFileSync(wrong, JSON.stringify({ auths: { [tokenRegistry.host]: { username: user[0], password: "not it" } } }), { mode: 0o600 });
    const refused = new Store("token-wrong", { credentialsFile: wrong });
    await refused.start();
    try {
      const error = await rejection(pull(refused.client(), `${tokenRegistry.host}/private/tok:1`));
      assert.equal(error.code, Code.Unauthenticated, error.message);
      assert.match(error.message, /token service/);
      assert.equal(refused.process!.output.includes("not it"), false, "the password is never logged");
    } finally {
      await refused.stop("SIGKILL");
    }
  });
});

/** image with the blob of one layer replaced by bytes (its digest and size updated in a new manifest). */
function buildImageWithLayerBlob(image: BuiltImage, digest: string, bytes: Buffer): BuiltImage {
  const sha = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  const blobs = new Map(image.blobs);
  blobs.delete(digest);
  blobs.set(sha, bytes);
  const manifest = JSON.parse(image.manifest.toString()) as { layers: { digest: string; size: number }[] };
  for (const layer of manifest.layers) if (layer.digest === digest) Object.assign(layer, { digest: sha, size: bytes.byteLength });
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { ...image, blobs, manifest: manifestBytes, manifestDigest: `sha256:${createHash("sha256").update(manifestBytes).digest("hex")}`, layers: image.layers.map((l) => (l === digest ? sha : l)) };
}
