/**
 * What a component's server closes on its own, so that no client, broken or
 * hostile, holds its connections open for ever: a connection that never
 * finishes the HTTP/2 handshake, one with no call for a while, one whose peer
 * no longer answers a PING (this also frees the connections node:http2 on
 * Node 20 stops reading after it answered a protocol error with GOAWAY: it
 * never sees their peer close), and connections past a cap, refused at once.
 *
 * The settings mirror gRPC's server keepalive and connection options
 * (grpc-go's ServerParameters, grpc-js's grpc.keepalive_* and
 * grpc.max_connection_idle_ms), with defaults for node-local sockets, where
 * a connection costs a file descriptor and ~100 µs to open again, and a peer
 * answers a PING within microseconds unless it is stuck or gone.
 *
 * The cost: one timer per connection (and one more until its handshake ends);
 * per call, two counters bumped on the session (see grpc/session-calls.ts).
 */
import { readFileSync } from "node:fs";
import type { Http2Server, ServerHttp2Session } from "node:http2";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { parseDuration } from "./duration.js";
import { SESSION_CALLS } from "./grpc/session-calls.js";
import type { CountedSession, SessionCalls } from "./grpc/session-calls.js";

/** The connection settings of a component's server; each one 0 turns it off. */
export interface ConnectionLimits {
  /**
   * The most connections open at once; one more is answered with GOAWAY
   * ENHANCE_YOUR_CALM ("too many connections") and closed at once, and the
   * refusals are logged once per burst. Default 4096, or half the process's
   * open-file limit when that is lower, so that the cap is reached before
   * the component runs out of file descriptors.
   */
  maxConnections?: number;
  /**
   * How long a new connection may take to send the HTTP/2 preface and its
   * SETTINGS, in ms; a slower one is destroyed. Default 10 s (a local client
   * sends both at once; grpc-go allows 120 s for a TLS handshake over a network).
   */
  handshakeTimeoutMs?: number;
  /**
   * How long a connection may go without a call, in ms, before it is closed
   * with GOAWAY NO_ERROR (the SDK's client, like gRPC's, opens a new one for
   * its next call). Default 5 min; gRPC's max_connection_idle, off there by
   * default, is the same idea.
   */
  idleTimeoutMs?: number;
  /**
   * How often the server PINGs each connection, in ms. Default 1 min: on a
   * local socket a PING costs two 17-byte frames, where gRPC's 2 h default is
   * tuned for networks and mobile radios.
   */
  keepaliveIntervalMs?: number;
  /**
   * How long a PING may go unanswered, in ms, before the connection is
   * destroyed. Default 20 s, as gRPC's keepalive timeout.
   */
  keepaliveTimeoutMs?: number;
}

/** The defaults of ConnectionLimits (maxConnections before the open-file limit is applied). */
export const DEFAULT_CONNECTION_LIMITS: Readonly<Required<ConnectionLimits>> = Object.freeze({
  maxConnections: 4096,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 5 * 60_000,
  keepaliveIntervalMs: 60_000,
  keepaliveTimeoutMs: 20_000,
});

/** Overrides ConnectionLimits.maxConnections where the code does not set it: a whole number, 0 for no cap. */
export const ENV_MAX_CONNECTIONS = "MOBY_MAX_CONNECTIONS";
/** Overrides ConnectionLimits.handshakeTimeoutMs where the code does not set it: a duration such as "10s", "0s" for none. */
export const ENV_HANDSHAKE_TIMEOUT = "MOBY_HANDSHAKE_TIMEOUT";
/** Overrides ConnectionLimits.idleTimeoutMs where the code does not set it: a duration such as "5m", "0s" for none. */
export const ENV_IDLE_TIMEOUT = "MOBY_IDLE_TIMEOUT";
/** Overrides ConnectionLimits.keepaliveIntervalMs where the code does not set it: a duration such as "1m", "0s" for none. */
export const ENV_KEEPALIVE_INTERVAL = "MOBY_KEEPALIVE_INTERVAL";
/** Overrides ConnectionLimits.keepaliveTimeoutMs where the code does not set it: a duration such as "20s". */
export const ENV_KEEPALIVE_TIMEOUT = "MOBY_KEEPALIVE_TIMEOUT";

