/**
 * A container process's kept output (ReadLogs) written where it belongs:
 * what the process wrote to stdout to the CLI's stdout, what it wrote to
 * stderr to the CLI's stderr, byte for byte, in the order the runtime read
 * it.
 */
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { LogStream } from "@moby-core/types-api/v1";
import type { RuntimeClient } from "./container-client.js";

/** Where a container's output goes. */
export interface Output {
  stdout(data: Uint8Array): void;
  stderr(data: Uint8Array): void;
}

/** The process's standard output and error. */
export const processOutput: Output = {
  stdout: (data) => void process.stdout.write(data),
  stderr: (data) => void process.stderr.write(data),
};

/** What the attached command that runs now does when stdout's reader has gone; see stdoutReaderGone. */
let takeOver: (() => void) | undefined;

/**
 * Called by main.ts when a write to stdout failed with EPIPE (its reader
 * has gone, as in `moby run ... | head -1`): true when an attached command
 * (run, exec) runs and carries on without stdout, false when moby should
 * end.
 */
export function stdoutReaderGone(): boolean {
  if (takeOver === undefined) return false;
  takeOver();
  return true;
}

/**
 * The output of a process moby attaches to (run, exec), to output. While it
 * is in use (until dispose), moby does not end when its stdout's reader
 * goes away: from then on the process's stdout is dropped, its stderr still
 * written, and the listener given to whenStdoutGone called, once.
 */
export class AttachedOutput implements Output {
  private gone = false;
  private listener: (() => void) | undefined;
  private readonly take = () => this.stdoutGone();

  constructor(private readonly output: Output = processOutput) {
    takeOver = this.take;
  }

  /** Writes the process's stdout, unless its reader has gone. */
  stdout(data: Uint8Array): void {
    if (!this.gone) this.output.stdout(data);
  }

  /** Writes the process's stderr. */
  stderr(data: Uint8Array): void {
    this.output.stderr(data);
  }

  /** Calls listener once stdout's reader has gone; at once if it has already. */
  whenStdoutGone(listener: () => void): void {
    this.listener = listener;
    if (this.gone) listener();
  }

  /** Stdout's reader has gone: drop the process's stdout from now on and tell the listener. */
  stdoutGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.listener?.();
  }

  /** Gives the handling of a gone stdout back to main.ts. */
  dispose(): void {
    this.listener = undefined;
    if (takeOver === this.take) takeOver = undefined;
  }
}

/** Which output to read and how. */
export interface ReadOutputOptions {
  containerId: string;
  /** An exec process's id; undefined for the task's init process. */
  execId?: string;
  /** Keep reading until the process has exited and its output is drained. */
  follow: boolean;
  /** Only the last tail lines of the kept output first; undefined for all. */
  tail?: number;
  /** Only output the runtime read at or after this time. */
  since?: Date;
  /** Only output the runtime read at or before this time: the stream ends at the first chunk after it. */
  until?: Date;
  /** Ends the stream quietly when aborted (Ctrl-C). */
  stop?: AbortSignal;
}

/**
 * Streams the output of a task's init process, or of one exec process, to
 * output until the stream ends (the kept output sent; with follow, the
 * process exited and drained), a chunk comes after until, or stop aborts,
 * which ends it quietly.
 */
export async function copyOutput(runtime: RuntimeClient, options: ReadOutputOptions, output: Output = processOutput): Promise<void> {
  try {
    const stream = runtime.readLogs(
      {
        containerId: options.containerId,
        execId: options.execId ?? "",
        follow: options.follow,
        ...(options.tail === undefined ? {} : { tailLines: options.tail }),
        ...(options.since === undefined ? {} : { since: timestampFromDate(options.since) }),
      },
      options.stop === undefined ? {} : { signal: options.stop },
    );
    for await (const chunk of stream) {
      // Leaving the loop cancels the call: nothing after until is read.
      if (options.until !== undefined && chunk.timestamp !== undefined && timestampDate(chunk.timestamp) > options.until) break;
      if (chunk.stream === LogStream.STDERR) output.stderr(chunk.data);
      else output.stdout(chunk.data);
    }
  } catch (error) {
    if (options.stop?.aborted === true) return;
    throw error;
  }
}
