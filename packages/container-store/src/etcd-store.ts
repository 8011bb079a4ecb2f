/**
 * The etcd v3 backend: the container records in an etcd cluster, under a
 * key prefix, so that several nodes (each with its own container-store)
 * share them. How the contract maps onto etcd:
 *
 * - Keys: `<prefix>c/<id>` holds a container's encoded record (without its
 *   revision, which is the key's mod_revision and is added on every read);
 *   `<prefix>revision` is written, empty, by every write of the store, so its
 *   mod_revision is the store revision: 0 while it does not exist, then the
 *   etcd revision of the store's last write. On a cluster shared with other
 *   keys the store revision still grows with every write and never repeats,
 *   but by one or more (the cluster's revision counts every key's writes);
 *   `<prefix>token-key` holds the key page tokens are signed with, made by
 *   the first store to open the prefix, so every node accepts every node's
 *   tokens.
 * - Create is one transaction that succeeds only while the key has no
 *   version (ALREADY_EXISTS otherwise); update and delete are
 *   compare-and-swap on the mod_revision read just before (NOT_FOUND when
 *   the key is gone, ABORTED when expected_revision differs, decided by the
 *   service on what was read); a swap that loses a race reads again and
 *   decides again.
 * - A ListContainers page and a StreamContainers snapshot read at one etcd
 *   revision (MVCC reads); a snapshot whose revision is compacted while it
 *   is read ends with ABORTED.
 * - WatchContainers is an etcd watch of the prefix from the next revision,
 *   with previous values (etcd-watch.ts).
 * - When etcd cannot be reached, calls fail with UNAVAILABLE naming the
 *   endpoints, and the service reports NOT_SERVING until a probe gets
 *   through again. open() rejects with UNAVAILABLE when no member can be
 *   reached (the component serves and tries again) and FAILED_PRECONDITION
 *   when etcd answers no (start-up fails).
 */
import { randomBytes } from "node:crypto";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { ConsecutiveBreaker, circuitBreaker, handleWhen } from "cockatiel";
import { Etcd3, EtcdAuthenticationFailedError, EtcdInvalidAuthTokenError, EtcdPermissionDeniedError, GRPCGenericError, isRecoverableError } from "etcd3";
import type { IKeyValue, IRequestOp, IResponseOp } from "etcd3";
import { ComponentError, FailedPreconditionError, RevisionConflictError, UnavailableError } from "@moby-core/sdk";
import type { Filter } from "@moby-core/sdk/list";
import { ContainerChangeType, ContainerSchema } from "@moby-core/container-store-api/v1";
import type { Container, WatchContainersResponse } from "@moby-core/container-store-api/v1";
import type { BackendStats, ContainerBackend, ContainerReader, ContainerRow, Mutation, StoredChange, WatchOptions, WriteDecision, WriteHint } from "./container-backend.js";
import { filterProjection, withRevision } from "./container-record.js";
import { etcdWatch } from "./etcd-watch.js";
import type { EtcdConfig } from "./store-config.js";

/** The largest response taken from etcd, in bytes: a range of 256 records of at most 1 MiB each, and room. */
const MAX_RESPONSE_BYTES = 300 * 1024 * 1024;
/** The most operations in one etcd transaction (etcd's --max-txn-ops default). */
const MAX_TXN_OPS = 128;
/** How often a store that could not reach etcd tries again, in ms. */
const PROBE_INTERVAL_MS = 500;
/**
 * How long the client keeps away from an etcd member after failing calls to
 * it, in ms, before it tries that member again (etcd3's default is 5 s: a
 * leader change on a loaded machine, whose calls time out on every member,
 * left the store refusing every call for 5 s after etcd was writable again).
 */
const MEMBER_RETRY_MS = 1000;
/** How many calls in a row must fail on a member before the client keeps away from it. */
const MEMBER_FAILURES = 5;
/** The most times a write reads and decides again after losing a compare-and-swap race. */
const MAX_WRITE_ATTEMPTS = 100;

/** The end of the key range of every key that starts with prefix (etcd's prefix range_end). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** Decodes a stored value into the container it holds at revision. */
export function decodeStored(value: Uint8Array, revision: bigint): Container {
  const container = fromBinary(ContainerSchema, value);
  container.revision = revision;
  return container;
}

/** An error's message on one line, with no space at its ends (a gRPC status message travels in a header). */
function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ").trim();
}

/** Tells whether error came from our own rules rather than from etcd. */
function isOurs(error: unknown): boolean {
  return error instanceof ComponentError;
}

/**
 * Tells whether an error of opening says etcd cannot be reached (no member
 * answers, none in time, no leader: try again later) rather than that it
 * answered no (auth, permissions, a request it refuses, a token key that is
 * not ours: a configuration to fix). Only an answer from etcd is taken as no.
 */