/** How long refusals at the cap are gathered into one log line, in ms. */
const REFUSAL_BURST_MS = 10_000;
/** How long a refused connection is kept half-closed for its client to read the GOAWAY and close, in ms. */
const REFUSAL_LINGER_MS = 1000;
/** How long a connection closed with GOAWAY gets to finish before it is destroyed, in ms. */
const CLOSE_GRACE_MS = 1000;
/** The longest time between two audits of the open sockets, in ms (see ConnectionGuard.audit). */
const AUDIT_PERIOD_MS = 60_000;

/** The HTTP/2 frames a refused connection gets: an empty SETTINGS (the server preface), then GOAWAY ENHANCE_YOUR_CALM. */
const REFUSAL = refusalFrames("too many connections");

function refusalFrames(reason: string): Buffer {
  const debug = Buffer.from(reason);
  const settings = Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
  const goaway = Buffer.alloc(9 + 8 + debug.length);
  goaway.writeUIntBE(8 + debug.length, 0, 3);
  goaway[3] = 0x7; // GOAWAY, on stream 0
  goaway.writeUInt32BE(0, 9); // last stream id: none was processed
  goaway.writeUInt32BE(0xb, 13); // ENHANCE_YOUR_CALM
  debug.copy(goaway, 17);
  return Buffer.concat([settings, goaway]);
}

/** The soft limit of open files of this process, from /proc/self/limits; undefined where that cannot be read. */
function openFileLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return line === null ? undefined : Number(line[1]);
  } catch {
    return undefined;
  }
}

/** One setting: the code's value, else the environment's, else the default; checked, naming where a bad one came from. */
function setting(name: keyof ConnectionLimits, given: number | undefined, variable: string, env: NodeJS.ProcessEnv, fallback: number): number {
  const isCount = name === "maxConnections";
  if (given !== undefined) {
    if (!Number.isSafeInteger(given) || given < 0) throw new Error(`connections.${name}: ${String(given)} is not a whole number of ${isCount ? "connections" : "ms"}, 0 or more (0: off)`);
    return given;
  }
  const raw = env[variable];
  if (raw === undefined || raw === "") return fallback;
  const value = isCount ? (/^\d+$/.test(raw) ? Number(raw) : undefined) : parseDuration(raw);
  if (value === undefined || !Number.isSafeInteger(value)) {
    throw new Error(`$${variable}: ${JSON.stringify(raw)} is not ${isCount ? "a whole number, 0 or more (0: no cap)" : 'a duration such as "500ms", "10s" or "5m" ("0s": off)'}`);
  }
  return value;
}

/**
 * The connection settings in force: each one from limits where set, else
 * from its $MOBY_* variable, else the default; a bad value throws naming it.
 */
export function resolveConnectionLimits(limits: ConnectionLimits = {}, env: NodeJS.ProcessEnv = process.env): Required<ConnectionLimits> {
  const fileLimit = openFileLimit();
  const defaultCap = fileLimit === undefined ? DEFAULT_CONNECTION_LIMITS.maxConnections : Math.max(1, Math.min(DEFAULT_CONNECTION_LIMITS.maxConnections, Math.floor(fileLimit / 2)));
  const d = DEFAULT_CONNECTION_LIMITS;
  return {
    maxConnections: setting("maxConnections", limits.maxConnections, ENV_MAX_CONNECTIONS, env, defaultCap),
    handshakeTimeoutMs: setting("handshakeTimeoutMs", limits.handshakeTimeoutMs, ENV_HANDSHAKE_TIMEOUT, env, d.handshakeTimeoutMs),
    idleTimeoutMs: setting("idleTimeoutMs", limits.idleTimeoutMs, ENV_IDLE_TIMEOUT, env, d.idleTimeoutMs),
    keepaliveIntervalMs: setting("keepaliveIntervalMs", limits.keepaliveIntervalMs, ENV_KEEPALIVE_INTERVAL, env, d.keepaliveIntervalMs),
    keepaliveTimeoutMs: setting("keepaliveTimeoutMs", limits.keepaliveTimeoutMs, ENV_KEEPALIVE_TIMEOUT, env, d.keepaliveTimeoutMs),
  };
}

