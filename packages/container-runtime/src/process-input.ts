/**
 * The input side of a process's shim (shim-script.ts): the FIFO "stdin"
 * whose bytes the shim passes to the process's stdin or terminal, and the
 * FIFO "control" that takes one line per command ("resize ROWS COLS",
 * "close-stdin"). The shim holds both open for reading while the process
 * runs; opening one for writing fails with ENXIO once it no longer does.
 */
import { closeSync, constants, openSync, writeSync } from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";

function openWriter(path: string): number | undefined {
  try {
    return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENXIO: no reader (the shim closed it, or is gone); ENOENT: no such FIFO.
    if (code === "ENXIO" || code === "ENOENT") return undefined;
    throw error;
  }
}

/** A writer of one process's stdin FIFO. */
export class ProcessInput {
  private last: Promise<void> = Promise.resolve();

  private constructor(private readonly socket: Socket) {
    // A write after the shim went fails its own promise; nothing else to report.
    socket.on("error", () => {});
  }

  /** Opens the stdin FIFO of the process in dir; undefined when its stdin is not open (never was, closed, or the process has exited). */
  static open(dir: string): ProcessInput | undefined {
    const fd = openWriter(join(dir, "stdin"));
    return fd === undefined ? undefined : new ProcessInput(new Socket({ fd, readable: false, writable: true }));
  }

  /**
   * Sends one control line to the shim of the process in dir; false when
   * no shim reads it (the process has exited). A line is at most a few
   * dozen bytes, so the write is atomic and never interleaves with another
   * writer's.
   */
  static control(dir: string, line: string): boolean {
    const fd = openWriter(join(dir, "control"));
    if (fd === undefined) return false;
    try {
      writeSync(fd, `${line}\n`);
      return true;
    } catch {
      // EAGAIN (a full FIFO: the shim is not reading) or EPIPE (it just went).
      return false;
    }
    finally {
      closeSync(fd);
    }
  }

  /** Writes data; resolves once it is in the FIFO (the shim may hold back, which is backpressure). Rejects when the shim is gone. */
  write(data: Uint8Array): Promise<void> {
    this.last = new Promise<void>((resolve, reject) => {
      this.socket.write(data, (error) => (error ? reject(error) : resolve()));
    });
    return this.last;
  }

  /** Resolves once every write so far is in the FIFO. */
  async flush(): Promise<void> {
    await this.last.catch(() => undefined);
  }

  /** Closes the writer after what is written (the shim keeps the FIFO, and the process's stdin, open). */
  close(): void {
    if (!this.socket.destroyed) this.socket.end();
  }
}
