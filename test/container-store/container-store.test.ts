// The container-store component against its contract, as a real child process
// on a real unix socket, once on each backend: a real SQLite file, and a real
// three-member etcd cluster started for the suite. Every method and mask path,
// the rules and their codes, revisions and conflicts, pagination and the
// streaming list, Watch with replay, progress, compaction and resume across a
// restart, durability across kill -9, and the events it publishes. On etcd
// each store has a key prefix of its own on the one cluster; revisions are
// compared relative to the cluster's revision when the store started
// (Store.at), since the store revision there is the cluster's.
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import type { JsonObject, MessageInitShape } from "@bufbuild/protobuf";
import { FieldMaskSchema, anyPack } from "@bufbuild/protobuf/wkt";
import type { Any } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { Code, ConnectError, dialSocket } from "@moby-core/sdk";
import type { Connection, DialOptions } from "@moby-core/sdk";
import { ContainerChangeType, ContainerSchema, ContainerStoreService, WatchContainersRequestSchema } from "@moby-core/container-store-api/v1";
import type { Container, ContainerChange, WatchContainersResponse } from "@moby-core/container-store-api/v1";
import { ComponentService } from "@moby-core/component-api/v1";
import { OciSpecSchema } from "@moby-core/container-runtime-api/v1";
import { ContainerCreateSchema, ContainerDeleteSchema, ContainerUpdateSchema, StartPosition } from "@moby-core/events-api/v1";
import type { SubscribeResponse } from "@moby-core/events-api/v1";
import { ComponentProcess, scratchDirectory } from "../support/component-process.js";
import { repoRoot, run } from "../support/contract-copy.js";
import { EtcdCluster } from "../support/etcd-cluster.js";
import { EventsComponent } from "../support/events-component.js";
import { rejection } from "../support/rejection.js";

/** The fields of a container, as create() takes them. */
type ContainerFields = Extract<MessageInitShape<typeof ContainerSchema>, { $typeName?: undefined }>;

const scratch = scratchDirectory("moby-cs-");
after(() => scratch.remove());

type StoreClient = Client<typeof ContainerStoreService>;

/** A backend the suite runs on: what a store's configuration is, and how its history is shortened. */
interface Backend {
  readonly name: "sqlite" | "etcd";
  /** Starts what the backend needs (once per suite). */
  setUp(): Promise<void>;
  /** Stops it, even after a failure. */
  tearDown(): Promise<void>;
  /** The configuration of the store named name (its records in their own place). */
  config(name: string): Record<string, unknown>;
  /** The revision a store's first write follows: 0 on SQLite, the cluster's revision on etcd. */
  base(): Promise<bigint>;
  /** Keeps only the last `changes` changes of store's history (SQLite: Reload with a retention; etcd: compaction). */
  keepHistory(store: Store, changes: number): Promise<void>;
  /** A configuration the store refuses at start, and the message that names the setting. */
  readonly invalidConfig: { config: Record<string, unknown>; message: RegExp };
}

const sqlite: Backend = {
  name: "sqlite",
  async setUp() {},
  async tearDown() {},
  config: (name) => ({ database: join(scratch.dir, "sqlite", name, "state", "containers.db") }),
  base: async () => 0n,
  async keepHistory(store, changes) {
    await store.dial().client(ComponentService).reload({ config: { ...store.config, retention: { maxChanges: changes } } });
  },
  invalidConfig: { config: { retention: { maxChanges: -1 } }, message: /config\.retention\.maxChanges: must be a whole number/ },
};

let cluster: EtcdCluster | undefined;
const etcd: Backend = {
  name: "etcd",
  async setUp() {
    cluster = await EtcdCluster.start(join(scratch.dir, "etcd"));
  },
  async tearDown() {
    await cluster?.stop();
  },
  config: (name) => ({ backend: "etcd", etcd: { endpoints: cluster!.endpoints, prefix: `/moby-test/${name}/` } }),
  async base() {
    const client = cluster!.client();
    try {
      const response = await client.kv.range({ key: Buffer.from("/moby-test/ready") });
      return BigInt(response.header.revision);
    } finally {
      client.close();
    }
  },
  async keepHistory(store, changes) {
    const current = (await store.client().listContainers({})).revision;
    const client = cluster!.client();
    try {
      await client.kv.compact({ revision: String(current - BigInt(changes) + 1n), physical: true });
    } finally {
      client.close();
    }
  },
  invalidConfig: { config: { backend: "etcd", etcd: { endpoints: [] } }, message: /config\.etcd\.endpoints: must list/ },
};

/** One container store under test: a socket, its records, and the process serving them (when up). */
class Store {
  readonly socketPath: string;
  process: ComponentProcess | undefined;
  /** The revision the store's first write follows (see Backend.base). */
  base: bigint | undefined;
  private readonly connections: Connection[] = [];

  constructor(
    readonly backend: Backend,
    readonly name: string,
    private readonly options: { events?: string } = {},
  ) {
    this.socketPath = join(scratch.dir, backend.name, name, "cs.sock");
  }

  /** The component's configuration. */
  get config(): Record<string, unknown> {
    return this.backend.config(this.name);
  }

  /** The store revision of the store's n-th write, when the store alone writes. */
  at(n: number): bigint {
    if (this.base === undefined) throw new Error("the store has not started");
    return this.base + BigInt(n);
  }

  /** A change as "<n>:<TYPE>:<id>", n counting the store's writes from its first (see at). */
  summary(change: ContainerChange): string {
    return `${change.revision - this.base!}:${ContainerChangeType[change.type]}:${change.container?.id}`;
  }

  /** Starts the component (again, on the same records) and waits until it serves. */
  async start(): Promise<ComponentProcess> {
    const child = new ComponentProcess("packages/container-store/bin/moby-container-store.js", {
      MOBY_SOCKET: this.socketPath,
      MOBY_COMPONENT_NAME: "container-store",
      MOBY_LOG_LEVEL: "warn",
      MOBY_REGISTRY_ENDPOINT: "",
      // No events component unless one is given: a socket nothing listens on.
      MOBY_ENDPOINT_EVENTS: this.options.events ?? join(scratch.dir, this.backend.name, this.name, "no-events.sock"),
      MOBY_COMPONENT_CONFIG: JSON.stringify(this.config),
    });
    this.process = child;
    try {
      await child.waitForSocket(this.socketPath);
    } catch (error) {
      // A store that did not come up in time is not left running.
      await this.stop("SIGKILL");
      throw error;
    }
    this.base ??= await this.backend.base();
    return child;
  }

