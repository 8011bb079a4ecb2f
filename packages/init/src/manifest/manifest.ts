/**
 * The manifest: the static declaration of an assembly's components, read
 * once at boot (see parse-manifest.ts for the YAML format and its checks).
 */
import type { JsonObject } from "@bufbuild/protobuf";

/** What to do when a component's process ends: systemd's Restart=. */
export type RestartMode = "no" | "on-failure" | "always";

/** When a component is restarted, and how often it may be before it is marked failed. */
export interface RestartPolicy {
  /** no: never; on-failure: after a non-zero exit, a signal or failed health; always: after any exit. */
  mode: RestartMode;
  /** The delay before the first restart, doubled after each restart in a row (RestartSec=). */
  delayMs: number;
  /** The longest delay between restarts. */
  maxDelayMs: number;
  /** The most starts within startLimitIntervalMs before the component is marked failed (StartLimitBurst=). */
  startLimitBurst: number;
  /** The window startLimitBurst counts starts in (StartLimitIntervalSec=). */
  startLimitIntervalMs: number;
}

/** How a component's health is checked: Docker's HEALTHCHECK semantics, on grpc.health.v1. */
export interface HealthPolicy {
  /** The time between checks once the component is ready. */
  intervalMs: number;
  /** How long one check may take before it counts as failed. */
  timeoutMs: number;
  /** Consecutive failed checks that make the component unhealthy. */
  retries: number;
  /** After a start, failures do not count during this period (but a success makes the component ready). */
  startPeriodMs: number;
  /** The time between checks during the start period. */
  startIntervalMs: number;
}

/** A network a contained component may use. */
export type ContainerNetwork = "none" | "host";

/** An extra bind mount of a contained component, named in its manifest. */
export interface ContainerMount {
  /** The absolute host path. */
  source: string;
  /** The absolute path inside the container (default: source). */
  target: string;
  /** Read-only unless the manifest says readonly: false. */
  readonly: boolean;
}

/**
 * How a contained component runs: in a container of its own, started by
 * init with runc from an image, seeing only its state directory, its socket,
 * the sockets of what it requires and the mounts named here.
 */
export interface ContainerSpec {
  /** The absolute directory of the OCI image layout holding its image. */
  image: string;
  /** The image's reference name in the layout, or "" for the layout's only image. */
  ref: string;
  /** "none": a network namespace of its own with no interface but lo (unix sockets need none); "host": the host's (for etcd or NATS backends). */
  network: ContainerNetwork;
  /** The capabilities it keeps (every other is dropped), for example CAP_CHOWN. */
  capabilities: string[];
  /** Extra bind mounts. */
  mounts: ContainerMount[];
}

/** One declared component. */
export interface ComponentSpec {
  /** The component's name: lowercase letters, digits and "-", 1-63, starting with a letter. */
  name: string;
  /** The program and its arguments; relative paths resolve from workingDir (contained: inside the image; default its entrypoint). */
  command: string[];
  /** Extra environment variables, on top of init's own environment. */
  env: Record<string, string>;
  /** The absolute directory the process starts in (default: the manifest's directory). */
  workingDir: string;
  /** The names of the components this one needs ready before it starts. */
  requires: string[];
  /** The fully qualified gRPC services the component must serve. */
  services: string[];
  /** The absolute path of the component's socket (default: <run dir>/<name>.sock). */
  socket: string;
  /** The health check policy. */
  health: HealthPolicy;
  /** The restart policy. */
  restart: RestartPolicy;
  /** How long to wait after SIGTERM before SIGKILL. */
  stopTimeoutMs: number;
  /** The component's own configuration, passed as JSON in $MOBY_COMPONENT_CONFIG. */
  config: JsonObject;
  /** Set when it runs contained: in a container from an image; absent for a host process. */
  container?: ContainerSpec;
}

/** A parsed, checked manifest. */
export interface Manifest {
  /** The absolute path of the manifest file. */
  file: string;
  /** The absolute run directory for sockets, state and logs. */
  runDir: string;
  /** The components, in the order they are declared. */
  components: ComponentSpec[];
}

/** One mistake in a manifest, with where it is. */
export interface ManifestProblem {
  /** 1-based line of the offending node, 0 when not known. */
  line: number;
  /** 1-based column of the offending node, 0 when not known. */
  column: number;
  /** The path of the offending field, for example "components.events.health.interval". */
  field: string;
  /** What is wrong, for example `"5 seconds" is not a duration (examples: 500ms, 5s, 1m30s)`. */
  message: string;
}

/** The defaults of every optional setting. */
export const DEFAULTS = {
  health: { intervalMs: 5_000, timeoutMs: 2_000, retries: 3, startPeriodMs: 30_000, startIntervalMs: 100 },
  restart: { mode: "on-failure", delayMs: 100, maxDelayMs: 10_000, startLimitBurst: 5, startLimitIntervalMs: 60_000 },
  stopTimeoutMs: 10_000,
} as const satisfies { health: HealthPolicy; restart: RestartPolicy; stopTimeoutMs: number };

/** The name of the supervisor itself: reserved, never declared, always ready. */
export const INIT_NAME = "init";
