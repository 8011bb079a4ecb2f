// The public surface of @moby-core/sdk: serve a component, dial components.
export { serveComponent, serviceOf } from "./serve-component.js";
export type { ComponentServer, ServeComponentOptions, ServiceRegistration } from "./serve-component.js";
export { DEFAULT_MAX_MESSAGE_BYTES } from "./limits.js";
export { Connection, dialSocket, DEFAULT_HEALTHY_TIMEOUT_MS } from "./connection.js";
export { mapCallErrors } from "./map-call-errors.js";
export type { DialOptions } from "./connection.js";
export { DEFAULT_COMPRESS_MIN_BYTES } from "./grpc/compression.js";
export type { CompressionOptions } from "./grpc/compression.js";
export { dialComponent, dialService, resolveComponent, resolveService } from "./resolve.js";
export type { ResolveOptions } from "./resolve.js";
export { DEFAULT_RETRY, DEFAULT_UNARY_TIMEOUT_MS, isIdempotent } from "./call-policy-transport.js";
export type { RetryPolicy } from "./call-policy-transport.js";
export {
  DEFAULT_CONNECTION_LIMITS,
  ENV_HANDSHAKE_TIMEOUT,
  ENV_IDLE_TIMEOUT,
  ENV_KEEPALIVE_INTERVAL,
  ENV_KEEPALIVE_TIMEOUT,
  ENV_MAX_CONNECTIONS,
  resolveConnectionLimits,
} from "./connection-guard.js";
export type { ConnectionLimits } from "./connection-guard.js";
export { HealthStatusBoard, OVERALL, ServingStatus } from "./health.js";
export { CAPABILITY_RELOAD, apiVersionOf } from "./component-service.js";
export type { ReloadHandler } from "./component-service.js";
export {
  AlreadyExistsError,
  ComponentError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  OutOfRangeError,
  ResourceExhaustedError,
  RevisionConflictError,
  UnavailableError,
  toConnectError,
} from "./errors.js";
export { createComponentLogger } from "./logger.js";
export type { Logger } from "./logger.js";
export { probeSocket } from "./socket-file.js";
export { PRIVATE_DIRECTORY_MODE, ensurePrivateDirectory } from "./private-directory.js";
export { subscriptionStream } from "./subscription-stream.js";
export { EventPublisher } from "./event-publisher.js";
export type { EventPublisherOptions, EventsLocator, PublisherStats } from "./event-publisher.js";
export { MAX_FILTER_LENGTH, MAX_MATCH_INPUT_LENGTH, MAX_PATTERN_PROGRAM_SIZE, matchesFilter, parseFilter } from "./filter.js";
export { DURATION_EXAMPLES, formatDuration, isDuration, notADurationMessage, parseDuration } from "./duration.js";
export type { FieldReader, Filter, FilterFields, Pattern, Selector } from "./filter.js";
export { ID_PATTERN, MAX_ID_LENGTH, checkId, checkOptionalId, isId } from "./identifiers.js";
export { PageTokens, loadOrCreateKey } from "./page-token.js";
export type { SocketProbe } from "./socket-file.js";
export * from "./env.js";
export { Code, ConnectError } from "@connectrpc/connect";
