/**
 * The calls of one server session, counted by whoever serves them (the moby
 * engine's ServerCall, or a stream listener for connect's) and read by the
 * connection guard's timer to tell an idle connection from a busy one. Two
 * integers per session, bumped at a call's start and end: no timer, no
 * listener and no clock read per call.
 */
import type { ServerHttp2Session } from "node:http2";

/** Where a session's call counts are kept, on the session object. */
export const SESSION_CALLS = Symbol("moby.grpc.session-calls");

/** The calls of one session. */
export interface SessionCalls {
  /** The calls open now. */
  open: number;
  /** The calls started since the session opened. */
  started: number;
}

/** A server session that may carry call counts (the connection guard puts them there). */
export type CountedSession = ServerHttp2Session & { [SESSION_CALLS]?: SessionCalls };
