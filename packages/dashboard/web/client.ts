/**
 * The page's client of DashboardService: the Connect protocol over fetch to
 * the origin that served the page. The token of the mutating calls is never
 * in the page: when the server asks for one (UNAUTHENTICATED), the operator
 * types it in, and it is kept for this tab only (sessionStorage).
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import type { Client, Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { DashboardService } from "@moby-core/dashboard-api/v1";

const TOKEN_KEY = "moby-dashboard-token";

/** Adds the kept token, if any, to every call. */
const withToken: Interceptor = (next) => (request) => {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token !== null) request.header.set("authorization", `Bearer ${token}`);
  return next(request);
};

/** The page's client. */
export const dashboard: Client<typeof DashboardService> = createClient(
  DashboardService,
  createConnectTransport({ baseUrl: location.origin, useBinaryFormat: true, interceptors: [withToken] }),
);

/** Runs a mutating call; on UNAUTHENTICATED asks the operator for the token once and tries again. */
export async function withAuthorization<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof ConnectError) || error.code !== Code.Unauthenticated) throw error;
    const token = prompt("This action needs the dashboard's token (logged when it started, or config.token):");
    if (token === null || token.trim() === "") throw error;
    sessionStorage.setItem(TOKEN_KEY, token.trim());
    return call();
  }
}

/** A failure as one line for the page. */
export function describe(error: unknown): string {
  return error instanceof ConnectError ? `${Code[error.code] ?? error.code}: ${error.rawMessage}` : String(error);
}
