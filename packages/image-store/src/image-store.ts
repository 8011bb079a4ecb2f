/**
 * The image store: names, content, snapshots and root filesystems together,
 * with the operations the service exposes. Every name-changing operation
 * publishes its event; delete and release run garbage collection.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { Image } from "@moby-core/image-api/v1";
import { Code } from "@connectrpc/connect";
import { ComponentError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@moby-core/sdk";
import { checkId } from "@moby-core/sdk/list";
import type { EventPublisher, Logger } from "@moby-core/sdk";
import { ImageSchema } from "@moby-core/image-api/v1";
import { ContentStore } from "./content-store.js";
import { collectGarbage } from "./garbage-collector.js";
import type { Collected } from "./garbage-collector.js";
import { ImageDatabase } from "./image-database.js";
import { publishDeleted, publishRecorded } from "./image-events.js";
import { pullImage } from "./image-puller.js";
import type { PullEvent } from "./image-puller.js";
import { parseReference, recordName } from "./image-reference.js";
import { Leases } from "./leases.js";
import { RegistryClient } from "./registry-client.js";
import { readCredentials } from "./registry-credentials.js";
import { applySnapshot, isMounted, makeRootfsDirs, mountOverlay, unmount } from "./rootfs-mounts.js";
import type { RootfsMethod } from "./rootfs-mounts.js";
import { Snapshotter } from "./snapshotter.js";
import type { StoreConfig } from "./store-config.js";

const SHORT_ID = /^(?:sha256:)?([0-9a-f]{12,64})$/;

/** A prepared root filesystem. */
export interface PreparedRootfs {
  path: string;
  image: Image;
  method: RootfsMethod;
}

/** The image store of one component. */
export class ImageStore {
  readonly content: ContentStore;
  readonly snapshots: Snapshotter;
  readonly db: ImageDatabase;
  readonly registry: RegistryClient;
  readonly leases = new Leases();
  private readonly rootfsDir: string;

  constructor(
    private readonly config: StoreConfig,
    private readonly publisher: EventPublisher | undefined,
    private readonly logger?: Logger,
  ) {
    this.db = new ImageDatabase(config.database);
    this.content = new ContentStore(config.root);
    this.snapshots = new Snapshotter(config.root, this.db, this.content);
    this.registry = new RegistryClient({ credentials: readCredentials(config.credentialsFile), insecure: new Set(config.insecureRegistries) });
    this.rootfsDir = join(config.root, "rootfs");
  }

  /** Removes root filesystems a killed process left without a row. */
  async recover(): Promise<void> {
    if (!existsSync(this.rootfsDir)) return;
    const known = new Set(this.db.rootfsAll().map((row) => row.containerId));
    for (const id of readdirSync(this.rootfsDir)) {
      if (known.has(id)) continue;
      await unmount(join(this.rootfsDir, id, "merged"));
      rmSync(join(this.rootfsDir, id), { recursive: true, force: true });
    }
  }

  /** Records an image under its name and publishes the event. */
  record(image: Image): Image {
    const now = timestampNow();
    const previous = this.db.image(image.name);
    const stored = create(ImageSchema, { ...image, createdAt: previous?.createdAt ?? now, updatedAt: now });
    const isNew = this.db.putImage(stored);
    if (this.publisher) publishRecorded(this.publisher, stored.name, stored.digest, isNew);
    return stored;
  }

  /** What the pulls did since the component started, for the metrics: pulls by outcome, and the bytes received from registries. */
  readonly pulls = { succeeded: 0, failed: 0, received: { bytes: 0 } };

  /** Pulls an image (see pullImage); counts it in pulls once it ends. */
  async *pull(reference: string, platform: string, signal: AbortSignal): AsyncGenerator<PullEvent> {
    const context = { registry: this.registry, content: this.content, snapshots: this.snapshots, leases: this.leases, record: (image: Image) => this.record(image), received: this.pulls.received };
    try {
      yield* pullImage(context, reference, platform, signal);
    } catch (error) {
      this.pulls.failed++;
      throw error;
    }
    this.pulls.succeeded++;
  }

  /** The images a name, config digest or short id means; NOT_FOUND when none. */
  resolve(text: string, field: string): Image[] {
    if (text === "") throw new InvalidArgumentError(field, "is required");
    const short = SHORT_ID.exec(text);
    if (short) {
      const found = this.db.imagesByConfig(`sha256:${short[1]}`);
      if (found.length > 0) {
        if (new Set(found.map((i) => i.configDigest)).size > 1) throw new InvalidArgumentError(field, `"${text}" is the prefix of more than one image id`);
        return found;
      }
    }
    const name = recordName(parseReference(text, field));
    const image = this.db.image(name);
    if (!image) throw new NotFoundError(`image "${text}" not found (as ${name})`);
    return [image];
  }

