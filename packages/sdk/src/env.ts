/**
 * The environment init gives every component it starts, in the manner of
 * CSI's CSI_ENDPOINT: the component's own name and socket, the registry's
 * socket, and one variable per component it requires.
 */

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
