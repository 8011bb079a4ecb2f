/**
 * Attaching to a container process over the runtime's Attach stream, as
 * `docker run -it`, `docker exec -it` and `docker attach` do: the process's
 * output to moby's stdout and stderr, moby's stdin to the process (when its
 * stdin is open), the terminal's size to the process's terminal, and then
 * its exit code.
 *
 * On a terminal, moby puts its own terminal in raw mode while attached, so
 * every key (Ctrl-C, Ctrl-D included) reaches the process's terminal
 * as a byte, and restores it however moby ends. Ctrl-P Ctrl-Q detaches and
 * leaves the process running (docker's default detach keys). Without a
 * terminal, the end of moby's stdin closes the process's stdin, and Ctrl-C
 * (SIGINT) or SIGTERM is passed on as in attach.ts.
 */
import { create } from "@bufbuild/protobuf";
import { AttachRequestSchema, AttachStartSchema, TerminalSizeSchema } from "@moby-core/container-runtime-api/v1";
import type { AttachRequest, AttachResponse } from "@moby-core/container-runtime-api/v1";
import { LogStream } from "@moby-core/types-api/v1";
import { exitCodeOf } from "./attach.js";
import type { Interrupts, Target } from "./attach.js";
import { SIGKILL, SIGTERM } from "./container-args.js";
import type { ContainerServices } from "./container-client.js";
import type { AttachedOutput } from "./container-output.js";
import { CliError } from "./init-client.js";

/** The largest input chunk one request carries (the runtime's limit). */
const MAX_STDIN_CHUNK = 65536;
/** Ctrl-P and Ctrl-Q: docker's detach keys. */
const CTRL_P = 0x10;
const CTRL_Q = 0x11;

/** How to attach. */
export interface InteractiveOptions {
  /** Send moby's stdin to the process (when its stdin is open). */
  stdin: boolean;
  /** Send the kept output first (for a process started after attaching). */
  logs: boolean;
  /** Runs once the runtime has joined the process, before any output (run: starts the task here). */
  onReady?: () => Promise<void>;
}

/** What the terminal moby runs on offers; process.stdin and process.stdout by default. */
export interface Terminal {
  /** moby's stdin. */
  input: NodeJS.ReadStream;
  /** moby's stdout, for its size. */
  output: NodeJS.WriteStream;
}

/** The requests of one Attach call, sent as they are pushed. */
class RequestQueue {
  private readonly queue: AttachRequest[] = [];
  private wake: (() => void) | undefined;
  private ended = false;

  /** Queues a request. */
  push(request: AttachRequest["request"]): void {
    if (this.ended) return;
    this.queue.push(create(AttachRequestSchema, { request }));
    this.wake?.();
  }

