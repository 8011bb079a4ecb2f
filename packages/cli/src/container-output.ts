/**
 * A container process's kept output (ReadLogs) written where it belongs:
 * what the process wrote to stdout to the CLI's stdout, what it wrote to
 * stderr to the CLI's stderr, byte for byte, in the order the runtime read
 * it.
 */
import { LogStream } from "@moby-core/container-runtime-api/v1";
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

/** Which output to read and how. */
export interface ReadOutputOptions {
  containerId: string;
  /** An exec process's id; undefined for the task's init process. */
  execId?: string;
  /** Keep reading until the process has exited and its output is drained. */
  follow: boolean;
  /** Only the last tail lines of the kept output first; undefined for all. */
  tail?: number;
  /** Ends the stream quietly when aborted (Ctrl-C). */
  stop?: AbortSignal;
}

/**
 * Streams the output of a task's init process, or of one exec process, to
 * output until the stream ends (the kept output sent; with follow, the
 * process exited and drained) or stop aborts, which ends it quietly.
 */
export async function copyOutput(runtime: RuntimeClient, options: ReadOutputOptions, output: Output = processOutput): Promise<void> {
  try {
    const stream = runtime.readLogs(
      {
        containerId: options.containerId,
        execId: options.execId ?? "",
        follow: options.follow,
        ...(options.tail === undefined ? {} : { tailLines: options.tail }),
      },
      options.stop === undefined ? {} : { signal: options.stop },
    );
    for await (const chunk of stream) {
      if (chunk.stream === LogStream.STDERR) output.stderr(chunk.data);
      else output.stdout(chunk.data);
    }
  } catch (error) {
    if (options.stop?.aborted === true) return;
    throw error;
  }
}