  /** Stops the component with signal. */
  async stop(signal: NodeJS.Signals = "SIGTERM") {
    const child = this.process;
    this.process = undefined;
    return child?.stop(signal);
  }

  /** A client on a new connection. */
  client(options?: DialOptions): StoreClient {
    return this.dial(options).client(ContainerStoreService);
  }

  /** A new connection, closed by close(). */
  dial(options?: DialOptions): Connection {
    const connection = dialSocket(this.socketPath, options);
    this.connections.push(connection);
    return connection;
  }

  /** Closes every connection and kills the process. */
  async close(): Promise<void> {
    this.connections.splice(0).forEach((c) => c.close());
    await this.stop("SIGKILL");
  }
}

const OCI_SPEC = anyPack(OciSpecSchema, create(OciSpecSchema, { json: new TextEncoder().encode('{"ociVersion":"1.1.0"}') }));

function any(typeUrl: string, value: ArrayLike<number> = []): Any {
  return { $typeName: "google.protobuf.Any", typeUrl, value: new Uint8Array(value) };
}

/** A valid container to create. */
function container(id: string, fields: ContainerFields = {}): Container {
  return create(ContainerSchema, { id, runtime: { name: "runc" }, spec: OCI_SPEC, ...fields });
}

function mask(...paths: string[]) {
  return create(FieldMaskSchema, { paths });
}


/** Asserts INVALID_ARGUMENT whose message starts with field. */
async function invalid(promise: Promise<unknown>, field: string): Promise<void> {
  const error = await rejection(promise);
  assert.equal(error.code, Code.InvalidArgument, error.message);
  assert.ok(error.rawMessage.startsWith(`${field}: `), `expected the message to name ${field}: ${error.rawMessage}`);
}