/** What the guard has closed so far. */
export interface ConnectionGuardStats {
  /** Connections refused at the cap. */
  refused: number;
  /** Connections destroyed for not finishing the handshake in time. */
  handshakeTimeouts: number;
  /** Connections closed for being idle. */
  idleClosed: number;
  /** Connections destroyed for not answering a PING in time. */
  keepaliveFailures: number;
  /** Sockets closed by the audit: their session had ended without closing them, or none was made for them. */
  orphansClosed: number;
}

/** One accepted socket: when, and the session node:http2 made for it. */
interface Accepted {
  since: number;
  session?: ServerHttp2Session;
}

/** Applies ConnectionLimits to a node:http2 server and keeps its open sessions. */
export class ConnectionGuard {
  /** The sessions not closed yet. */
  readonly sessions = new Set<ServerHttp2Session>();
  /** What the guard has closed so far. */
  readonly stats: ConnectionGuardStats = { refused: 0, handshakeTimeouts: 0, idleClosed: 0, keepaliveFailures: 0, orphansClosed: 0 };
  /** The connections (sockets) open now, each with its session once made. */
  private readonly accepted = new Map<Socket, Accepted>();
  private burstRefusals = 0;
  private burstTimer: NodeJS.Timeout | undefined;
  /** The socket being turned into a session, while node:http2 does it. */
  private accepting: Socket | undefined;
  /** The socket under each session: a session node:http2 stopped reading does not close it when destroyed. */
  private readonly sockets = new WeakMap<ServerHttp2Session, Socket>();
  /** When the open connections were last all PINGed because the cap was reached. */
  private lastSweep = -Infinity;
  /** The timers of each open session. */
  private readonly watches = new Map<ServerHttp2Session, SessionWatch>();

  /** Guards server; the calls of each session are counted by ServerCall. */
  constructor(
    server: Http2Server,
    readonly limits: Required<ConnectionLimits>,
    private readonly logger: Logger,
  ) {
    // node:http2 turns each accepted socket into a session in its "connection" listener: refuse before it does.
    const accept = server.listeners("connection") as ((socket: Socket) => void)[];
    server.removeAllListeners("connection");
    server.on("connection", (socket: Socket) => {
      if (limits.maxConnections > 0 && this.accepted.size >= limits.maxConnections) return this.refuse(socket);
      this.accepted.set(socket, { since: Date.now() });
      socket.once("close", () => this.accepted.delete(socket));
      // node:http2 makes the session and emits "session" synchronously in its listener.
      this.accepting = socket;
      try {
        for (const listener of accept) listener.call(server, socket);
      } finally {
        this.accepting = undefined;
      }
    });
    server.on("session", (session) => this.watch(session as CountedSession));
    const period = Math.min(...[limits.handshakeTimeoutMs, limits.keepaliveIntervalMs, AUDIT_PERIOD_MS].filter((ms) => ms > 0));
    const audit = setInterval(() => this.audit(Date.now()), period);
    audit.unref();
    server.once("close", () => clearInterval(audit));
  }

  /**
   * Closes every socket no live session owns: one whose session was destroyed
   * without closing it (node:http2 on Node 20 can leave the socket of a
   * session it destroyed itself, for example after a write failed on a
   * session it had stopped after a protocol error, and never emits that
   * session's "close"), and one with no session past the handshake deadline.
   * The per-session timers cannot see these: they stop with their session.
   */
  private audit(now: number): void {
    for (const [socket, { since, session }] of this.accepted) {
      const orphaned = session === undefined ? this.limits.handshakeTimeoutMs > 0 && now - since >= this.limits.handshakeTimeoutMs : session.destroyed;
      if (!orphaned) continue;
      this.stats.orphansClosed++;
      this.logger.debug("closing a connection whose session has ended");
      socket.destroy();
      if (session !== undefined) this.watches.get(session)?.end();
    }
  }

