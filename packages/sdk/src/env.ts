/**
 * The environment init gives every component it starts, in the manner of
 * CSI's CSI_ENDPOINT: the component's own name and socket, the registry's
 * socket, and one variable per component it requires.
 */
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The component's name in the manifest, for example "container-store". */
export const ENV_COMPONENT_NAME = "MOBY_COMPONENT_NAME";

/** The absolute path of the unix socket the component must serve on. */
export const ENV_SOCKET = "MOBY_SOCKET";

/** The run directory of the assembly (sockets, state, logs). */
export const ENV_RUN_DIR = "MOBY_RUN_DIR";

/** The socket of the registry (moby.registry.v1), served by init. */
export const ENV_REGISTRY_ENDPOINT = "MOBY_REGISTRY_ENDPOINT";

/** The component's configuration from the manifest, as a JSON object. */
export const ENV_COMPONENT_CONFIG = "MOBY_COMPONENT_CONFIG";

/** The log level: trace, debug, info, warn, error or fatal. Default info. */
export const ENV_LOG_LEVEL = "MOBY_LOG_LEVEL";

/**
 * The variable that holds the socket of a required component:
 * `MOBY_ENDPOINT_` and the name in upper case with "-" as "_", for example
 * MOBY_ENDPOINT_CONTAINER_STORE for "container-store".
 */
export function endpointVariable(component: string): string {
  return `MOBY_ENDPOINT_${component.toUpperCase().replace(/-/g, "_")}`;
}

/**
 * The run directory of the assembly, by the rule init and the moby CLI share:
 * $MOBY_RUN_DIR; else /run/moby for root; else $XDG_RUNTIME_DIR/moby; else
 * moby-<uid> in the system's temporary directory.
 */
export function defaultRunDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env[ENV_RUN_DIR];
  if (explicit !== undefined && explicit !== "") return resolve(explicit);
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return "/run/moby";
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg !== undefined && xdg !== "") return join(xdg, "moby");
  return join(tmpdir(), `moby-${uid}`);
}

/** The socket init serves its APIs (supervisor, registry) on, in a run directory. */
export function initSocket(runDir: string): string {
  return join(runDir, "init.sock");
}

/**
 * The file descriptor of the pipe init passes every component it starts
 * (for example "3"): init never writes to it, and its end closes when init
 * ends, however it ends, so the component reads end-of-file once its init is
 * gone. serveComponent watches it and shuts the component down then.
 */
export const ENV_INIT_PIPE_FD = "MOBY_INIT_PIPE_FD";