/** Waits until check returns true, polling. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Every container, through ListContainers pages. */
async function listAll(client: StoreClient, filter = "", pageSize = 1000): Promise<Container[]> {
  const all: Container[] = [];
  let pageToken = "";
  do {
    const page = await client.listContainers({ filter, pageSize, pageToken });
    all.push(...page.containers);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return all;
}

/** Creates containers with bounded concurrency. */
async function createMany(client: StoreClient, ids: string[], fields: (id: string) => ContainerFields = () => ({})): Promise<void> {
  for (let i = 0; i < ids.length; i += 200) {
    await Promise.all(ids.slice(i, i + 200).map((id) => client.createContainer({ container: container(id, fields(id)) })));
  }
}

/** A WatchContainers stream read in the background. */
class Watcher {
  readonly messages: WatchContainersResponse[] = [];
  error: ConnectError | undefined;
  readonly ended: Promise<void>;
  private readonly abort = new AbortController();

  constructor(client: StoreClient, request: MessageInitShape<typeof WatchContainersRequestSchema>) {
    this.ended = (async () => {
      try {
        for await (const message of client.watchContainers(request, { signal: this.abort.signal })) this.messages.push(message);
      } catch (error) {
        this.error = ConnectError.from(error);
      }
    })();
  }

  /** The changes received so far. */
  changes(): ContainerChange[] {
    return this.messages.flatMap((m) => (m.kind.case === "change" ? [m.kind.value] : []));
  }

  /** The revisions of the progress messages received so far. */
  progress(): bigint[] {
    return this.messages.flatMap((m) => (m.kind.case === "progress" ? [m.kind.value.revision] : []));
  }

  /** The last revision received, in a change or a progress message: where to resume. */
  lastRevision(): bigint {
    const last = this.messages.at(-1);
    if (last === undefined) throw new Error("nothing received");
    return last.kind.case === "change" ? last.kind.value.revision : last.kind.case === "progress" ? last.kind.value.revision : 0n;
  }

  async until(check: (watcher: Watcher) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await eventually(() => check(this) || this.error !== undefined, what, timeoutMs);
    if (this.error !== undefined && !check(this)) assert.fail(`watch ended with ${this.error.message} while waiting for ${what}`);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.ended;
  }
}

/** The whole suite, on one backend. */
function suite(backend: Backend): void {
describe(`container-store on ${backend.name}: the methods`, () => {
  const store = new Store(backend, "methods");
  let client: StoreClient;

  before(async () => {
    await store.start();
    client = store.client();
  });
  after(() => store.close());

  it("starts at revision 0, and every write advances the one store revision by exactly one", async () => {
    assert.equal((await client.listContainers({})).revision, 0n);
    const a = (await client.createContainer({ container: container("rev-a") })).container!;
    const b = (await client.createContainer({ container: container("rev-b") })).container!;
    assert.equal(a.revision, store.at(1));
    assert.equal(b.revision, store.at(2));
    const updated = (await client.updateContainer({ container: { id: "rev-a", image: "x" }, updateMask: mask("image") })).container!;
    assert.equal(updated.revision, store.at(3));
    const deleted = await client.deleteContainer({ id: "rev-b" });
    assert.equal(deleted.revision, store.at(4));
    assert.equal(deleted.container!.revision, store.at(2), "the deleted container as it was: revision of its last write");
    assert.equal((await client.listContainers({})).revision, store.at(4));
    await client.deleteContainer({ id: "rev-a" });
  });

  it("CreateContainer stores the record with the store's fields and returns it; GetContainer reads it back", async () => {
    const given = container("web-1", {
      labels: { app: "web", "app.kubernetes.io/name": "web", empty: "" },
      image: "docker.io/library/busybox:latest",
      runtime: { $typeName: "moby.container.store.v1.Runtime", name: "io.containerd.runc.v2", options: any("example.com/runc.Options", [1, 2]) },
      extensions: { "io.moby.network": any("example.com/net.Attachment", [3]) },
      revision: 999n,
      createdAt: { $typeName: "google.protobuf.Timestamp", seconds: 1n, nanos: 0 },
    });
    const before = Date.now();
    const stored = (await client.createContainer({ container: given })).container!;
    assert.notEqual(stored.revision, 999n, "revision is output only");
    assert.ok(Number(stored.createdAt!.seconds) * 1000 >= before - 1000, "created_at is the store's clock");
    assert.deepEqual(stored.updatedAt, stored.createdAt);
    assert.deepEqual(stored.labels, given.labels);
    assert.equal(stored.image, given.image);
    assert.equal(stored.runtime!.name, "io.containerd.runc.v2");
    assert.deepEqual(stored.runtime!.options, given.runtime!.options);
    assert.deepEqual(stored.extensions, given.extensions);
    assert.equal(stored.spec!.typeUrl, OCI_SPEC.typeUrl);
    assert.deepEqual(new Uint8Array(stored.spec!.value), OCI_SPEC.value, "the spec byte for byte");
    assert.deepEqual((await client.getContainer({ id: "web-1" })).container, stored);
  });

  it("GetContainer, UpdateContainer and DeleteContainer answer NOT_FOUND for an unknown id; CreateContainer ALREADY_EXISTS for a known one", async () => {
    assert.equal((await rejection(client.getContainer({ id: "nope" }))).code, Code.NotFound);
    assert.equal((await rejection(client.updateContainer({ container: { id: "nope" }, updateMask: mask("image") }))).code, Code.NotFound);
    assert.equal((await rejection(client.updateContainer({ container: { id: "nope" }, updateMask: mask("image"), expectedRevision: 5n }))).code, Code.NotFound);
    assert.equal((await rejection(client.deleteContainer({ id: "nope" }))).code, Code.NotFound);
    await client.createContainer({ container: container("dup") });
    const revision = (await client.listContainers({})).revision;
    const error = await rejection(client.createContainer({ container: container("dup", { image: "other" }) }));
    assert.equal(error.code, Code.AlreadyExists);
    assert.equal((await client.getContainer({ id: "dup" })).container!.image, "", "the first record stays");
    assert.equal((await client.listContainers({})).revision, revision, "nothing written");
    assert.equal((await rejection(client.getContainer({ id: "Dup" }))).code, Code.NotFound, "ids are case-sensitive");
  });

  it("answers INVALID_ARGUMENT naming the field for each broken rule, and writes nothing", async () => {
    const revision = (await client.listContainers({})).revision;
    const runtime = (name: string) => ({ $typeName: "moby.container.store.v1.Runtime" as const, name });
    const cases: [() => Promise<unknown>, string][] = [
      [() => client.createContainer({}), "container"],
      [() => client.createContainer({ container: container("") }), "container.id"],
      [() => client.createContainer({ container: container("a..b") }), "container.id"],
      [() => client.createContainer({ container: container("-a") }), "container.id"],
      [() => client.createContainer({ container: container("x".repeat(77)) }), "container.id"],
      [() => client.createContainer({ container: container("a b") }), "container.id"],
      [() => client.createContainer({ container: container("ok", { runtime: undefined }) }), "container.runtime.name"],
      [() => client.createContainer({ container: container("ok", { runtime: runtime("") }) }), "container.runtime.name"],
      [() => client.createContainer({ container: container("ok", { runtime: runtime("run c") }) }), "container.runtime.name"],
      [() => client.createContainer({ container: container("ok", { runtime: runtime("r".repeat(256)) }) }), "container.runtime.name"],
      [() => client.createContainer({ container: container("ok", { runtime: { ...runtime("runc"), options: any("") } }) }), "container.runtime.options"],
      [() => client.createContainer({ container: container("ok", { spec: undefined }) }), "container.spec"],
      [() => client.createContainer({ container: container("ok", { spec: any("", [1]) }) }), "container.spec"],
      [() => client.createContainer({ container: container("ok", { labels: { "": "v" } }) }), 'container.labels[""]'],
      [() => client.createContainer({ container: container("ok", { labels: { app: "v".repeat(4094) } }) }), 'container.labels["app"]'],
      [() => client.createContainer({ container: container("ok", { image: "i".repeat(4097) }) }), "container.image"],
      [() => client.createContainer({ container: container("ok", { extensions: { net: any("") } }) }), 'container.extensions["net"]'],
      [() => client.createContainer({ container: container("ok", { extensions: { "": any("t/x.Y") } }) }), 'container.extensions[""]'],
      [() => client.createContainer({ container: container("ok", { spec: any("t/x.Y", new Uint8Array(1024 * 1024)) }) }), "container"],
      [() => client.getContainer({ id: "" }), "id"],
      [() => client.getContainer({ id: "a/b" }), "id"],
      [() => client.deleteContainer({ id: "a..b" }), "id"],
      [() => client.updateContainer({ updateMask: mask("image") }), "container.id"],
      [() => client.updateContainer({ container: { id: "bad id" }, updateMask: mask("image") }), "container.id"],
      [() => client.updateContainer({ container: { id: "nope" } }), "update_mask"],
      [() => client.listContainers({ filter: "name==x" }), "filter"],
      [() => client.listContainers({ filter: "labels.app==" }), "filter"],
      [() => client.listContainers({ filter: "image~=(" }), "filter"],
      [() => client.listContainers({ filter: `id==${"x".repeat(4096)}` }), "filter"],
      [() => client.listContainers({ pageToken: "not-a-token" }), "page_token"],
      [() => (async () => { for await (const _ of client.streamContainers({ filter: "spec==x" })); })(), "filter"],
      [() => (async () => { for await (const _ of client.watchContainers({ filter: "id=" })); })(), "filter"],
    ];
    for (const [call, field] of cases) await invalid(call(), field);
    assert.equal((await client.listContainers({})).revision, revision, "nothing was written");
    assert.equal((await rejection(client.getContainer({ id: "ok" }))).code, Code.NotFound);
  });

  it("DeleteContainer removes the container and returns it as it was", async () => {
    const created = (await client.createContainer({ container: container("gone", { labels: { a: "1" } }) })).container!;
    const { container: removed, revision } = await client.deleteContainer({ id: "gone" });
    assert.deepEqual(removed, created);
    assert.equal(revision, created.revision + 1n);
    assert.equal((await rejection(client.getContainer({ id: "gone" }))).code, Code.NotFound);
    assert.equal((await client.createContainer({ container: container("gone") })).container!.revision, revision + 1n, "the id can be used again");
  });

  it("the spec can be printed by reflection clients (buf curl) as an OCI spec", async () => {
    await client.createContainer({ container: container("oci-1") });
    const result = run(
      "buf",
      ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--unix-socket", store.socketPath, "-d", '{"id":"oci-1"}', "http://localhost/moby.container.store.v1.ContainerStoreService/GetContainer"],
      repoRoot,
    );
    assert.equal(result.status, 0, result.stderr);
    const { container: printed } = JSON.parse(result.stdout) as { container: { spec: { "@type": string; json: string } } };
    assert.equal(printed.spec["@type"], "type.googleapis.com/moby.container.runtime.v1.OciSpec");
    assert.equal(Buffer.from(printed.spec.json, "base64").toString(), '{"ociVersion":"1.1.0"}');
  });
});

describe(`container-store on ${backend.name}: UpdateContainer`, () => {
  const store = new Store(backend, "update");
  let client: StoreClient;
  let revision = 0n;

  before(async () => {
    await store.start();
    client = store.client();
  });
  after(() => store.close());

  /** Creates a fresh container with every field set. */
  async function fresh(id: string): Promise<Container> {
    const created = await client.createContainer({
      container: container(id, {
        labels: { app: "web", tier: "front", "a.b": "dots" },
        image: "busybox",
        runtime: { $typeName: "moby.container.store.v1.Runtime", name: "runc", options: any("example.com/r.Options", [1]) },
        extensions: { net: any("example.com/n.Net", [2]), vol: any("example.com/v.Vol", [3]) },
      }),
    });
    return created.container!;
  }

  async function update(id: string, fields: ContainerFields, ...paths: string[]): Promise<Container> {
    const updated = (await client.updateContainer({ container: { ...fields, id }, updateMask: mask(...paths) })).container!;
    assert.ok(updated.revision > revision, "each update advances the revision");
    revision = updated.revision;
    assert.deepEqual((await client.getContainer({ id })).container, updated, "the returned record is the stored one");
    return updated;
  }

  it("labels replaces every label", async () => {
    await fresh("u-labels");
    assert.deepEqual((await update("u-labels", { labels: { only: "1" } }, "labels")).labels, { only: "1" });
    assert.deepEqual((await update("u-labels", {}, "labels")).labels, {});
  });

  it("labels.<key> sets one label or removes it, the key verbatim with its dots", async () => {
    await fresh("u-label");
    assert.deepEqual((await update("u-label", { labels: { app: "api", tier: "ignored" } }, "labels.app")).labels, { app: "api", tier: "front", "a.b": "dots" });
    assert.deepEqual((await update("u-label", {}, "labels.tier")).labels, { app: "api", "a.b": "dots" });
    assert.deepEqual((await update("u-label", { labels: { "a.b": "x", new: "n" } }, "labels.a.b", "labels.new")).labels, { app: "api", "a.b": "x", new: "n" });
  });

  it("extensions and extensions.<key> replace all extensions or one", async () => {
    await fresh("u-ext");
    const one = await update("u-ext", { extensions: { net: any("example.com/n.Net2", [9]) } }, "extensions.net");
    assert.deepEqual(Object.keys(one.extensions).sort(), ["net", "vol"]);
    assert.deepEqual(new Uint8Array(one.extensions.net!.value), new Uint8Array([9]));
    assert.deepEqual(Object.keys((await update("u-ext", {}, "extensions.vol")).extensions), ["net"]);
    assert.deepEqual(Object.keys((await update("u-ext", { extensions: { x: any("t/x.X") } }, "extensions")).extensions), ["x"]);
  });

  it("spec replaces the spec, which stays required", async () => {
    await fresh("u-spec");
    const spec = anyPack(OciSpecSchema, create(OciSpecSchema, { json: new TextEncoder().encode("{}") }));
    assert.deepEqual((await update("u-spec", { spec }, "spec")).spec, spec);
    await invalid(client.updateContainer({ container: { id: "u-spec" }, updateMask: mask("spec") }), "container.spec");
    await invalid(client.updateContainer({ container: { id: "u-spec", spec: any("") }, updateMask: mask("spec") }), "container.spec");
  });

  it("image replaces the image; empty clears it", async () => {
    await fresh("u-image");
    assert.equal((await update("u-image", { image: "alpine:3.20" }, "image")).image, "alpine:3.20");
    assert.equal((await update("u-image", {}, "image")).image, "");
  });

  it("runtime.options replaces the options; absent clears them; runtime.name stays", async () => {
    await fresh("u-options");
    const runtime = (await update("u-options", { runtime: { $typeName: "moby.container.store.v1.Runtime", name: "crun", options: any("t/o.O", [7]) } }, "runtime.options")).runtime!;
    assert.equal(runtime.name, "runc");
    assert.deepEqual(runtime.options, any("t/o.O", [7]));
    assert.equal((await update("u-options", {}, "runtime.options")).runtime!.options, undefined);
  });

  it("leaves the fields not named alone, keeps created_at and sets updated_at; an update that changes nothing is still a write", async () => {
    const created = await fresh("u-keep");
    const updated = await update("u-keep", { image: "busybox", labels: {}, spec: any("t/ignored") }, "image");
    assert.deepEqual(updated.labels, created.labels);
    assert.deepEqual(updated.spec, created.spec);
    assert.deepEqual(updated.createdAt, created.createdAt);
    assert.ok(updated.revision > created.revision);
    assert.ok(updated.updatedAt!.seconds > created.updatedAt!.seconds || (updated.updatedAt!.seconds === created.updatedAt!.seconds && updated.updatedAt!.nanos >= created.updatedAt!.nanos));
  });

  it("refuses every other mask path naming update_mask, and writes nothing", async () => {
    await fresh("u-bad");
    const before = (await client.listContainers({})).revision;
    for (const paths of [[], ["id"], ["created_at"], ["updated_at"], ["revision"], ["runtime.name"], ["runtime"], ["*"], ["unknown"], ["labels."], ["image", "image"], ["labels", "labels.app"], ["extensions.net", "extensions"]]) {
      await invalid(client.updateContainer({ container: { id: "u-bad", image: "x" }, updateMask: mask(...paths) }), "update_mask");
    }
    assert.equal((await client.listContainers({})).revision, before);
  });

  it("checks the request, then existence, then expected_revision, then the updated record", async () => {
    const created = await fresh("u-order");
    await invalid(client.updateContainer({ container: { id: "nope" }, updateMask: mask("id") }), "update_mask");
    assert.equal((await rejection(client.updateContainer({ container: { id: "nope", spec: any("") }, updateMask: mask("spec"), expectedRevision: 1n }))).code, Code.NotFound);
    assert.equal((await rejection(client.updateContainer({ container: { id: "u-order", spec: any("") }, updateMask: mask("spec"), expectedRevision: 1n }))).code, Code.Aborted);
    await invalid(client.updateContainer({ container: { id: "u-order", labels: { "": "x" } }, updateMask: mask("labels"), expectedRevision: created.revision }), 'container.labels[""]');
    const ok = await client.updateContainer({ container: { id: "u-order", image: "x" }, updateMask: mask("image"), expectedRevision: created.revision });
    assert.equal(ok.container!.image, "x");
    assert.equal((await rejection(client.deleteContainer({ id: "u-order", expectedRevision: created.revision }))).code, Code.Aborted);
    await client.deleteContainer({ id: "u-order", expectedRevision: ok.container!.revision });
  });

  it("two concurrent writers with the same expected_revision: exactly one wins, the other gets ABORTED", async () => {
    const other = store.client();
    for (let round = 0; round < 20; round++) {
      const id = `race-${round}`;
      const { revision: expected } = (await client.createContainer({ container: container(id) })).container!;
      const attempts = await Promise.allSettled([
        client.updateContainer({ container: { id, image: "first" }, updateMask: mask("image"), expectedRevision: expected }),
        other.updateContainer({ container: { id, labels: { by: "second" } }, updateMask: mask("labels"), expectedRevision: expected }),
      ]);
      const won = attempts.filter((a) => a.status === "fulfilled");
      const lost = attempts.flatMap((a) => (a.status === "rejected" ? [ConnectError.from(a.reason)] : []));
      assert.equal(won.length, 1, `round ${round}: exactly one writer wins`);
      assert.equal(lost.length, 1);
      assert.equal(lost[0]!.code, Code.Aborted, lost[0]!.message);
    }
  });

  it("writes sent together: the failing ones write nothing, the others get one revision each, with no gap", async () => {
    const before = (await client.listContainers({})).revision;
    // 60 writes in flight at once, so that they share commits: a third of them fail.
    const writes = Array.from({ length: 60 }, (_, i) => {
      if (i % 3 === 1) return client.createContainer({ container: container(`group-${i - 1}`) }); // the id of the write before it
      if (i % 3 === 2) return client.createContainer({ container: container(`group-${i}`, { runtime: undefined }) }); // no runtime
      return client.createContainer({ container: container(`group-${i}`) });
    });
    const outcomes = await Promise.allSettled(writes);
    const created = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value.container!] : []));
    const refused = outcomes.flatMap((o) => (o.status === "rejected" ? [ConnectError.from(o.reason).code] : []));
    assert.equal(created.length, 20);
    assert.deepEqual(new Set(refused), new Set([Code.AlreadyExists, Code.InvalidArgument]));
    assert.deepEqual(
      created.map((c) => c.revision).sort((a, b) => (a < b ? -1 : 1)),
      Array.from({ length: 20 }, (_, i) => before + 1n + BigInt(i)),
      "the revisions of the creates follow the store's last one with no gap",
    );
    assert.equal((await client.listContainers({})).revision, before + 20n, "the failed writes took no revision");
    for (const c of created) assert.deepEqual((await client.getContainer({ id: c.id })).container, c);
    for (const c of created) await client.deleteContainer({ id: c.id });
  });
});