  /**
   * Answers GOAWAY ENHANCE_YOUR_CALM and closes; logs the first refusal of a
   * burst, and the burst's count at its end; PINGs every open connection.
   */
  private refuse(socket: Socket): void {
    this.stats.refused++;
    socket.on("error", ignore);
    // Half-close after the GOAWAY and drop what the client sends meanwhile: closing at once would
    // make the client's first write fail (EPIPE), and a client that fails a write may never read
    // the GOAWAY. A client that does not close its side in REFUSAL_LINGER_MS is cut off.
    socket.resume();
    socket.end(REFUSAL);
    setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
    // At the cap: PING every connection (at most once per keepaliveTimeoutMs, 1 s at least), so that dead ones make room soon.
    const now = Date.now();
    if (this.limits.keepaliveTimeoutMs > 0 && now - this.lastSweep >= Math.max(this.limits.keepaliveTimeoutMs, 1000)) {
      this.lastSweep = now;
      for (const watch of this.watches.values()) watch.ping(now);
    }
    if (this.burstTimer === undefined) {
      // The first refusal of a burst is logged; the others are counted, and logged as one line only if there were any.
      this.burstRefusals = 0;
      this.logger.warn(
        { maxConnections: this.limits.maxConnections },
        `refusing new connections: ${this.accepted.size} are open, the most allowed (maxConnections); further refusals are counted until ${REFUSAL_BURST_MS / 1000} s pass without one`,
      );
      this.burstTimer = setTimeout(() => this.endBurst(), REFUSAL_BURST_MS);
      this.burstTimer.unref();
    } else {
      this.burstRefusals++;
    }
  }

  private endBurst(): void {
    if (this.burstRefusals > 0) {
      this.logger.warn({ refused: this.burstRefusals, maxConnections: this.limits.maxConnections }, `refused ${this.burstRefusals} more connections at the cap`);
      this.burstRefusals = 0;
      // Still refusing: keep counting in a new window, without another first-refusal line.
      this.burstTimer = setTimeout(() => this.endBurst(), REFUSAL_BURST_MS);
      this.burstTimer.unref();
    } else {
      this.burstTimer = undefined;
    }
  }

  /** Keeps a new session: its handshake deadline, idle and keepalive checks. */
  private watch(session: CountedSession): void {
    const calls: SessionCalls = { open: 0, started: 0 };
    session[SESSION_CALLS] = calls;
    if (this.accepting !== undefined) {
      this.sockets.set(session, this.accepting);
      const accepted = this.accepted.get(this.accepting);
      if (accepted !== undefined) accepted.session = session;
    }
    this.sessions.add(session);
    this.watches.set(session, new SessionWatch(this, session, calls));
  }

  /** Destroys session and its socket for reason, counted as kind; nothing when both are gone already. */
  destroy(session: ServerHttp2Session, kind: "handshakeTimeouts" | "keepaliveFailures", reason: string): void {
    const socket = this.sockets.get(session);
    if (session.destroyed && (socket === undefined || socket.destroyed)) return;
    this.stats[kind]++;
    this.logger.debug({ reason }, "destroying a connection");
    this.kill(session);
  }

  /**
   * Destroys a session and its socket. node:http2 (Node 20) waits, before
   * closing the socket of a destroyed session, for a final write that never
   * happens on a session it stopped after a protocol error: closing the
   * socket ourselves frees it.
   */
  kill(session: ServerHttp2Session): void {
    session.destroy();
    this.sockets.get(session)?.destroy();
  }

  /** Closes an idle session with GOAWAY NO_ERROR, destroying it if it has not closed after a grace period. */
  closeIdle(session: ServerHttp2Session): void {
    if (session.closed || session.destroyed) return;
    this.stats.idleClosed++;
    session.close();
    const forced = setTimeout(() => this.kill(session), CLOSE_GRACE_MS);
    forced.unref();
    session.once("close", () => clearTimeout(forced));
  }

