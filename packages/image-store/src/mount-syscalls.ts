/**
 * mount(2) and umount2(2) called in-process, through koffi (a C FFI that
 * ships prebuilt binaries), instead of spawning `mount` and `umount`: a
 * spawn costs tens of ms on a busy machine, the syscall a few. Each call
 * runs on a worker thread (koffi's async calls), so an unmount that waits
 * for the kernel (an RCU grace period can take 100 ms) does not stall the
 * event loop. Where the C library cannot be loaded (not Linux, no glibc),
 * `mountSyscalls()` answers undefined and the caller spawns the commands.
 */
import { errno, load, os } from "koffi";
/** A C function as koffi binds it. */
type KoffiFunction = ReturnType<ReturnType<typeof load>["func"]>;

/** umount2 flag: detach now, finish when the mount is no longer busy (`umount -l`). */
export const MNT_DETACH = 2;

/** A failed mount(2) or umount2(2): the errno's name and text in the message. */
export class MountSyscallError extends Error {
  constructor(
    message: string,
    /** The errno name, e.g. "EBUSY". */
    readonly code: string,
  ) {
    super(message);
    this.name = "MountSyscallError";
  }
}

/** The two syscalls, each resolving when the kernel answered 0. */
export interface MountSyscalls {
  /** mount(2): source of type fstype at target with flags and the filesystem's options (data). */
  mount(source: string, target: string, fstype: string, flags: number, data: string): Promise<void>;
  /** umount2(2): target with flags (0 or MNT_DETACH). */
  unmount(target: string, flags: number): Promise<void>;
}

let loaded: MountSyscalls | null | undefined;

/** The errno's name (EINVAL) and text (Invalid argument). */
function describe(code: number, strerror: KoffiFunction): { name: string; text: string } {
  const name = Object.entries(os.errno).find(([, value]) => value === code)?.[0] ?? `errno ${code}`;
  return { name, text: String(strerror(code)) };
}

/** Calls fn on a worker thread; resolves with its int result and the errno it left. */
function callAsync(fn: KoffiFunction, args: unknown[]): Promise<{ result: number; code: number }> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (error: unknown, result: number) => {
      if (error) reject(error instanceof Error ? error : new Error(String(error)));
      else resolve({ result, code: result === 0 ? 0 : errno() });
    });
  });
}

/** The in-process syscalls, or undefined where the C library cannot be loaded. */
export function mountSyscalls(): MountSyscalls | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  if (process.platform !== "linux") {
    loaded = null;
    return undefined;
  }
  try {
    const libc = load("libc.so.6");
    const mountFn = libc.func("int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)");
    const umountFn = libc.func("int umount2(const char *target, int flags)");
    const strerror = libc.func("const char *strerror(int errnum)");
    loaded = {
      async mount(source, target, fstype, flags, data) {
        const { result, code } = await callAsync(mountFn, [source, target, fstype, flags, data]);
        if (result === 0) return;
        const { name, text } = describe(code, strerror);
        throw new MountSyscallError(`mount of ${fstype} at ${target}: ${name} (${text})`, name);
      },
      async unmount(target, flags) {
        const { result, code } = await callAsync(umountFn, [target, flags]);
        if (result === 0) return;
        const { name, text } = describe(code, strerror);
        throw new MountSyscallError(`unmount of ${target}: ${name} (${text})`, name);
      },
    };
  } catch {
    loaded = null;
  }
  return loaded ?? undefined;
}
