/**
 * What the fault tests measure and send: a component process's open files
 * and resident memory (from /proc), sampled for their peak while a fault
 * runs and waited on until they are back within a bound; whether the
 * component still answers a new client SERVING; and raw HTTP/2 frames, for
 * the faults no well-behaved client can produce.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { connect } from "node:net";
import type { Socket } from "node:net";
import type { TestContext } from "node:test";
import { ServingStatus, dialSocket } from "@moby-core/sdk";
import { Health } from "@moby-core/grpc-health-api/v1";

/** The open files of a process. */
export function openFiles(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The resident memory of a process, in MiB. */
export function residentMiB(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  assert.ok(line !== null, `no VmRSS for ${pid}`);
  return Number(line[1]) / 1024;
}

/** What each open file of a process is (a path, socket:[inode], pipe:[inode], ...). */
export function openFileTargets(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return "(closed)";
    }
  });
}

/** The kinds of open files in now beyond those in base, counted: "socket x3, /db/c.db x1". */
function extraFiles(base: string[], now: string[]): string {
  const left = [...base];
  const extra = new Map<string, number>();
  for (const target of now) {
    const i = left.indexOf(target);
    if (i >= 0) left.splice(i, 1);
    else {
      const kind = target.replace(/:\[\d+\]$/, "");
      extra.set(kind, (extra.get(kind) ?? 0) + 1);
    }
  }
  return [...extra].map(([kind, count]) => `${kind} x${count}`).join(", ");
}

/** A process's open files and memory, before, at their peak during, and after a fault. */
export class Figures {
  readonly baseFiles: number;
  private readonly baseTargets: string[];
  readonly baseMiB: number;
  peakFiles: number;
  peakMiB: number;
  private readonly started = performance.now();
  private readonly timer: NodeJS.Timeout;

  /** Starts sampling pid every 20 ms. */
  constructor(readonly pid: number) {
    this.baseTargets = openFileTargets(pid);
    this.baseFiles = this.peakFiles = this.baseTargets.length;
    this.baseMiB = this.peakMiB = residentMiB(pid);
    this.timer = setInterval(() => this.sample(), 20);
    this.timer.unref();
  }

  /** Takes one sample now. */
  sample(): void {
    try {
      this.peakFiles = Math.max(this.peakFiles, openFiles(this.pid));
      this.peakMiB = Math.max(this.peakMiB, residentMiB(this.pid));
    } catch {
      // The process is gone: the test's SERVING check says so.
    }
  }

  /**
   * Waits until the open files are at most `files` above where they began and
   * memory at most `mib` MiB above, then stops sampling and prints the figures.
   * Fails if they are not back within `withinMs` (a hang guard, not a timing claim).
   */
  async settle(t: TestContext, bound: { files: number; mib: number }, withinMs = 20_000): Promise<void> {
    const deadline = Date.now() + withinMs;
    let files = openFiles(this.pid);
    let mib = residentMiB(this.pid);
    while ((files > this.baseFiles + bound.files || mib > this.baseMiB + bound.mib) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      this.sample();
      files = openFiles(this.pid);
      mib = residentMiB(this.pid);
    }
    clearInterval(this.timer);
    const line =
      `fds ${this.baseFiles} -> peak ${this.peakFiles} -> ${files} (bound +${bound.files}); ` +
      `RSS ${this.baseMiB.toFixed(0)} -> peak ${this.peakMiB.toFixed(0)} -> ${mib.toFixed(0)} MiB (bound +${bound.mib}); ` +
      `${((performance.now() - this.started) / 1000).toFixed(1)} s`;
    t.diagnostic(line);
    assert.ok(files <= this.baseFiles + bound.files, `open files did not come back: ${line}; still open beyond the start: ${extraFiles(this.baseTargets, openFileTargets(this.pid))}`);
    assert.ok(mib <= this.baseMiB + bound.mib, `memory did not come back: ${line}`);
  }