function isReachability(error: unknown): boolean {
  if (error instanceof EtcdAuthenticationFailedError || error instanceof EtcdInvalidAuthTokenError || error instanceof EtcdPermissionDeniedError) return false;
  if (error instanceof GRPCGenericError) return isRecoverableError(error);
  return !(error instanceof TokenKeyError);
}

/** The page-token key stored under the prefix is not one a store made. */
class TokenKeyError extends Error {}

/** Tells whether an etcd error says that the revision read is compacted. */
function isCompacted(error: unknown): boolean {
  return error instanceof Error && /compacted/.test(error.message);
}

/** The keys of one store in etcd. */
export class EtcdKeys {
  readonly prefix: Buffer;
  /** The start of the containers' keys. */
  readonly containers: Buffer;
  /** The end of the containers' keys. */
  readonly containersEnd: Buffer;
  /** The key whose mod_revision is the store revision. */
  readonly revision: Buffer;
  /** The key of the page-token key. */
  readonly tokenKey: Buffer;
  /** The end of every key of the store. */
  readonly end: Buffer;

  constructor(prefix: string) {
    this.prefix = Buffer.from(prefix);
    this.containers = Buffer.from(`${prefix}c/`);
    this.containersEnd = prefixEnd(this.containers);
    this.revision = Buffer.from(`${prefix}revision`);
    this.tokenKey = Buffer.from(`${prefix}token-key`);
    this.end = prefixEnd(this.prefix);
  }

  /** The key of the container with this id. */
  container(id: string): Buffer {
    return Buffer.concat([this.containers, Buffer.from(id)]);
  }

  /** The id of a container key, or undefined for another key of the store. */
  idOf(key: Buffer): string | undefined {
    if (key.length <= this.containers.length || !key.subarray(0, this.containers.length).equals(this.containers)) return undefined;
    return key.subarray(this.containers.length).toString();
  }
}

/** The revision of a stored key-value, as a bigint. */
function modRevision(kv: IKeyValue): bigint {
  return BigInt(kv.mod_revision);
}

/** The container records in an etcd cluster, under a prefix. */
export class EtcdStore implements ContainerBackend {
  readonly location: Record<string, string>;
  readonly keys: EtcdKeys;
  private readonly listeners = new Set<(change: StoredChange) => void>();
  private probe: NodeJS.Timeout | undefined;
  private closed = false;
  /** GetContainer reads waiting for this turn's transaction. */
  private pendingReads: { key: Buffer; resolve: (record: Uint8Array | undefined) => void; reject: (error: unknown) => void }[] = [];
  /** The latest etcd revision this store has seen, to guess the next one (size checks). */
  private seen = 0n;

  private constructor(
    /** The etcd client. */
    readonly client: Etcd3,
    readonly config: EtcdConfig,
    readonly tokenKey: Uint8Array,
    /** Told when etcd stops or starts answering: ok false with the reason, then ok true. */
    private readonly onHealth: (ok: boolean, reason: string) => void,
    /** Where a failing listener is reported. */
    private readonly reportError: (error: unknown) => void,
  ) {
    this.keys = new EtcdKeys(config.prefix);
    this.location = { backend: "etcd", endpoints: config.endpoints.join(","), prefix: config.prefix };
  }

  /** Connects to the cluster and reads (or makes, once for every node) the page-token key. */
  static async open(
    config: EtcdConfig,
    onHealth: (ok: boolean, reason: string) => void = () => {},
    reportError: (error: unknown) => void = () => {},
  ): Promise<EtcdStore> {
    const client = EtcdStore.connect(config);
    try {
      const keys = new EtcdKeys(config.prefix);
      const candidate = randomBytes(32);
      // Put the key only where none is, and read what is there either way.
      const response = await client.kv.txn({
        compare: [{ key: keys.tokenKey, target: "Version", result: "Equal", version: 0 }],
        success: [{ request_put: { key: keys.tokenKey, value: candidate } }],
        failure: [{ request_range: { key: keys.tokenKey } }],
      });
      const stored = response.succeeded ? candidate : response.responses[0]?.response_range.kvs[0]?.value;
      if (stored === undefined || stored.length !== 32) throw new TokenKeyError(`${config.prefix}token-key in etcd does not hold a 32-byte key`);
      return new EtcdStore(client, config, new Uint8Array(stored), onHealth, reportError);
    } catch (error) {
      client.close();
      const endpoints = config.endpoints.join(", ");
      if (isReachability(error)) throw new UnavailableError(`etcd at ${endpoints} cannot be reached: ${oneLine(error)}`, { cause: error });
      throw new FailedPreconditionError(`etcd at ${endpoints} cannot be used: ${oneLine(error)}`);
    }
  }

