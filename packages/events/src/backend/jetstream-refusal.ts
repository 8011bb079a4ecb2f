/**
 * Whether an error of opening the JetStream log is a NATS server answering
 * no, a configuration to fix (start-up fails), or no answer at all, an
 * outage to wait out (the component serves NOT_SERVING and tries again).
 */
import { JetStreamApiError } from "@nats-io/jetstream";

/**
 * JetStream API errors that say the cluster cannot answer yet rather than
 * that it refuses the request: no suitable peers for placement (10005),
 * cluster temporarily unavailable (10008), not the leader (10009),
 * insufficient resources (10023).
 */
const JETSTREAM_NOT_READY = new Set([10005, 10008, 10009, 10023]);
/** JetStream API errors that say JetStream is not enabled (10076), or not for this account (10039): a server to configure. */
const JETSTREAM_NOT_ENABLED = new Set([10076, 10039]);

/** A stream configuration this component itself finds the servers cannot keep (for example replicas on a server not in a cluster): a configuration to fix. */
export class StreamConfigRefused extends Error {
  override readonly name = "StreamConfigRefused";
}

/**
 * Tells whether an error of opening is a server answering no (a
 * configuration to fix) rather than no server answering (try again later):
 * an authorization or permission refusal, JetStream not enabled, or a
 * JetStream API error other than the cluster not being ready. Only an
 * answer is taken as no; timeouts, refused connections and no responders
 * are not.
 */
export function refusesUs(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof StreamConfigRefused) return true;
  if (error instanceof JetStreamApiError) return JETSTREAM_NOT_ENABLED.has(error.code) || (!JETSTREAM_NOT_READY.has(error.code) && error.status !== 503);
  return ["AuthorizationError", "PermissionViolationError", "UserAuthenticationExpiredError", "JetStreamNotEnabled", "JetStreamNotEnabledForAccount"].includes(error.name) || refusesUs(error.cause);
}