  /** Stops sampling (for a test that failed before settle). */
  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * Resolves as promise does, or fails saying what did not happen once
 * withinMs pass: a guard against a hang, not a claim about time.
 */
export async function within<T>(promise: Promise<T>, what: string, withinMs = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${withinMs / 1000} s`)), withinMs);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** Asserts that a new client, on a new connection, gets SERVING from the component on socketPath. */
export async function assertServing(socketPath: string, service = ""): Promise<void> {
  const connection = dialSocket(socketPath, { retry: false });
  try {
    const { status } = await connection.client(Health).check({ service }, { timeoutMs: 10_000 });
    assert.equal(status, ServingStatus.SERVING);
  } finally {
    connection.close();
  }
}

/** The client connection preface of HTTP/2. */
export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** HTTP/2 frame types. */
export const FRAME = { DATA: 0x0, HEADERS: 0x1, RST_STREAM: 0x3, SETTINGS: 0x4, PING: 0x6, GOAWAY: 0x7, CONTINUATION: 0x9 } as const;
/** HTTP/2 frame flags. */
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

/** One HTTP/2 frame. */
export function frame(type: number, flags: number, streamId: number, payload: Uint8Array = new Uint8Array()): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an n-bit prefix, the prefix's other bits set to first. */
function hpackInt(value: number, bits: number, first: number): Buffer {
  const max = (1 << bits) - 1;
  if (value < max) return Buffer.from([first | value]);
  const out = [first | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

/** An HPACK header block of literal fields without indexing (no Huffman). */
export function headerBlock(headers: [string, string][]): Buffer {
  return Buffer.concat(
    headers.flatMap(([name, value]) => [Buffer.from([0]), hpackInt(Buffer.byteLength(name), 7, 0), Buffer.from(name), hpackInt(Buffer.byteLength(value), 7, 0), Buffer.from(value)]),
  );
}

/** The request headers of a gRPC call to path. */
export function grpcRequest(path: string, extra: [string, string][] = []): Buffer {
  return headerBlock([
    [":method", "POST"],
    [":scheme", "http"],
    [":path", path],
    [":authority", "localhost"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
    ...extra,
  ]);
}

/** A gRPC message frame: flag, 4-byte length (which may lie), body. */
export function grpcMessage(body: Uint8Array, length = body.length, compressed = 0): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = compressed;
  prefix.writeUInt32BE(length, 1);
  return Buffer.concat([prefix, body]);
}

/** A raw connection to a unix socket that drains what it receives, so the server is never blocked writing to it. */
export class RawConnection {
  /** Every connection not closed yet, so that a test that failed midway can close them all. */
  static readonly open = new Set<RawConnection>();

  /** Destroys every open connection. */
  static destroyAll(): void {
    for (const connection of RawConnection.open) connection.destroy();
  }

  /**
   * Opens a connection and waits until it is connected. When the socket's
   * listen backlog is full (the server accepts slower than a test connects,
   * on a loaded machine) the kernel answers EAGAIN: this waits and tries
   * again, as a gRPC client does, so that each connection a test counts
   * reached the server. Another error leaves the connection failed, with
   * its errorCode.
   */
  static async connect(socketPath: string): Promise<RawConnection> {
    for (let attempt = 1; ; attempt++) {
      const connection = new RawConnection(socketPath);
      try {
        await connection.ready();
        return connection;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN" || attempt === 100) return connection;
        connection.destroy();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  readonly socket: Socket;
  /** Bytes received so far. */
  received = 0;
  /** The first bytes received (up to 64 KiB), for a test that reads the server's frames. */
  head = Buffer.alloc(0);
  /** Resolves when the server closed the connection (or it failed). */
  readonly closed: Promise<void>;
  /** The code of the error the socket failed with (EPIPE, ECONNRESET, ...), if it did. */
  errorCode: string | undefined;

  constructor(socketPath: string) {
    this.socket = connect(socketPath);
    this.socket.on("error", (error: NodeJS.ErrnoException) => {
      this.errorCode ??= error.code ?? error.message;
    });
    this.socket.on("data", (chunk: Buffer) => {
      this.received += chunk.length;
      if (this.head.length < 65536) this.head = Buffer.concat([this.head, chunk]);
    });
    RawConnection.open.add(this);
    this.closed = new Promise((resolve) =>
      this.socket.once("close", () => {
        RawConnection.open.delete(this);
        resolve();
      }),
    );
  }

  /** Resolves once connected. */
  async ready(): Promise<void> {
    if (!this.socket.connecting) return;
    await new Promise<void>((resolve, reject) => {
      this.socket.once("connect", resolve);
      this.socket.once("error", reject);
    });
  }

  /** Writes bytes; resolves when the kernel took them (or the socket is gone). */
  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(bytes, () => resolve());
    });
  }

  /**
   * Sends the preface and an empty SETTINGS, acknowledging the server's, and
   * then in the same write whatever frames follow (so the server reads them
   * together: no keepalive PING can come between).
   */
  async handshake(...frames: Buffer[]): Promise<void> {
    await this.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0), frame(FRAME.SETTINGS, FLAG.ACK, 0), ...frames]));
  }

  /** The GOAWAY frames received among the first bytes: error code and debug text. */
  goaways(): { code: number; debug: string }[] {
    const found: { code: number; debug: string }[] = [];
    let at = this.head[0] === 0x50 ? PREFACE.length : 0;
    while (at + 9 <= this.head.length) {
      const length = this.head.readUIntBE(at, 3);
      if (this.head[at + 3] === FRAME.GOAWAY && at + 9 + length <= this.head.length) {
        found.push({ code: this.head.readUInt32BE(at + 13), debug: this.head.subarray(at + 17, at + 9 + length).toString() });
      }
      at += 9 + length;
    }
    return found;
  }

  /** Closes from this side. */
  destroy(): void {
    this.socket.destroy();
  }
}
