/** A TCP port for a server a test starts on 127.0.0.1. */
import { createServer } from "node:net";

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago (the caller takes it at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