  /** Forgets a closed session. */
  forget(session: ServerHttp2Session): void {
    this.sessions.delete(session);
    this.watches.delete(session);
  }
}

/** The timers of one session. */
class SessionWatch {
  private tick: NodeJS.Timeout | undefined;
  private handshake: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private lastStarted = 0;
  private quietSince = Date.now();
  private lastPing = Date.now();
  private handshaken = false;
  /** How often check runs, in ms (Infinity: never). */
  private readonly period: number;

  constructor(
    private readonly guard: ConnectionGuard,
    private readonly session: ServerHttp2Session,
    private readonly calls: SessionCalls,
  ) {
    const { handshakeTimeoutMs, idleTimeoutMs, keepaliveIntervalMs } = guard.limits;
    session.once("remoteSettings", () => {
      this.handshaken = true;
      clearTimeout(this.handshake);
    });
    if (handshakeTimeoutMs > 0) {
      this.handshake = setTimeout(() => guard.destroy(session, "handshakeTimeouts", "no HTTP/2 preface and SETTINGS in time"), handshakeTimeoutMs);
      this.handshake.unref();
    }
    // One timer: often enough to close an idle connection within 1.25x its timeout, and to PING on time.
    this.period = Math.min(idleTimeoutMs > 0 ? Math.max(1, Math.floor(idleTimeoutMs / 4)) : Infinity, keepaliveIntervalMs > 0 ? keepaliveIntervalMs : Infinity);
    if (this.period !== Infinity) {
      this.tick = setInterval(() => this.check(), this.period);
      this.tick.unref();
    }
    session.once("close", () => this.end());
  }

  /** Stops the timers and forgets the session: it has closed, or was destroyed and will never say so. */
  end(): void {
    clearTimeout(this.handshake);
    clearInterval(this.tick);
    clearTimeout(this.pingTimer);
    this.guard.forget(this.session);
  }

  private check(): void {
    const session = this.session;
    if (session.destroyed) return;
    const now = Date.now();
    const { idleTimeoutMs, keepaliveIntervalMs } = this.guard.limits;
    if (this.calls.open > 0 || this.calls.started !== this.lastStarted) {
      this.quietSince = now;
      this.lastStarted = this.calls.started;
    } else if (idleTimeoutMs > 0 && now - this.quietSince >= idleTimeoutMs) {
      this.guard.closeIdle(session);
      return;
    }
    // Due within half a tick counts as due: the tick's timer is armed from the event loop's cached time, which
    // a busy loop leaves behind Date.now(), so a tick can come a little before a full interval has passed by
    // Date.now(); waiting for the next tick would PING a whole tick late.
    if (keepaliveIntervalMs > 0 && now - this.lastPing >= keepaliveIntervalMs - this.period / 2) this.ping(now);
  }

  /** Sends a PING unless one is outstanding; destroys the session when it is not answered within keepaliveTimeoutMs. */
  ping(now: number): void {
    const session = this.session;
    const { keepaliveTimeoutMs } = this.guard.limits;
    // Before the handshake ends, the handshake deadline is the one that counts.
    if (session.destroyed || !this.handshaken || this.pingTimer !== undefined) return;
    this.lastPing = now;
    const fail = () => this.guard.destroy(session, "keepaliveFailures", "no PING acknowledgement in time");
    let sent = false;
    try {
      sent = session.ping((error) => {
        clearTimeout(this.pingTimer);
        this.pingTimer = undefined;
        // An error means the PING cannot be answered: destroy the session and, even if node:http2 destroyed it already, its socket.
        if (error !== null) fail();
      });
    } catch {
      // The session is closing or destroyed.
    }
    if (!sent) return fail();
    if (keepaliveTimeoutMs > 0) {
      this.pingTimer = setTimeout(fail, keepaliveTimeoutMs);
      this.pingTimer.unref();
    }
  }
}

function ignore(): void {}