  /** Records target as another name of source's image. */
  tag(source: string, target: string): Image {
    const image = this.resolve(source, "source")[0]!;
    const ref = parseReference(target, "target");
    if (ref.digest) throw new InvalidArgumentError("target", "must be a reference with a tag and no digest");
    return this.record(create(ImageSchema, { ...image, name: recordName(ref) }));
  }

  /** Removes a name (or every name of an image id), then collects garbage. */
  delete(text: string, force: boolean): { untagged: string[]; collected: Collected } {
    const images = this.resolve(text, "name");
    const byId = SHORT_ID.test(text) && images.length > 0 && images[0]!.configDigest.startsWith(`sha256:${SHORT_ID.exec(text)![1]}`);
    const names = byId ? images.map((i) => i.name) : [images[0]!.name];
    const configDigest = images[0]!.configDigest;
    const remaining = this.db.imagesByConfig(configDigest).filter((i) => !names.includes(i.name));
    if (!force && remaining.length === 0) {
      const user = this.db.rootfsAll().find((row) => row.configDigest === configDigest);
      if (user) throw new FailedPreconditionError(`image "${text}" is used by container ${user.containerId}; release it first or delete with force`);
    }
    this.db.deleteImages(names);
    if (this.publisher) for (const image of images.filter((i) => names.includes(i.name))) publishDeleted(this.publisher, image.name, image.digest);
    return { untagged: names, collected: this.collect() };
  }

  /** Frees what nothing uses. */
  collect(): Collected {
    const collected = collectGarbage(this.db, this.content, this.snapshots, this.leases);
    if (collected.bytes > 0) this.logger?.info({ blobs: collected.blobs.length, snapshots: collected.snapshots.length, bytes: collected.bytes }, "garbage collected");
    return collected;
  }

  /** Makes (or finds again) the root filesystem of a container from an image. */
  async prepareRootfs(containerId: string, imageText: string): Promise<PreparedRootfs> {
    checkId(containerId, "container_id");
    const image = this.resolve(imageText, "image")[0]!;
    const dir = join(this.rootfsDir, containerId);
    const existing = this.db.rootfs(containerId);
    if (existing) {
      if (existing.configDigest !== image.configDigest) throw new FailedPreconditionError(`container ${containerId} has a root filesystem from another image (${existing.configDigest}); release it first`);
      const merged = join(dir, "merged");
      if (existing.method === "overlayfs" && !isMounted(merged)) await this.mount(image, dir);
      return { path: merged, image, method: existing.method as RootfsMethod };
    }
    for (const layer of image.layers) {
      if (!this.snapshots.has(layer.chainId)) throw new ComponentError(Code.FailedPrecondition, `image "${imageText}": layer ${layer.digest} is not unpacked; pull it again`);
    }
    rmSync(dir, { recursive: true, force: true });
    let method: RootfsMethod = this.config.rootfs === "copy" ? "copy" : "overlayfs";
    try {
      if (method === "overlayfs") {
        try {
          await this.mount(image, dir);
        } catch (error) {
          if (this.config.rootfs === "overlayfs") throw new ComponentError(Code.FailedPrecondition, `overlayfs mount failed: ${(error as Error).message}`);
          this.logger?.warn({ err: error }, "overlayfs cannot be mounted; copying the layers instead");
          method = "copy";
        }
      }
      if (method === "copy") {
        rmSync(dir, { recursive: true, force: true });
        const { merged } = makeRootfsDirs(dir);
        for (const layer of image.layers) applySnapshot(join(this.snapshots.root, this.snapshots.relativeFs(layer.chainId)), this.snapshots.opaque(layer.chainId), merged);
      }
      this.db.putRootfs({ containerId, configDigest: image.configDigest, chainIds: image.layers.map((l) => l.chainId), blobs: [image.digest, image.manifestDigest, image.configDigest, ...image.layers.map((l) => l.digest)], method });
    } catch (error) {
      await unmount(join(dir, "merged")).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return { path: join(dir, "merged"), image, method };
  }

  private async mount(image: Image, dir: string): Promise<void> {
    const { upper, work, merged } = makeRootfsDirs(dir);
    const lowers = image.layers.map((l) => this.snapshots.relativeFs(l.chainId)).reverse();
    if (lowers.length === 0) {
      makeRootfsDirs(join(dir, "empty"));
      lowers.push(join(dir, "empty", "merged"));
    }
    await mountOverlay(this.snapshots.root, lowers, upper, work, merged);
  }

  /** Unmounts and removes a container's root filesystem, then collects garbage; false when it had none. */
  async releaseRootfs(containerId: string): Promise<boolean> {
    checkId(containerId, "container_id");
    const row = this.db.rootfs(containerId);
    const dir = join(this.rootfsDir, containerId);
    await unmount(join(dir, "merged"));
    rmSync(dir, { recursive: true, force: true });
    if (!row) return false;
    this.db.deleteRootfs(containerId);
    // Only an image deleted with force while this container used it leaves content to free.
    if (this.db.imagesByConfig(row.configDigest).length === 0) this.collect();
    return true;
  }

  /** Closes the database. */
  close(): void {
    this.db.close();
  }
}
