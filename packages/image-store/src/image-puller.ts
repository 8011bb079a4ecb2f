/**
 * Pulls an image: resolves the reference in its registry, picks the
 * manifest of the wanted platform from an index, downloads what the store
 * lacks (at most 6 blobs at once, as skopeo, each verified while it streams, each
 * downloaded once however many pulls want it), unpacks each layer from its
 * bytes as they arrive (a layer whose blob is in the store already, from
 * there), records a snapshot only once its blob is verified, and records the
 * image. Progress is reported per
 * piece of content. Everything the pull uses is leased until the image is
 * recorded, so garbage collection cannot take it.
 */
import { PassThrough } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { ContentKind, PullPhase, PullProgressSchema } from "@moby-core/image-api/v1";
import type { Image, PullProgress } from "@moby-core/image-api/v1";
import { Code } from "@connectrpc/connect";
import { ComponentError } from "@moby-core/sdk";
import type { ContentStore } from "./content-store.js";
import { digestOf } from "./digest.js";
import { EventChannel } from "./event-channel.js";
import { buildImage, parseConfig, parseIndex, parseManifest } from "./image-content.js";
import type { Descriptor } from "./image-content.js";
import { parseReference, recordName } from "./image-reference.js";
import type { Leases } from "./leases.js";
import { isIndex } from "./media-types.js";
import { parsePlatform, selectPlatform } from "./platform.js";
import type { RegistryClient } from "./registry-client.js";
import type { Snapshotter } from "./snapshotter.js";

/** How many blobs one pull downloads at once: 6, as skopeo (containers/image's maxParallelDownloads). */
export const PULL_CONCURRENCY = 6;
/** The bytes a layer's download runs ahead of its unpacking. */
const TEE_BYTES = 1024 * 1024;
/** Progress of a download is reported at most once per this many bytes. */
const PROGRESS_STEP = 256 * 1024;

/** What a pull needs. */
export interface PullContext {
  registry: RegistryClient;
  content: ContentStore;
  snapshots: Snapshotter;
  leases: Leases;
  /** Records the image (and publishes its event). */
  record(image: Image): Image;
  /** Where the bytes received from registries (manifests and blobs) are counted, for the metrics. */
  received?: { bytes: number };
}

/** Passes body on, adding the size of each chunk to received. */
async function* counted(body: AsyncIterable<Uint8Array>, received: { bytes: number } | undefined): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    if (received !== undefined) received.bytes += chunk.byteLength;
    yield chunk;
  }
}

/**
 * Passes body on and writes each chunk into sink too, waiting while sink is
 * full; once sink is destroyed (its reader failed) it is fed no more. sink
 * ends with body, or is destroyed when body fails or is left.
 */
async function* teed(body: AsyncIterable<Uint8Array>, sink: PassThrough): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) {
      if (!sink.destroyed && !sink.write(chunk)) await drained(sink);
      yield chunk;
    }
    sink.end();
  } finally {
    if (!sink.writableEnded) sink.destroy(new Error("the layer's download stopped"));
  }
}