describe(`container-store on ${backend.name}: ListContainers and StreamContainers over 3000 containers`, () => {
  const store = new Store(backend, "listing");
  let client: StoreClient;
  const ids = Array.from({ length: 3000 }, (_, i) => `c${String(i).padStart(4, "0")}`);
  const sorted = (list: string[]) => [...list].sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : a === b ? 0 : 1));

  before(async () => {
    await store.start();
    client = store.client();
    // Created out of order: the listing order is the ids', not the creation's.
    const shuffled = [...ids].sort(() => Math.random() - 0.5);
    await createMany(client, shuffled, (id) => ({ labels: { parity: Number(id.slice(1)) % 2 === 0 ? "even" : "odd" } }));
  });
  after(() => store.close());

  it("pages hold each container once, in ascending byte order of id, with no gap", async () => {
    for (const pageSize of [1000, 7, 250]) {
      const seen: string[] = [];
      let pageToken = "";
      let pages = 0;
      do {
        const page = await client.listContainers({ pageSize, pageToken });
        assert.ok(page.containers.length <= pageSize);
        assert.equal(page.revision, store.at(3000));
        seen.push(...page.containers.map((c) => c.id));
        pageToken = page.nextPageToken;
        pages++;
      } while (pageToken !== "");
      assert.deepEqual(seen, ids, `page size ${pageSize}`);
      assert.equal(pages, Math.ceil(3000 / pageSize));
    }
  });

  it("page_size 0 means 100, and more than 1000 means 1000", async () => {
    assert.equal((await client.listContainers({})).containers.length, 100);
    assert.equal((await client.listContainers({ pageSize: 5000 })).containers.length, 1000);
  });

  it("a filter selects the matching containers; its token is refused with another filter", async () => {
    const even = await listAll(client, "labels.parity==even", 333);
    assert.deepEqual(even.map((c) => c.id), ids.filter((id) => Number(id.slice(1)) % 2 === 0));
    const first = await client.listContainers({ filter: "labels.parity==even", pageSize: 10 });
    await invalid(client.listContainers({ filter: "labels.parity==odd", pageSize: 10, pageToken: first.nextPageToken }), "page_token");
    await invalid(client.listContainers({ pageSize: 10, pageToken: first.nextPageToken }), "page_token");
    const next = await client.listContainers({ filter: "labels.parity==even", pageSize: 50, pageToken: first.nextPageToken });
    assert.equal(next.containers[0]!.id, "c0020", "a page size may differ between pages");
    assert.deepEqual((await listAll(client, "id==c1234")).map((c) => c.id), ["c1234"]);
    assert.deepEqual(await listAll(client, "labels.parity==none"), []);
  });

  it("with creates and deletes between pages: no container twice, and every one that existed throughout exactly once", async () => {
    const present = new Set(ids);
    const deleted = new Set<string>();
    const seen: string[] = [];
    let pageToken = "";
    let round = 0;
    do {
      const page = await client.listContainers({ pageSize: 97, pageToken });
      seen.push(...page.containers.map((c) => c.id));
      pageToken = page.nextPageToken;
      // Delete some listed and some not yet listed; create some before and some after the cursor.
      const candidates = [...present];
      for (const victim of [candidates[(round * 37) % candidates.length]!, candidates[(round * 131 + 1500) % candidates.length]!]) {
        if (deleted.has(victim)) continue;
        await client.deleteContainer({ id: victim });
        present.delete(victim);
        deleted.add(victim);
      }
      for (const id of [`b${round}`, `d${round}`, `c${String(round * 29).padStart(4, "0")}x`]) {
        await client.createContainer({ container: container(id) });
      }
      round++;
    } while (pageToken !== "");
    assert.equal(new Set(seen).size, seen.length, "no container twice");
    const seenSet = new Set(seen);
    for (const id of present) assert.ok(seenSet.has(id), `${id} existed throughout and was listed`);
  });

  it("StreamContainers sends every match from one snapshot, in batches of at most 100, all at one revision", async () => {
    const all = await listAll(client);
    const revision = (await client.listContainers({ pageSize: 1 })).revision;
    const stream = client.streamContainers({})[Symbol.asyncIterator]();
    const first = await stream.next();
    assert.ok(!first.done);
    // Writes after the snapshot was taken are not seen by the stream.
    const later = all.slice(-50).map((c) => c.id);
    for (const id of later) await client.deleteContainer({ id });
    await client.createContainer({ container: container("zzz-after-snapshot") });
    const batches = [first.value];
    for (let next = await stream.next(); !next.done; next = await stream.next()) batches.push(next.value);
    for (const batch of batches) {
      assert.equal(batch.revision, revision);
      assert.ok(batch.containers.length <= 100);
    }
    assert.deepEqual(batches.flatMap((b) => b.containers.map((c) => c.id)), sorted(all.map((c) => c.id)));
    assert.deepEqual(batches.flatMap((b) => b.containers), all, "the records as stored");
  });

  it("StreamContainers with a filter, and with no match: one response with no containers", async () => {
    const odd: string[] = [];
    for await (const batch of client.streamContainers({ filter: "labels.parity==odd" })) odd.push(...batch.containers.map((c) => c.id));
    assert.deepEqual(odd, (await listAll(client, "labels.parity==odd")).map((c) => c.id));
    const none = [];
    for await (const batch of client.streamContainers({ filter: "labels.parity==none" })) none.push(batch);
    assert.equal(none.length, 1);
    assert.equal(none[0]!.containers.length, 0);
    assert.ok(none[0]!.revision > store.at(3000));
  });
});