  /** An etcd client for config: unary calls time out after requestTimeoutMs; watches have no deadline. */
  static connect(config: EtcdConfig): Etcd3 {
    return new Etcd3({
      hosts: config.endpoints,
      dialTimeout: config.dialTimeoutMs,
      grpcOptions: {
        // A page of up to 256 records of up to 1 MiB each comes in one response.
        "grpc.max_receive_message_length": MAX_RESPONSE_BYTES,
        // grpc-js's channelz bookkeeping (per call counters and traces no one
        // here reads) is ~15% of the client's CPU per call.
        "grpc.enable_channelz": 0,
      },
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + config.requestTimeoutMs }),
      faultHandling: {
        host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: MEMBER_RETRY_MS, breaker: new ConsecutiveBreaker(MEMBER_FAILURES) }),
      },
    });
  }

  /** Runs one call to etcd; an etcd failure becomes UNAVAILABLE (and NOT_SERVING until a probe succeeds). */
  async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      return result;
    } catch (error) {
      if (isOurs(error)) throw error;
      if (isCompacted(error)) throw error;
      const reason = `etcd at ${this.config.endpoints.join(", ")} cannot be reached: ${oneLine(error)}`;
      this.unhealthy(reason);
      throw new UnavailableError(reason);
    }
  }

  /** Reports NOT_SERVING and probes etcd until it answers. */
  private unhealthy(reason: string): void {
    if (this.probe !== undefined || this.closed) return;
    this.onHealth(false, reason);
    const tryAgain = () => {
      this.client.kv
        .range({ key: this.keys.revision })
        .then(() => {
          this.probe = undefined;
          if (!this.closed) this.onHealth(true, "");
        })
        .catch(() => {
          if (!this.closed) this.probe = setTimeout(tryAgain, PROBE_INTERVAL_MS);
        });
    };
    this.probe = setTimeout(tryAgain, PROBE_INTERVAL_MS);
  }

  /** Notes an etcd revision seen in a response. */
  private saw(revision: string): bigint {
    const value = BigInt(revision);
    if (value > this.seen) this.seen = value;
    return value;
  }

  async stats(): Promise<BackendStats> {
    const response = await this.call(() => this.client.kv.range({ key: this.keys.containers, range_end: this.keys.containersEnd, count_only: true }));
    this.saw(response.header.revision);
    return { containers: Number(response.count), oldestRevision: undefined };
  }

  async currentRevision(): Promise<bigint> {
    const response = await this.call(() => this.client.kv.range({ key: this.keys.revision }));
    this.saw(response.header.revision);
    const kv = response.kvs[0];
    return kv === undefined ? 0n : modRevision(kv);
  }

  /**
   * The record of id. Reads that arrive in the same turn go to etcd together,
   * as the range operations of one transaction (at most MAX_TXN_OPS): one
   * round trip, each read still linearizable, all at one revision.
   */
  record(id: string): Promise<Uint8Array | undefined> {
    return new Promise((resolve, reject) => {
      this.pendingReads.push({ key: this.keys.container(id), resolve, reject });
      if (this.pendingReads.length === 1) setImmediate(() => this.readTogether());
    });
  }

  /** Sends the reads queued in this turn, in transactions of at most MAX_TXN_OPS ranges. */
  private readTogether(): void {
    const queued = this.pendingReads;
    this.pendingReads = [];
    for (let i = 0; i < queued.length; i += MAX_TXN_OPS) {
      const group = queued.slice(i, i + MAX_TXN_OPS);
      const read =
        group.length === 1
          ? this.call(() => this.client.kv.range({ key: group[0]!.key })).then((response) => ({ revision: response.header.revision, found: [response.kvs[0]] }))
          : this.call(() => this.client.kv.txn({ success: group.map((r) => ({ request_range: { key: r.key } })) })).then((response) => ({
              revision: response.header.revision,
              found: response.responses.map((op) => op.response_range.kvs[0]),
            }));
      read.then(
        ({ revision, found }) => {
          this.saw(revision);
          group.forEach((r, j) => {
            const kv = found[j];
            r.resolve(kv === undefined ? undefined : withRevision(kv.value, modRevision(kv)));
          });
        },
        (error: unknown) => group.forEach((r) => r.reject(error)),
      );
    }
  }

  /** A reader at the cluster's current revision; reads fail with ABORTED once that revision is compacted. */
  private async reader(): Promise<ContainerReader> {
    const response = await this.call(() => this.client.kv.range({ key: this.keys.revision }));
    const at = this.saw(response.header.revision);
    const meta = response.kvs[0];
    const rows = async (after: string, limit: number, keysOnly: boolean) => {
      const start = Buffer.concat([this.keys.containers, Buffer.from(after), Buffer.from([0])]);
      try {
        const page = await this.call(() =>
          this.client.kv.range({ key: after === "" ? this.keys.containers : start, range_end: this.keys.containersEnd, limit, revision: String(at), keys_only: keysOnly }),
        );
        return page.kvs;
      } catch (error) {
        if (!isCompacted(error)) throw error;
        throw new RevisionConflictError(`the read at revision ${at} was compacted away in etcd before it ended: read again`);
      }
    };
    return {
      revision: meta === undefined ? 0n : modRevision(meta),
      rowsAfter: async (after, limit): Promise<ContainerRow[]> =>
        (await rows(after, limit, false)).map((kv) => ({ id: this.keys.idOf(kv.key) ?? "", record: withRevision(kv.value, modRevision(kv)) })),
      anyAfter: async (after) => (await rows(after, 1, true)).length > 0,
      close() {},
    };
  }

  pageReader(): Promise<ContainerReader> {
    return this.reader();
  }

  snapshot(): Promise<ContainerReader> {
    return this.reader();
  }

  async write(id: string, decide: WriteDecision, hint: WriteHint = {}): Promise<StoredChange> {
    const key = this.keys.container(id);
    // A create decides as if the key were absent; its transaction checks that, and reads the key when it is not.
    let current = hint.likelyAbsent === true ? undefined : await this.read(key);
    for (let attempt = 1; ; attempt++) {
      const container = current === undefined ? undefined : decodeStored(current.value, modRevision(current));
      const mutation = decide({
        revision: this.seen + 1n,
        now: timestampNow(),
        get: (other) => {
          if (other !== id) throw new Error(`the etcd store reads only the container a write names (${id}), not ${other}`);
          return container;
        },
      });
      const value = mutation.type === ContainerChangeType.DELETE ? undefined : asBuffer(mutation.stored);
      const guard =
        current === undefined
          ? { key, target: "Version" as const, result: "Equal" as const, version: 0 }
          : { key, target: "Mod" as const, result: "Equal" as const, mod_revision: current.mod_revision };
      const change: IRequestOp = value === undefined ? { request_delete_range: { key } } : { request_put: { key, value } };
      const response = await this.call(() =>
        this.client.kv.txn({
          compare: [guard],
          success: [change, { request_put: { key: this.keys.revision, value: Buffer.alloc(0) } }],
          failure: [{ request_range: { key } }],
        }),
      );
      const revision = this.saw(response.header.revision);
      if (response.succeeded) return this.committed(mutation, revision, value);
      const now = firstKv(response.responses[0]);
      // A retried call whose first try committed finds its own value: it is this write.
      if (value !== undefined && now !== undefined && now.value.equals(value) && mutation.type !== ContainerChangeType.DELETE) {
        return this.committed(mutation, modRevision(now), value);
      }
      if (attempt >= MAX_WRITE_ATTEMPTS) {
        throw new RevisionConflictError(`container ${JSON.stringify(id)} changed ${attempt} times while this write was being decided: retry`);
      }
      current = now;
    }
  }

  /** The key-value of key now, or undefined. */
  private async read(key: Buffer): Promise<IKeyValue | undefined> {
    const response = await this.call(() => this.client.kv.range({ key }));
    this.saw(response.header.revision);
    return response.kvs[0];
  }

  /** The change of a committed mutation, handed to the listeners. */
  private committed(mutation: Mutation, revision: bigint, value: Buffer | undefined): StoredChange {
    const { container } = mutation;
    if (mutation.type !== ContainerChangeType.DELETE) container.revision = revision;
    const change: StoredChange = {
      revision,
      type: mutation.type,
      container,
      size: value?.byteLength ?? toBinary(ContainerSchema, container).byteLength,
      ...(value === undefined ? {} : { record: withRevision(value, revision) }),
      ...(mutation.type === ContainerChangeType.UPDATE ? { previous: mutation.previous, updatePaths: mutation.updatePaths } : {}),
    };
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.reportError(error);
      }
    }
    return change;
  }

  onCommit(listener: (change: StoredChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async watch(filter: Filter, startRevision: bigint, signal: AbortSignal, options: WatchOptions): Promise<AsyncGenerator<WatchContainersResponse>> {
    return etcdWatch(this, filter, startRevision, signal, options);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.probe);
    this.client.close();
  }
}

/** The bytes of a record as a Buffer, without copying them (etcd3 takes Buffers, and compares them when a retried write finds its own value). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The first key-value of a range response in a transaction's responses. */
function firstKv(op: IResponseOp | undefined): IKeyValue | undefined {
  return op?.response_range.kvs[0];
}

/** The fields of a previous container a watcher's filter reads. */
export function previousOf(kv: IKeyValue | undefined): Container | undefined {
  return kv === undefined || kv.value === undefined ? undefined : filterProjection(decodeStored(kv.value, modRevision(kv)));
}
