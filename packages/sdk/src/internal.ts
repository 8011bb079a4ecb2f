/**
 * @moby-core/sdk/internal: what the assembly's own init, CLI and reference
 * components share with the SDK: the variables init sets and where its
 * socket is, the errno rule for a socket nothing listens on, the API
 * version rule of the registry, the supervisor's limits, a socket probe.
 * NOT covered by semver: it changes with init and the CLI, in any release.
 */
export {
  ENV_COMPONENT_CONFIG,
  ENV_COMPONENT_NAME,
  ENV_INIT_PIPE_FD,
  ENV_REGISTRY_ENDPOINT,
  ENV_RUN_DIR,
  ENV_SOCKET,
  defaultRunDir,
  endpointVariable,
  initSocket,
} from "./env.js";
export { NOT_ALLOWED, NOT_LISTENING, errnoOf, errorCodes, notListeningErrno } from "./errno.js";
export { MAX_STOP_TIMEOUT_MS } from "./limits.js";
export { apiVersionOf } from "./component-service.js";
export { resolveConnectionLimits } from "./connection-guard.js";
export { probeSocket } from "./socket-file.js";
export type { SocketProbe } from "./socket-file.js";
export { packageVersion } from "./component.js";
