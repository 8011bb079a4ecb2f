/**
 * The HTTP/2 connections a client keeps to a unix socket: the first opened
 * on the first call, another (up to a most) when a call starts while every
 * open one already carries a call, each call going to the one carrying the
 * fewest. A connection that closed, broke or received GOAWAY takes no new
 * call (calls already on it finish there). No connection holds the process
 * open while no call runs on it; all close on request.
 *
 * Why more than one: node:http2 writes what a turn of the event loop queued
 * in one go, so over one connection client and server take turns, each
 * idle while the other works on the whole batch of calls. Over two, each
 * side works on one connection's batch while the other side works on the
 * other's: calls at 64 in flight go ~1.35x faster on two cores.
 */
import * as http2 from "node:http2";
import type { ClientHttp2Session, ClientHttp2Stream, ClientSessionRequestOptions, OutgoingHttpHeaders } from "node:http2";
import { connect } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";

/** The number of open streams, kept on each session. */
const OPEN = Symbol("moby.grpc.open-streams");
/** Set on a session that received GOAWAY: no new stream goes there. */
const DRAINING = Symbol("moby.grpc.draining");
/** Why the server ended the session, when its GOAWAY carried an error. */
const GOAWAY_REASON = Symbol("moby.grpc.goaway-reason");

type Session = ClientHttp2Session & { [OPEN]: number; [DRAINING]: boolean; [GOAWAY_REASON]?: string };

/** The names of HTTP/2's error codes, by code. */
const ERROR_CODE_NAMES = new Map(
  ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"].map((name) => [
    (http2.constants as unknown as Record<string, number>)[`NGHTTP2_${name}`],
    name,
  ]),
);

/** A GOAWAY's error code and debug text, for an error message: GOAWAY ENHANCE_YOUR_CALM "too many connections". */
function describeGoaway(code: number, debug: Buffer | undefined): string {
  const text = debug === undefined || debug.length === 0 ? "" : ` ${JSON.stringify(debug.subarray(0, 200).toString("utf8"))}`;
  return `GOAWAY ${ERROR_CODE_NAMES.get(code) ?? `error ${code}`}${text}`;
}
type SessionStream = ClientHttp2Stream & { [OPEN]?: Session };

/** How many connections a client spreads its calls over at most, by default. */
export const DEFAULT_CONNECTIONS = 2;

/** Owns the HTTP/2 sessions of one client to one unix socket. */
export class ClientSession {
  /** Every session not closed yet, those in use and those draining after GOAWAY. */
  private readonly open = new Set<Session>();

  /** Sessions to the component on socketPath, at most maxConnections usable at once. */
  constructor(
    readonly socketPath: string,
    readonly maxConnections = DEFAULT_CONNECTIONS,
  ) {
    if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) {
      throw new RangeError(`connections: ${String(maxConnections)} is not a whole number of 1 or more`);
    }
  }

  /**
   * Opens a stream for a call: on the usable session carrying the fewest
   * streams, or on a new one when there is none usable or each usable one
   * carries a stream and there is room for one more. Throws what node:http2
   * throws when even a new session refuses the stream. The caller calls
   * release(stream) once the stream closes.
   */
  request(headers: OutgoingHttpHeaders, options?: ClientSessionRequestOptions): ClientHttp2Stream {
    let session = this.pick();
    let stream: SessionStream;
    try {
      stream = session.request(headers, options);
    } catch (error) {
      // The session closed between our check and the request: one more try on a new one.
      if (!session.closed && !session.destroyed) throw error;
      session = this.dial();
      stream = session.request(headers, options);
    }
    if (session[OPEN]++ === 0) session.ref();
    stream[OPEN] = session;
    return stream;
  }

  /** Tells whether the connection stream was opened on is gone (closed, broken or destroyed). */
  lost(stream: ClientHttp2Stream): boolean {
    const session = (stream as SessionStream)[OPEN];
    return session !== undefined && session.destroyed;
  }

  /** Why the server ended the connection stream was opened on, when it sent GOAWAY with an error; else undefined. */
  goawayReason(stream: ClientHttp2Stream): string | undefined {
    return (stream as SessionStream)[OPEN]?.[GOAWAY_REASON];
  }

  /** Forgets a stream that closed: a session with no open stream stops holding the process open. */
  release(stream: ClientHttp2Stream): void {
    const tracked = stream as SessionStream;
    const session = tracked[OPEN];
    if (session === undefined) return;
    tracked[OPEN] = undefined;
    if (--session[OPEN] === 0 && !session.destroyed) session.unref();
  }

  /** Closes the sessions: calls on them fail with CANCELED; a later call opens a new one. */
  close(): void {
    for (const session of this.open) {
      if (!session.destroyed) session.destroy(new ConnectError("the connection was closed", Code.Canceled), http2.constants.NGHTTP2_CANCEL);
    }
    this.open.clear();
  }

  private pick(): Session {
    let best: Session | undefined;
    let usable = 0;
    for (const session of this.open) {
      if (session.closed || session.destroyed || session[DRAINING]) continue;
      usable++;
      if (best === undefined || session[OPEN] < best[OPEN]) best = session;
    }
    if (best !== undefined && (best[OPEN] === 0 || usable >= this.maxConnections)) return best;
    return this.dial();
  }

  private dial(): Session {
    const session = http2.connect("http://localhost", {
      createConnection: () => connect(this.socketPath),
      // gRPC has no use for server push.
      settings: { enablePush: false },
    }) as Session;
    session[OPEN] = 0;
    session[DRAINING] = false;
    // A session error reaches every stream on it, and so its call; nothing more to do here.
    session.on("error", ignore);
    session.once("goaway", (code: number, _lastStreamId: number, debug?: Buffer) => {
      session[DRAINING] = true;
      if (code !== http2.constants.NGHTTP2_NO_ERROR) session[GOAWAY_REASON] = describeGoaway(code, debug);
    });
    session.once("close", () => {
      this.open.delete(session);
    });
    // Do not hold the process open while no call is running.
    session.unref();
    this.open.add(session);
    return session;
  }
}

function ignore(): void {}
