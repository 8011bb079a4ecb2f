/**
 * The one HTTP/2 connection a client keeps to a unix socket: opened on the
 * first call, opened again after it closed, broke or received GOAWAY (calls
 * already on the old one finish there), kept from holding the process open
 * while no call is running, and closed on request.
 */
import * as http2 from "node:http2";
import type { ClientHttp2Session, ClientHttp2Stream, ClientSessionRequestOptions, OutgoingHttpHeaders } from "node:http2";
import { connect } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";

/** The number of open streams, kept on each session. */
const OPEN = Symbol("moby.grpc.open-streams");
/** Set on a session that received GOAWAY: no new stream goes there. */
const DRAINING = Symbol("moby.grpc.draining");

type Session = ClientHttp2Session & { [OPEN]: number; [DRAINING]: boolean };
type SessionStream = ClientHttp2Stream & { [OPEN]?: Session };

/** Owns the HTTP/2 session of one client to one unix socket. */
export class ClientSession {
  private session: Session | undefined;
  /** Every session not closed yet, the current one and those draining after GOAWAY. */
  private readonly open = new Set<Session>();

  /** A session to the component on socketPath. */
  constructor(readonly socketPath: string) {}

  /**
   * Opens a stream for a call: on the current session, or on a new one when
   * there is none usable. Throws what node:http2 throws when even a new
   * session refuses the stream. The caller calls release(stream) once the
   * stream closes.
   */
  request(headers: OutgoingHttpHeaders, options?: ClientSessionRequestOptions): ClientHttp2Stream {
    let session = this.current();
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

  /** Forgets a stream that closed: a session with no open stream stops holding the process open. */
  release(stream: ClientHttp2Stream): void {
    const tracked = stream as SessionStream;
    const session = tracked[OPEN];
    if (session === undefined) return;
    tracked[OPEN] = undefined;
    if (--session[OPEN] === 0 && !session.destroyed) session.unref();
  }

  /** Closes the session: calls on it fail with CANCELED; a later call opens a new one. */
  close(): void {
    this.session = undefined;
    for (const session of this.open) {
      if (!session.destroyed) session.destroy(new ConnectError("the connection was closed", Code.Canceled), http2.constants.NGHTTP2_CANCEL);
    }
    this.open.clear();
  }

  private current(): Session {
    const session = this.session;
    if (session !== undefined && !session.closed && !session.destroyed && !session[DRAINING]) return session;
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
    session.once("goaway", () => {
      session[DRAINING] = true;
      if (this.session === session) this.session = undefined;
    });
    session.once("close", () => {
      this.open.delete(session);
      if (this.session === session) this.session = undefined;
    });
    // Do not hold the process open while no call is running.
    session.unref();
    this.session = session;
    this.open.add(session);
    return session;
  }
}

function ignore(): void {}