  /** Ends the request side (detaching input; the process's stdin stays open). */
  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /** The requests, for the call. */
  async *requests(): AsyncGenerator<AttachRequest> {
    for (;;) {
      while (this.queue.length > 0) yield this.queue.shift()!;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

/**
 * A CliError for -i with -t when moby's stdin is not a terminal (docker's
 * "the input device is not a TTY"): raw mode and Ctrl-P Ctrl-Q need one.
 * -t alone, or -i alone, works with any stdin.
 */
export function checkTerminal(options: { interactive?: boolean; tty?: boolean }, input: { isTTY?: boolean } = process.stdin): void {
  if (options.interactive === true && options.tty === true && input.isTTY !== true) {
    throw new CliError("the input device is not a TTY: drop -t to pipe input (moby run -i), or run moby from a terminal");
  }
}

/** Splits data into chunks of at most the runtime's stdin limit. */
function chunks(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += MAX_STDIN_CHUNK) out.push(data.subarray(offset, offset + MAX_STDIN_CHUNK));
  return out;
}

/**
 * Attaches to target until its output ends, then returns its exit code;
 * or returns undefined when the user detached (Ctrl-P Ctrl-Q) and the
 * process keeps running.
 */
export async function attachInteractive(
  services: ContainerServices,
  target: Target,
  options: InteractiveOptions,
  interrupts: Interrupts,
  output: AttachedOutput,
  terminal: Terminal = { input: process.stdin, output: process.stdout },
): Promise<number | undefined> {
  const runtime = await services.runtime();
  const waits = await services.runtimeWaits();
  const containerId = target.containerId;
  const execId = target.execId ?? "";
  const queue = new RequestQueue();
  queue.push({ case: "start", value: create(AttachStartSchema, { containerId, execId, stdin: options.stdin, logs: options.logs }) });
  const abort = new AbortController();
  const responses = runtime.attach(queue.requests(), { signal: abort.signal })[Symbol.asyncIterator]();
  const cleanups: (() => void)[] = [];
  let detached = false;
  try {
    const first = await responses.next();
    if (first.done || first.value.response.case !== "ready") throw new Error("the runtime did not answer Attach with AttachReady");
    const ready = first.value.response.value;
    const { input } = terminal;
    const raw = ready.terminal && options.stdin && ready.stdin && input.isTTY === true;
    if (raw) {
      input.setRawMode(true);
      const restore = () => input.setRawMode(false);
      process.once("exit", restore);
      cleanups.push(() => {
        restore();
        process.off("exit", restore);
      });
    }
    if (ready.terminal && terminal.output.isTTY === true) {
      const resize = () => {
        const { rows, columns } = terminal.output;
        if (rows > 0 && columns > 0) queue.push({ case: "resize", value: create(TerminalSizeSchema, { rows, columns }) });
      };
      resize();
      terminal.output.on("resize", resize);
      cleanups.push(() => terminal.output.off("resize", resize));
    }
    // Signals to moby: passed on as SIGTERM, then SIGKILL (with a terminal in
    // raw mode, Ctrl-C is a byte to the process instead).
    const signal = (number: number) => void runtime.killTask({ containerId, execId, signal: number }).catch(() => undefined);
    interrupts.forwardTo((count) => signal(count === 1 ? SIGTERM : SIGKILL));
    if (options.stdin && ready.stdin) {
      let heldCtrlP = false;
      const onData = (data: Buffer) => {
        let bytes = data;
        if (raw) {
          // Ctrl-P Ctrl-Q detaches; a Ctrl-P followed by anything else is sent.
          const kept: number[] = heldCtrlP ? [CTRL_P] : [];
          heldCtrlP = false;
          for (const byte of data) {
            if (kept.at(-1) === CTRL_P && byte === CTRL_Q) {
              detached = true;
              abort.abort();
              return;
            }
            kept.push(byte);
          }
          if (kept.at(-1) === CTRL_P) {
            kept.pop();
            heldCtrlP = true;
          }
          bytes = Buffer.from(kept);
        }
        for (const chunk of chunks(bytes)) queue.push({ case: "stdin", value: chunk });
      };
      const onEnd = () => {
        if (!ready.terminal) queue.push({ case: "closeStdin", value: true });
        queue.end();
      };
      input.on("data", onData);
      input.once("end", onEnd);
      input.resume();
      cleanups.push(() => {
        input.off("data", onData);
        input.off("end", onEnd);
        input.pause();
      });
    } else {
      queue.end();
    }
    if (options.onReady !== undefined) await options.onReady();
    for (let next = await responses.next(); !next.done; next = await responses.next()) {
      writeOutput(next.value, output);
    }
  } catch (error) {
    if (!detached) throw error;
  } finally {
    for (const cleanup of cleanups.reverse()) cleanup();
    queue.end();
  }
  if (detached) return undefined;
  const { exitStatus } = await waits.waitTask({ containerId, execId });
  return exitCodeOf(exitStatus);
}

function writeOutput(response: AttachResponse, output: AttachedOutput): void {
  if (response.response.case !== "output") return;
  const { stream, data } = response.response.value;
  if (stream === LogStream.STDERR) output.stderr(data);
  else output.stdout(data);
}
