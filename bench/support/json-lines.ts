/**
 * A request/response channel of JSON lines with a child process: the parent
 * writes one request per line to the child's stdin, the child answers each
 * with one line on its stdout, in order. Client runners report this way, so
 * that they can be driven round by round without being restarted.
 */
import { createInterface } from "node:readline";
import { BenchChild } from "./child-process.js";
import type { StartOptions } from "./child-process.js";

/** A child's answer to one request. */
export type Reply<T> = { ok: true; result: T } | { ok: false; error: string };

/** The parent's side: a child that answers JSON requests with JSON lines. */
export class JsonLineChild {
  readonly child: BenchChild;
  private readonly waiting: ((line: string | undefined) => void)[] = [];
  private readonly lines: string[] = [];

  constructor(label: string, script: string, options: Omit<StartOptions, "ownStdout" | "stdin"> = {}) {
    this.child = BenchChild.node(label, script, { ...options, ownStdout: true, stdin: true });
    const reader = createInterface({ input: this.child.process.stdout! });
    reader.on("line", (line) => {
      const next = this.waiting.shift();
      if (next) next(line);
      else this.lines.push(line);
    });
    void this.child.exited.then(() => this.waiting.splice(0).forEach((resolve) => resolve(undefined)));
  }

  /** Sends request and resolves with the child's result; rejects with its error or when it exits. */
  async request<T>(request: unknown): Promise<T> {
    if (this.child.exit !== undefined) throw new Error(this.child.deadReason());
    this.child.process.stdin!.write(JSON.stringify(request) + "\n");
    const line = this.lines.shift() ?? (await new Promise<string | undefined>((resolve) => this.waiting.push(resolve)));
    if (line === undefined) throw new Error(this.child.deadReason() ?? `${this.child.label} closed its output`);
    const reply = JSON.parse(line) as Reply<T>;
    if (!reply.ok) throw new Error(`${this.child.label}: ${reply.error}`);
    return reply.result;
  }

  /** Closes the child's stdin (it exits when done) and waits, SIGTERM after graceMs. */
  async close(graceMs = 5_000): Promise<void> {
    this.child.process.stdin!.end();
    const timer = setTimeout(() => void this.child.stop("SIGTERM"), graceMs);
    await this.child.exited;
    clearTimeout(timer);
  }
}

/**
 * The child's side: answers each JSON line on stdin with handle's result as
 * one JSON line on stdout, one request at a time, until stdin ends.
 */
export async function answerJsonLines(handle: (request: unknown) => Promise<unknown>): Promise<void> {
  const reader = createInterface({ input: process.stdin });
  for await (const line of reader) {
    if (line.trim() === "") continue;
    let reply: Reply<unknown>;
    try {
      reply = { ok: true, result: await handle(JSON.parse(line)) };
    } catch (error) {
      reply = { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
  }
}
