/**
 * @moby-core/sdk: the surface of component authors. Serve a component
 * (component API, health and reflection built in), dial components by
 * socket or by name, answer with canonical errors, log, publish events.
 * Helpers for list and get APIs are at "@moby-core/sdk/list"; what only the
 * assembly's own init and CLI use is at "@moby-core/sdk/internal" (not
 * covered by semver). Handlers, clients, errors and interceptors are
 * connect's API: Code and ConnectError are re-exported for that reason.
 */
export { defineComponent } from "./component.js";
export type { Component, ComponentContext, ComponentDeclaration, ComponentStart } from "./component.js";
export { serveComponent, serviceOf } from "./serve-component.js";
export type { ComponentServer, ServeComponentOptions, ServiceRegistration } from "./serve-component.js";
export { Connection, dialSocket } from "./connection.js";
export type { DialOptions } from "./connection.js";
export { dialComponent, dialService, resolveComponent, resolveService } from "./resolve.js";
export type { ResolveOptions } from "./resolve.js";
export { mapCallErrors } from "./map-call-errors.js";
// A backend (etcd, NATS) opened while the component serves: NOT_SERVING with the reason, and UNAVAILABLE calls, until it can be reached.
export { BackendOpening } from "./backend-opening.js";
export type { BackendOpeningOptions, BackendRetry } from "./backend-opening.js";
// The defaults the options document, to build on (for example { ...DEFAULT_RETRY, maxAttempts: 5 }).
export { DEFAULT_MAX_MESSAGE_BYTES } from "./limits.js";
export { DEFAULT_RETRY } from "./call-policy-transport.js";
export type { RetryPolicy } from "./call-policy-transport.js";
export { DEFAULT_CONNECTION_LIMITS } from "./connection-guard.js";
export type { ConnectionLimits } from "./connection-guard.js";
export type { CompressionOptions } from "./grpc/compression.js";
// Message-by-message compression for a call: a handler's in context.values, a client's in its call's contextValues.
export { MessageCompression, MESSAGE_COMPRESSION } from "./grpc/message-compression.js";
// ComponentServer.health, and the names of its statuses.
export { HealthStatusBoard, OVERALL, ServingStatus } from "./health.js";
// The capability GetInfo reports when a component has a reload handler, for clients to test.
export { CAPABILITY_METRICS, CAPABILITY_RELOAD } from "./component-service.js";
// A component's metrics: ComponentContext.metrics and ComponentServer.metrics; the metric types are prom-client's.
export { ComponentMetrics, PROMETHEUS_TEXT_CONTENT_TYPE } from "./metrics/component-metrics.js";
export type { ComponentMetricsIdentity } from "./metrics/component-metrics.js";
export { instrumentGroupCommit } from "./metrics/group-commit-metrics.js";
export type { Counter, Gauge, Histogram } from "prom-client";
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
export { ensurePrivateDirectory } from "./private-directory.js";
export { subscriptionStream } from "./subscription-stream.js";
export { EventPublisher } from "./event-publisher.js";
export { eventTopic } from "./event-topic.js";
export type { EventPublisherOptions, EventsLocator, PublisherStats } from "./event-publisher.js";
export { GroupCommit } from "./group-commit.js";
export type { CommitGroup, CommitOutcome } from "./group-commit.js";
export { Code, ConnectError } from "@connectrpc/connect";
