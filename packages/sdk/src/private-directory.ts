/**
 * A directory only its owner may use (0700): a run directory of sockets, a
 * component's state directory. One that is missing is created with exactly
 * that mode; one that exists more open, or owned by another user, is an
 * error, never a warning, as other users could reach what is in it.
 */
import { chmodSync, lstatSync, mkdirSync, statSync } from "node:fs";

/** The mode of run and state directories: read, write and search for the owner only. */
export const PRIVATE_DIRECTORY_MODE = 0o700;

/**
 * Makes sure path is a directory of this process's user with no access for
 * group or others: creates it (and missing parents) with mode 0700 when
 * missing, setting the mode exactly whatever the umask; throws an Error that
 * names the directory, what is wrong and how to fix it when it exists more
 * open than 0700, is owned by another user, or is not a directory. what
 * names the directory in the message, for example "run directory".
 */
export function ensurePrivateDirectory(path: string, what = "directory"): void {
  const existing = lstatSync(path, { throwIfNoEntry: false });
  if (existing === undefined) {
    mkdirSync(path, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    chmodSync(path, PRIVATE_DIRECTORY_MODE);
    return;
  }
  // A symbolic link to a directory is fine: its target is checked.
  const target = existing.isSymbolicLink() ? statSync(path) : existing;
  if (!target.isDirectory()) throw new Error(`${what} ${path} exists and is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && target.uid !== uid) {
    throw new Error(`${what} ${path} is owned by uid ${target.uid}, not by this process's uid ${uid}: use a directory of your own, or chown it`);
  }
  const mode = target.mode & 0o777;
  if ((mode & ~PRIVATE_DIRECTORY_MODE) !== 0) {
    throw new Error(
      `${what} ${path} has mode ${mode.toString(8).padStart(4, "0")}, more open than 0700: other users could reach its sockets and state; run chmod 700 ${path}`,
    );
  }
}
