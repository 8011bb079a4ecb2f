/**
 * The unix socket file a component serves on: its directory and mode, a
 * stale file from a dead process replaced, a live one refused.
 */
import { chmod, lstat, mkdir, stat, unlink } from "node:fs/promises";
import { connect } from "node:net";
import type { Server } from "node:net";
import { dirname } from "node:path";
import { isMainThread } from "node:worker_threads";

/** The longest path a unix socket can have on Linux (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** What is at a socket path: nothing, a socket no process listens on, or a live server. */
export type SocketProbe = "absent" | "stale" | "live";

/** Tells whether something listens on the unix socket at path. */
export async function probeSocket(path: string): Promise<SocketProbe> {
  try {
    await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "absent";
    throw error;
  }
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve("live");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      socket.destroy();
      if (error.code === "ECONNREFUSED") resolve("stale");
      // Removed between the lstat and the connect (a restarting server replacing it).
      else if (error.code === "ENOENT") resolve("absent");
      else reject(error);
    });
  });
}

/**
 * Makes path ready to listen on: creates its directory with directoryMode
 * when missing, removes a stale socket file, and refuses a live socket or
 * any file that is not a socket. Throws an Error that names the path.
 */
export async function prepareSocketPath(path: string, directoryMode: number | null): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes, the unix socket limit`);
  }
  await mkdir(dirname(path), { recursive: true, ...(directoryMode === null ? {} : { mode: directoryMode }) });
  const existing = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (existing === undefined) return;
  if (!existing.isSocket()) {
    throw new Error(`${path} exists and is not a socket; not replacing it`);
  }
  const probe = await probeSocket(path);
  if (probe === "live") {
    throw new Error(`socket ${path} is in use: another process is serving on it`);
  }
  if (probe === "stale") await unlink(path);
}

/**
 * Starts server listening on socketPath, the socket file created with
 * socketMode: listen() binds at once, under a umask that leaves no more than
 * socketMode, so there is no moment when the file is more open (the chmod
 * after it, in secureSocketFile, makes the mode exact). The umask is the
 * process's: a file another thread creates during those microseconds gets
 * a mode no more open than socketMode either. A worker thread may not
 * change the umask: there only the chmod applies. Rejects with the listen
 * error.
 */
export function listenOnSocket(server: Server, socketPath: string, socketMode: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const previous = isMainThread ? process.umask(0o777 & ~socketMode) : undefined;
    try {
      server.listen(socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    } finally {
      if (previous !== undefined) process.umask(previous);
    }
  });
}

/** Gives the socket file its mode once the server listens; warns of a directory more open than asked. */
export async function secureSocketFile(
  path: string,
  socketMode: number,
  directoryMode: number | null,
  warn: (message: string) => void,
): Promise<void> {
  await chmod(path, socketMode);
  if (directoryMode === null) return;
  const mode = (await stat(dirname(path))).mode & 0o777;
  if ((mode & ~directoryMode) !== 0) {
    warn(`socket directory ${dirname(path)} has mode ${mode.toString(8)}, more open than ${directoryMode.toString(8)}`);
  }
}

/** Which file a socket path names: its device and inode. */
export interface SocketIdentity {
  dev: number;
  ino: number;
}

/** The identity of the socket file at path, right after this process bound it. */
export async function socketIdentity(path: string): Promise<SocketIdentity> {
  const { dev, ino } = await lstat(path);
  return { dev, ino };
}

/**
 * Removes the socket file if it is still the one this process bound
 * (identity): while a server drains, a process that replaced it may already
 * listen on a new file at the same path, which must stay.
 */
export async function removeSocketFile(path: string, identity?: SocketIdentity): Promise<void> {
  if (identity !== undefined) {
    const current = await lstat(path).catch(() => undefined);
    if (current === undefined || current.dev !== identity.dev || current.ino !== identity.ino) return;
  }
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}