describe(`container-store on ${backend.name}: responses stay under 4 MiB`, () => {
  const store = new Store(backend, "big");
  let client: StoreClient;

  before(async () => {
    await store.start();
    client = store.client();
    for (let i = 0; i < 7; i++) {
      await client.createContainer({ container: container(`big-${i}`, { spec: any("t/big.Spec", new Uint8Array(1_000_000).fill(i)) }) });
    }
  });
  after(() => store.close());

  it("a stream batch holds at most 1 MiB (a single container always fits); a page at most 4 MiB, with a token for the rest", async () => {
    const batches = [];
    for await (const batch of client.streamContainers({})) batches.push(batch.containers.length);
    assert.deepEqual(batches, [1, 1, 1, 1, 1, 1, 1]);
    const first = await client.listContainers({ pageSize: 10 });
    assert.equal(first.containers.length, 4);
    assert.notEqual(first.nextPageToken, "");
    const rest = await client.listContainers({ pageSize: 10, pageToken: first.nextPageToken });
    assert.deepEqual(rest.containers.map((c) => c.id), ["big-4", "big-5", "big-6"]);
    assert.equal(rest.nextPageToken, "");
    assert.ok(Buffer.from(rest.containers[2]!.spec!.value).equals(Buffer.alloc(1_000_000, 6)));
  });
});