/** Resolves when stream can take more, or is closed. */
function drained(stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

/** One message of a pull: progress, or the image last. */
export type PullEvent = { progress: PullProgress } | { image: Image };

function progress(digest: string, kind: ContentKind, phase: PullPhase, current: number, total: number): PullEvent {
  return { progress: create(PullProgressSchema, { digest, kind, phase, currentBytes: BigInt(current), totalBytes: BigInt(total) }) };
}

/** Runs n tasks with at most limit at once; resolves each task's promise in order. */
function limited<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T>[] {
  const results: Promise<T>[] = [];
  let running = 0;
  const waiting: (() => void)[] = [];
  for (const task of tasks) {
    results.push(
      (async () => {
        if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
        running++;
        try {
          return await task();
        } finally {
          running--;
          waiting.shift()?.();
        }
      })(),
    );
  }
  for (const result of results) result.catch(() => undefined);
  return results;
}

/** Pulls reference for platform (empty: this machine's), yielding progress and then the image. */
export async function* pullImage(ctx: PullContext, referenceText: string, platformText: string, signal: AbortSignal): AsyncGenerator<PullEvent> {
  const ref = parseReference(referenceText, "reference");
  const platform = parsePlatform(platformText, "platform");
  const channel = new EventChannel<PullEvent>();
  const lease = ctx.leases.acquire();
  const repo = `${ref.host}/${ref.repository}`;

  const fetchBlob = async (desc: Descriptor, kind: ContentKind, unpackInto?: { chainId: string; diffId: string }): Promise<void> => {
    // A download queued behind others does not start once the pull is cancelled.
    signal.throwIfAborted();
    lease.add(desc.digest);
    if (ctx.content.has(desc.digest)) {
      channel.push(progress(desc.digest, kind, PullPhase.EXISTS, desc.size, desc.size));
      return;
    }
    let reported = 0;
    await ctx.content.fetchOnce(
      desc.digest,
      async (downloadSignal, onProgress) => {
        const body = counted(await ctx.registry.blob(ref.host, ref.repository, desc.digest, downloadSignal), ctx.received);
        if (unpackInto === undefined || ctx.snapshots.has(unpackInto.chainId) || ctx.snapshots.unpacking(unpackInto.chainId)) {
          await ctx.content.ingest(desc.digest, desc.size, body, onProgress, downloadSignal);
          return;
        }
        // The layer is unpacked from its bytes as they arrive, not read back from the store after; its snapshot is
        // recorded once the blob is verified.
        const sink = new PassThrough({ highWaterMark: TEE_BYTES });
        let verify: { resolve(): void; reject(error: unknown): void } = { resolve: () => undefined, reject: () => undefined };
        const verified = new Promise<void>((resolve, reject) => (verify = { resolve, reject }));
        verified.catch(() => undefined);
        const unpacking = ctx.snapshots.unpackFrom(unpackInto.chainId, desc.digest, unpackInto.diffId, sink, verified, downloadSignal);
        unpacking.catch(() => undefined);
        try {
          await ctx.content.ingest(desc.digest, desc.size, teed(body, sink), onProgress, downloadSignal);
          verify.resolve();
        } catch (error) {
          verify.reject(error);
          // The unpacking stops (its input was cut) and removes its directory before the pull answers.
          await unpacking.catch(() => undefined);
          throw error;
        }
      },
      (bytes) => {
        if (bytes - reported < PROGRESS_STEP && bytes !== desc.size) return;
        reported = bytes;
        channel.push(progress(desc.digest, kind, bytes === desc.size ? PullPhase.VERIFYING : PullPhase.DOWNLOADING, bytes, desc.size));
      },
      signal,
    );
    channel.push(progress(desc.digest, kind, PullPhase.DONE, desc.size, desc.size));
  };

  const run = async (): Promise<void> => {
    const target = ref.digest || ref.tag;
    const top = await ctx.registry.manifest(ref.host, ref.repository, target, signal);
    if (ctx.received !== undefined) ctx.received.bytes += top.bytes.byteLength;
    const topDigest = digestOf(top.bytes);
    if (ref.digest && topDigest !== ref.digest) throw new ComponentError(Code.DataLoss, `manifest ${repo}@${ref.digest}: the registry sent content with digest ${topDigest}`);
    lease.add(topDigest);
    await ctx.content.writeBytes(topDigest, top.bytes);
    let manifestDigest = topDigest;
    let manifestBytes = top.bytes;
    if (isIndex(top.mediaType)) {
      channel.push(progress(topDigest, ContentKind.INDEX, PullPhase.DONE, top.bytes.byteLength, top.bytes.byteLength));
      const entry = selectPlatform(parseIndex(top.bytes, `index ${topDigest}`), platform);
      const child = await ctx.registry.manifest(ref.host, ref.repository, entry.digest, signal);
      if (ctx.received !== undefined) ctx.received.bytes += child.bytes.byteLength;
      manifestDigest = digestOf(child.bytes);
      if (manifestDigest !== entry.digest) throw new ComponentError(Code.DataLoss, `manifest ${repo}@${entry.digest}: the registry sent content with digest ${manifestDigest}`);
      lease.add(manifestDigest);
      await ctx.content.writeBytes(manifestDigest, child.bytes);
      manifestBytes = child.bytes;
    }
    channel.push(progress(manifestDigest, ContentKind.MANIFEST, PullPhase.DONE, manifestBytes.byteLength, manifestBytes.byteLength));
    const manifest = parseManifest(manifestBytes, `manifest ${manifestDigest}`);
    await fetchBlob(manifest.config, ContentKind.CONFIG);
    const config = parseConfig(ctx.content.read(manifest.config.digest), `config ${manifest.config.digest}`);
    const image = buildImage(recordName(ref), { digest: topDigest, mediaType: top.mediaType, size: top.bytes.byteLength }, manifestDigest, manifest, manifestBytes.byteLength, config);
    for (const layer of image.layers) {
      lease.add(layer.digest, layer.chainId);
      channel.push(progress(layer.digest, ContentKind.LAYER, PullPhase.RESOLVED, 0, Number(layer.size)));
    }
    // Whether each snapshot was there before: a layer unpacked as it downloads still reports EXTRACTING, until done.
    const present = image.layers.map((layer) => ctx.snapshots.has(layer.chainId));
    const downloads = limited(
      manifest.layers.map((desc, i) => () => fetchBlob(desc, ContentKind.LAYER, image.layers[i])),
      PULL_CONCURRENCY,
    );
    try {
      for (const [i, layer] of image.layers.entries()) {
        await downloads[i];
        if (!present[i]) {
          channel.push(progress(layer.digest, ContentKind.LAYER, PullPhase.EXTRACTING, Number(layer.size), Number(layer.size)));
          await ctx.snapshots.unpack(layer.chainId, layer.digest, layer.diffId, signal);
          channel.push(progress(layer.digest, ContentKind.LAYER, PullPhase.DONE, Number(layer.size), Number(layer.size)));
        }
      }
    } catch (error) {
      // The pull answers once every download it started has stopped, and their unpacks with them: nothing of it is
      // left running (or half-present) after its answer.
      await Promise.allSettled(downloads);
      throw error;
    }
    signal.throwIfAborted();
    channel.push({ image: ctx.record(image) });
  };

  const done = run().then(
    () => channel.end(),
    (error: unknown) => channel.end({ error: signal.aborted ? new ComponentError(Code.Canceled, "the pull was cancelled") : error }),
  );
  try {
    yield* channel;
  } finally {
    await done;
    lease.release();
  }
}
