/**
 * The pipe from init ($MOBY_INIT_PIPE_FD): a component learns through it
 * that the init that started it is gone, killed with SIGKILL included, as
 * the kernel closes init's end of it when init ends.
 */
import { Socket } from "node:net";
import { ENV_INIT_PIPE_FD } from "./env.js";

/** A watch on init's pipe. */
export interface InitPipe {
  /** The file descriptor watched. */
  readonly fd: number;
  /** Calls onGone once init's end has closed (at once if it has already); only the first call counts. */
  onGone(onGone: (reason: string) => void): void;
  /** Stops watching and closes this process's end. */
  close(): void;
}

/**
 * Opens the pipe named by $MOBY_INIT_PIPE_FD, or returns undefined when the
 * variable is unset or empty (a component not started by init). Removes the
 * variable from process.env, so that a process the component starts does
 * not take the pipe for its own; the descriptor itself is not inherited
 * (node opens it close-on-exec). Throws an Error naming the variable when it
 * is not a descriptor number or the descriptor is not an open pipe or socket.
 */
export function openInitPipe(env: NodeJS.ProcessEnv = process.env): InitPipe | undefined {
  const raw = env[ENV_INIT_PIPE_FD];
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 3) {
    throw new Error(`$${ENV_INIT_PIPE_FD}: ${JSON.stringify(raw)} is not a file descriptor number of 3 or more (0-2 are stdio)`);
  }
  const fd = Number(raw);
  let socket: Socket;
  try {
    socket = new Socket({ fd, readable: true, writable: false });
  } catch (error) {
    throw new Error(`$${ENV_INIT_PIPE_FD}: file descriptor ${fd} is not an open pipe or socket from init (${(error as Error).message})`);
  }
  delete env[ENV_INIT_PIPE_FD];
  // The watch must not keep the process alive on its own.
  socket.unref();
  let gone: string | undefined;
  let listener: ((reason: string) => void) | undefined;
  let closed = false;
  const end = (reason: string) => {
    if (gone !== undefined || closed) return;
    gone = reason;
    listener?.(reason);
  };
  // init never writes: anything read is dropped, and the stream flows so that end-of-file is seen.
  socket.on("data", () => {});
  socket.once("end", () => end("its pipe reached end-of-file"));
  socket.once("error", (error: NodeJS.ErrnoException) => end(`reading its pipe failed: ${error.code ?? error.message}`));
  socket.once("close", () => end("its pipe closed"));
  return {
    fd,
    onGone(onGone) {
      if (listener !== undefined) return;
      listener = onGone;
      if (gone !== undefined) onGone(gone);
    },
    close() {
      closed = true;
      socket.destroy();
    },
  };
}