describe(`container-store on ${backend.name}: WatchContainers`, () => {
  const store = new Store(backend, "watch");
  let client: StoreClient;

  before(async () => {
    await store.start();
    client = store.client();
  });
  after(() => store.close());

  it("from 0: progress at once at the current revision, then every change live, in order", async () => {
    await client.createContainer({ container: container("w-old") });
    const watcher = new Watcher(client, {});
    await watcher.until((w) => w.messages.length >= 1, "the first progress");
    assert.deepEqual(watcher.progress(), [store.at(1)]);
    await client.createContainer({ container: container("w-a", { labels: { app: "web" } }) });
    await client.updateContainer({ container: { id: "w-a", image: "busybox" }, updateMask: mask("image") });
    await client.deleteContainer({ id: "w-a" });
    await watcher.until((w) => w.changes().length >= 3, "three changes");
    assert.deepEqual(watcher.changes().map((c) => store.summary(c)), ["2:CREATE:w-a", "3:UPDATE:w-a", "4:DELETE:w-a"]);
    assert.equal(watcher.changes()[1]!.container!.image, "busybox");
    assert.equal(watcher.changes()[2]!.container!.image, "busybox", "a delete carries the container as it was");
    await watcher.close();
  });

  it("a change is sent when the container matches before or after it", async () => {
    const start = (await client.listContainers({})).revision;
    const live = new Watcher(client, { filter: "labels.app==web" });
    await live.until((w) => w.messages.length >= 1, "the first progress");
    await client.createContainer({ container: container("f-a", { labels: { app: "web" } }) }); // matches
    await client.createContainer({ container: container("f-b", { labels: { app: "api" } }) }); // never
    await client.updateContainer({ container: { id: "f-a", labels: { app: "api" } }, updateMask: mask("labels.app") }); // stops matching
    await client.updateContainer({ container: { id: "f-a", image: "x" }, updateMask: mask("image") }); // matches neither before nor after
    await client.updateContainer({ container: { id: "f-b", labels: { app: "web" } }, updateMask: mask("labels") }); // starts matching
    await client.deleteContainer({ id: "f-b" }); // judged on the removed container: matches
    await client.deleteContainer({ id: "f-a" }); // does not match
    const n = Number(start - store.at(0));
    const expected = [`${n + 1}:CREATE:f-a`, `${n + 3}:UPDATE:f-a`, `${n + 5}:UPDATE:f-b`, `${n + 6}:DELETE:f-b`];
    await live.until((w) => w.changes().length >= 4, "four changes");
    assert.deepEqual(live.changes().map((c) => store.summary(c)), expected);
    await live.close();

    // The same from the retained history, then the first progress at the revision the watch was established at.
    const replay = new Watcher(client, { filter: "labels.app==web", startRevision: start });
    await replay.until((w) => w.progress().length >= 1, "the end of the replay");
    assert.deepEqual(replay.changes().map((c) => store.summary(c)), expected);
    assert.deepEqual(replay.progress(), [start + 7n]);
    assert.equal(replay.messages.at(-1)!.kind.case, "progress");
    await replay.close();
  });

  it("OUT_OF_RANGE from a revision compacted out of the retained history, or in the future", async () => {
    for (let i = 0; i < 12; i++) await client.createContainer({ container: container(`fill-${i}`) });
    const current = (await client.listContainers({})).revision;
    await backend.keepHistory(store, 10);
    const oldest = current - 9n;
    const compacted = new Watcher(client, { startRevision: oldest - 2n });
    await compacted.ended;
    assert.equal(compacted.error?.code, Code.OutOfRange);
    assert.match(compacted.error!.rawMessage, new RegExp(`^start_revision ${oldest - 2n} is compacted; oldest retained revision is ${oldest}`));
    const future = new Watcher(client, { startRevision: current + 1n });
    await future.ended;
    assert.equal(future.error?.code, Code.OutOfRange);
    assert.match(future.error!.rawMessage, new RegExp(`current revision is ${current}`));

    const edge = new Watcher(client, { startRevision: oldest - 1n });
    await edge.until((w) => w.progress().length >= 1, "the replay from the oldest retained revision");
    assert.deepEqual(edge.changes().map((c) => c.revision), Array.from({ length: 10 }, (_, i) => oldest + BigInt(i)));
    await edge.close();
  });

  it("ends open watches with UNAVAILABLE when the store stops", async () => {
    const watcher = new Watcher(store.client(), {});
    await watcher.until((w) => w.messages.length >= 1, "the first progress");
    await store.stop("SIGTERM");
    await watcher.ended;
    assert.equal(watcher.error?.code, Code.Unavailable);
    await store.start();
  });

  it("sends progress after 10 seconds with nothing sent, at the latest revision passed", async () => {
    const watcher = new Watcher(client, { filter: "labels.app==nothing" });
    await watcher.until((w) => w.messages.length >= 1, "the first progress");
    await client.createContainer({ container: container("idle-1") });
    const latest = (await client.createContainer({ container: container("idle-2") })).container!.revision;
    await watcher.until((w) => w.progress().length >= 2, "a progress message after 10 s", 15_000);
    assert.deepEqual(watcher.progress().slice(1, 2), [latest]);
    assert.deepEqual(watcher.changes(), []);
    await watcher.close();
  });

  it("Reload checks the new configuration, refuses a new place for the records, applies the rest; a shorter history is OUT_OF_RANGE", async () => {
    const component = store.dial().client(ComponentService);
    for (let i = 0; i < 6; i++) await client.createContainer({ container: container(`reload-${i}`) });
    const current = (await client.listContainers({})).revision;
    await invalid(component.reload({ config: { ...store.config, maxSnapshots: 0 } }), "config.maxSnapshots");
    const elsewhere = new Store(backend, "elsewhere").config as JsonObject;
    const moved = await rejection(component.reload({ config: elsewhere }));
    assert.equal(moved.code, Code.FailedPrecondition);
    await component.reload({ config: { ...store.config, maxSnapshots: 4 } });
    await backend.keepHistory(store, 3);
    const compacted = new Watcher(client, { startRevision: current - 4n });
    await compacted.ended;
    assert.equal(compacted.error?.code, Code.OutOfRange);
    assert.match(compacted.error!.rawMessage, new RegExp(`oldest retained revision is ${current - 2n}`));
  });
});

