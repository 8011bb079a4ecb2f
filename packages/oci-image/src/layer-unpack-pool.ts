/**
 * Layers unpacked on worker threads: `unpackLayer`'s work (decompressing,
 * the diff id's SHA-256, tar parsing, the file writes) moved off the main
 * thread, which keeps the network, the blob's own digest and the RPCs. The
 * bytes are sent to the worker in chunks of CHUNK_BYTES (copied once, then
 * transferred), with at most WINDOW_BYTES sent and not yet taken by the
 * unpacker, so a slow disk slows the sender instead of filling memory.
 * Workers are kept for the next layer and do not keep the process alive.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { Code } from "@connectrpc/connect";
import { ComponentError } from "@moby-core/sdk";
import { UnsafeEntryError } from "./layer-unpacker.js";
import type { UnpackResult } from "./layer-unpacker.js";

/** A message to an unpack worker. */
export type ToUnpacker =
  | { type: "start"; root: string; layer: string; bufferBytes: number }
  | { type: "chunk"; bytes: Uint8Array }
  | { type: "end" }
  | { type: "abort"; reason: string };

/** A message from an unpack worker. */
export type FromUnpacker =
  | { type: "ack"; bytes: number }
  | { type: "done"; result: UnpackResult }
  | { type: "failed"; kind: "unsafe" | "component" | "other"; code: number; message: string };

/** The bytes of each message to a worker. */
const CHUNK_BYTES = 1024 * 1024;
/** The most bytes sent to a worker and not yet taken by its unpacker. */
const WINDOW_BYTES = 4 * CHUNK_BYTES;

/** A new unpack worker: the compiled module beside this one, or, run from source, the .ts one through tsx's loader. */
function startWorker(): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./layer-unpack-worker.js", import.meta.url));
  const source = new URL("./layer-unpack-worker.ts", import.meta.url).href;
  return new Worker(`import("tsx/esm/api").then(({ register }) => register()).then(() => import(${JSON.stringify(source)}));`, { eval: true });
}

/** Rebuilds an error a worker reported. */
function errorOf(message: Extract<FromUnpacker, { type: "failed" }>): Error {
  if (message.kind === "unsafe") return new UnsafeEntryError(message.message);
  if (message.kind === "component") return new ComponentError(message.code as Code, message.message);
  return new Error(message.message);
}

/** Unpacks layers on a few worker threads, one layer per worker at a time. */
export class LayerUnpackPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  private started = 0;

  /** @param size the most workers (default: the machine's parallelism, at least 2). */
  constructor(private readonly size = Math.max(2, availableParallelism())) {}

  /**
   * Unpacks a layer stream into root (an empty directory), as `unpackLayer`
   * does, on a worker. signal stops it; a failure of source is the
   * unpacking's failure. The caller removes root on failure.
   */
  async unpack(source: AsyncIterable<Uint8Array>, root: string, layer: string, signal?: AbortSignal): Promise<UnpackResult> {
    signal?.throwIfAborted();
    const worker = await this.acquire();
    let healthy = true;
    try {
      return await this.run(worker, source, root, layer, signal);
    } catch (error) {
      healthy = !(error instanceof WorkerLostError);
      throw error;
    } finally {
      this.release(worker, healthy);
    }
  }

  private async run(worker: Worker, source: AsyncIterable<Uint8Array>, root: string, layer: string, signal?: AbortSignal): Promise<UnpackResult> {
    let inFlight = 0;
    let wake: (() => void) | undefined;
    let settled = false;
    let sourceError: unknown;
    const outcome = new Promise<UnpackResult>((resolve, reject) => {
      const onMessage = (message: FromUnpacker) => {
        if (message.type === "ack") {
          inFlight -= message.bytes;
          wake?.();
          return;
        }
        finish();
        if (message.type === "done") resolve(message.result);
        else reject(sourceError ?? errorOf(message));
      };
      const onError = (error: Error) => (finish(), reject(new WorkerLostError(`layer ${layer}: its unpack worker failed (${error.message})`)));
      const onExit = (code: number) => (finish(), reject(new WorkerLostError(`layer ${layer}: its unpack worker exited with code ${code}`)));
      const finish = () => {
        settled = true;
        wake?.();
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
      };
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
    });
    outcome.catch(() => undefined);
    const post = (message: ToUnpacker, transfer: ArrayBuffer[] = []) => worker.postMessage(message, transfer);
    const onAbort = () => post({ type: "abort", reason: `the unpack of layer ${layer} was cancelled` });
    post({ type: "start", root, layer, bufferBytes: CHUNK_BYTES });
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      let batch: Uint8Array = Buffer.allocUnsafeSlow(CHUNK_BYTES);
      let used = 0;
      const send = async () => {
        const bytes = used === batch.byteLength ? batch : batch.subarray(0, used);
        inFlight += used;
        post({ type: "chunk", bytes }, [bytes.buffer as ArrayBuffer]);
        batch = Buffer.allocUnsafeSlow(CHUNK_BYTES);
        used = 0;
        while (inFlight > WINDOW_BYTES && !settled) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      };
      for await (const chunk of source) {
        if (settled) break;
        let offset = 0;
        while (offset < chunk.byteLength) {
          const take = Math.min(chunk.byteLength - offset, CHUNK_BYTES - used);
          batch.set(chunk.subarray(offset, offset + take), used);
          used += take;
          offset += take;
          if (used === CHUNK_BYTES) await send();
        }
      }
      if (used > 0 && !settled) await send();
      if (!settled) post({ type: "end" });
    } catch (error) {
      sourceError = error;
      if (!settled) post({ type: "abort", reason: (error as Error).message });
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    return outcome;
  }

  private acquire(): Promise<Worker> {
    const worker = this.idle.pop();
    if (worker !== undefined) return Promise.resolve(worker);
    if (this.started < this.size) {
      this.started++;
      const fresh = startWorker();
      fresh.unref();
      return Promise.resolve(fresh);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(worker: Worker, healthy: boolean): void {
    if (!healthy) {
      this.started--;
      void worker.terminate();
      if (this.waiting.length > 0) void this.acquire().then((next) => this.release(next, true));
      return;
    }
    const next = this.waiting.shift();
    if (next !== undefined) next(worker);
    else this.idle.push(worker);
  }
}

/** The worker itself failed (not the layer): it is replaced. */
class WorkerLostError extends ComponentError {
  constructor(message: string) {
    super(Code.Internal, message);
  }
}