describe(`container-store on ${backend.name}: restarts`, () => {
  it("refuses to start with an invalid configuration, naming the setting", async () => {
    const child = new ComponentProcess("packages/container-store/bin/moby-container-store.js", {
      MOBY_SOCKET: join(scratch.dir, backend.name, "bad-config", "cs.sock"),
      MOBY_COMPONENT_NAME: "container-store",
      MOBY_COMPONENT_CONFIG: JSON.stringify({ ...backend.config("bad-config"), ...backend.invalidConfig.config }),
    });
    const exit = await child.exited;
    assert.notEqual(exit.code, 0);
    assert.match(child.output, backend.invalidConfig.message);
  });

  it("a watch resumed from its last revision after the store restarted misses nothing and repeats nothing", async () => {
    const store = new Store(backend, "resume");
    await store.start();
    try {
      const client = store.client();
      await createMany(client, ["r1", "r2", "r3"]);
      const first = new Watcher(client, {});
      await first.until((w) => w.progress().length >= 1, "the first progress");
      await client.createContainer({ container: container("r4") });
      await client.updateContainer({ container: { id: "r1", image: "x" }, updateMask: mask("image") });
      await first.until((w) => w.changes().length >= 2, "two changes");
      const resumeFrom = first.lastRevision();
      assert.equal(resumeFrom, store.at(5));
      await first.close();

      // Written while nobody watches, then the store dies and comes back.
      await client.createContainer({ container: container("r5") });
      await client.deleteContainer({ id: "r2" });
      await store.stop("SIGKILL");
      await store.start();
      const after = store.client();
      await after.updateContainer({ container: { id: "r3", labels: { a: "b" } }, updateMask: mask("labels.a") });
      await after.createContainer({ container: container("r6") });

      const resumed = new Watcher(after, { startRevision: resumeFrom });
      await resumed.until((w) => w.progress().length >= 1, "the end of the replay");
      assert.deepEqual(resumed.changes().map((c) => store.summary(c)), ["6:CREATE:r5", "7:DELETE:r2", "8:UPDATE:r3", "9:CREATE:r6"]);
      assert.deepEqual(resumed.progress(), [store.at(9)]);
      await after.createContainer({ container: container("r7") });
      await resumed.until((w) => w.changes().length >= 5, "the live change after the replay");
      assert.deepEqual(resumed.changes().map((c) => c.revision), [6, 7, 8, 9, 10].map((n) => store.at(n)));
      await resumed.close();
    } finally {
      await store.close();
    }
  });

  it("after kill -9 in a burst of concurrent creates, every acknowledged record is there, and revisions have no gap", async () => {
    const store = new Store(backend, "crash");
    await store.start();
    try {
      const client = store.client({ retry: false });
      const acknowledged = new Map<string, bigint>();
      // 64 writers, each creating one container after another until the store dies.
      let next = 0;
      let failed = 0;
      const writers = Array.from({ length: 64 }, async () => {
        for (;;) {
          const id = `k${next++}`;
          try {
            const response = await client.createContainer({ container: container(id, { labels: { n: id } }) });
            acknowledged.set(id, response.container!.revision);
          } catch {
            failed++;
            return;
          }
        }
      });
      await eventually(() => acknowledged.size >= 300, "300 acknowledged creates");
      await store.stop("SIGKILL");
      await Promise.all(writers);
      assert.ok(failed > 0, "the kill came in the middle of the burst");

      await store.start();
      const after = store.client();
      const stored = await listAll(after);
      const byId = new Map(stored.map((c) => [c.id, c]));
      for (const [id, revision] of acknowledged) {
        assert.equal(byId.get(id)?.revision, revision, `${id}, acknowledged at revision ${revision}, is there after the restart`);
      }
      const revisions = stored.map((c) => c.revision).sort((a, b) => (a < b ? -1 : 1));
      assert.deepEqual(revisions, Array.from({ length: stored.length }, (_, i) => store.at(i + 1)), "one revision per stored create, none lost");
      assert.equal((await after.listContainers({})).revision, store.at(stored.length));
      assert.equal((await after.createContainer({ container: container("after-crash") })).container!.revision, store.at(stored.length + 1), "the revision never repeats");
    } finally {
      await store.close();
    }
  });
});

describe(`container-store on ${backend.name}: events`, () => {
  /** The events under /containers/ a subscription from the oldest retained event receives, collected in the background. */
  function collect(events: EventsComponent): { received: SubscribeResponse[]; stop: () => void } {
    const received: SubscribeResponse[] = [];
    const abort = new AbortController();
    void (async () => {
      try {
        const stream = events.client().subscribe({ start: StartPosition.OLDEST, filters: ["topic~=^/containers/"] }, { signal: abort.signal });
        for await (const message of stream) if (message.envelope !== undefined) received.push(message);
      } catch {
        // ended by stop()
      }
    })();
    return { received, stop: () => abort.abort() };
  }

  it("publishes /containers/create, /containers/update and /containers/delete to the events component", async () => {
    const events = new EventsComponent(join(scratch.dir, backend.name, "events-up"));
    await events.start();
    const store = new Store(backend, "with-events", { events: events.socketPath });
    await store.start();
    const subscription = collect(events);
    try {
      const client = store.client();
      await client.createContainer({ container: container("ev-1", { image: "busybox", labels: { app: "web" } }) });
      await client.updateContainer({ container: { id: "ev-1", image: "alpine", labels: { tier: "x" } }, updateMask: mask("labels.tier", "image") });
      await client.deleteContainer({ id: "ev-1" });
      await eventually(() => subscription.received.length >= 3, "three events");
      const [created, updated, deleted] = subscription.received.map((m) => m.envelope!);
      assert.deepEqual([created!.topic, updated!.topic, deleted!.topic], ["/containers/create", "/containers/update", "/containers/delete"]);
      assert.equal(created!.source, "container-store");
      const createPayload = fromBinary(ContainerCreateSchema, created!.event!.value);
      assert.deepEqual(
        { id: createPayload.id, image: createPayload.image, runtimeName: createPayload.runtimeName, labels: createPayload.labels, revision: createPayload.revision },
        { id: "ev-1", image: "busybox", runtimeName: "runc", labels: { app: "web" }, revision: store.at(1) },
      );
      const updatePayload = fromBinary(ContainerUpdateSchema, updated!.event!.value);
      assert.deepEqual([updatePayload.id, updatePayload.revision, updatePayload.updatePaths], ["ev-1", store.at(2), ["image", "labels.tier"]]);
      const deletePayload = fromBinary(ContainerDeleteSchema, deleted!.event!.value);
      assert.deepEqual([deletePayload.id, deletePayload.revision], ["ev-1", store.at(2)]);
    } finally {
      subscription.stop();
      await store.close();
      await events.close();
    }
  });

  it("keeps working with no events component, and delivers the events once one comes up", async () => {
    const events = new EventsComponent(join(scratch.dir, backend.name, "events-late"));
    const store = new Store(backend, "without-events", { events: events.socketPath });
    await store.start();
    try {
      const client = store.client();
      const started = Date.now();
      for (let i = 0; i < 20; i++) await client.createContainer({ container: container(`late-${i}`) });
      assert.ok(Date.now() - started < 5000, "writes do not wait for the events component");
      assert.equal((await listAll(client)).length, 20);

      await events.start();
      const subscription = collect(events);
      try {
        await eventually(() => subscription.received.length >= 20, "the queued events", 15_000);
        assert.deepEqual(
          subscription.received.map((m) => fromBinary(ContainerCreateSchema, m.envelope!.event!.value).id),
          Array.from({ length: 20 }, (_, i) => `late-${i}`),
        );
      } finally {
        subscription.stop();
      }
    } finally {
      await store.close();
      await events.close();
    }
  });
});

describe(`container-store on ${backend.name}: a watcher that falls behind`, () => {
  const store = new Store(backend, "slow-watcher");

  before(() => store.start());
  after(() => store.close());

  it("is ended with RESOURCE_EXHAUSTED once more than 16 MiB of changes wait for it, and resumes from its last revision", async () => {
    const client = store.client();
    await client.createContainer({ container: container("heavy") });
    // A plain HTTP/2 client that reads nothing, so that HTTP/2 flow control
    // stops the store from sending (the SDK's client reads ahead).
    const session = http2.connect("http://localhost", { createConnection: () => connect(store.socketPath) });
    try {
      const request = session.request({
        ":method": "POST",
        ":path": "/moby.container.store.v1.ContainerStoreService/WatchContainers",
        "content-type": "application/grpc",
        te: "trailers",
      });
      request.end(Buffer.from([0, 0, 0, 0, 0])); // one uncompressed, empty WatchContainersRequest
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => request.once("trailers", resolve));
      await new Promise((resolve) => request.once("response", resolve));
      for (let i = 0; i < 24; i++) {
        await client.updateContainer({ container: { id: "heavy", spec: any("t/big.Spec", new Uint8Array(1_000_000).fill(i)) }, updateMask: mask("spec") });
      }
      let received = 0;
      request.on("data", (chunk: Buffer) => (received += chunk.length));
      const status = await trailers;
      assert.equal(status["grpc-status"], String(Code.ResourceExhausted), String(status["grpc-message"]));
      const resumeFrom = /resume from revision (\d+)/.exec(String(status["grpc-message"]))?.[1];
      assert.ok(resumeFrom !== undefined, String(status["grpc-message"]));
      assert.ok(received < 24_000_000, "the changes past the limit were not sent");

      const resumed = new Watcher(client, { startRevision: BigInt(resumeFrom) });
      await resumed.until((w) => w.progress().length >= 1, "the replay");
      assert.deepEqual(
        resumed.changes().map((c) => c.revision),
        Array.from({ length: Number(store.at(25) - BigInt(resumeFrom)) }, (_, i) => BigInt(resumeFrom) + 1n + BigInt(i)),
      );
      await resumed.close();
    } finally {
      session.destroy();
    }
  });
});
}

for (const backend of [sqlite, etcd]) {
  describe(`container-store on ${backend.name}`, () => {
    before(() => backend.setUp());
    after(() => backend.tearDown());
    suite(backend);
  });
}
