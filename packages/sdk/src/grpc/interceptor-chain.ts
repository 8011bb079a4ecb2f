/**
 * Connect's interceptors applied around a call function, as connect applies
 * them: the first interceptor outermost, the last one next to the call. The
 * server wraps its handlers with it, the client its transport calls.
 */
import type { Interceptor } from "@connectrpc/connect";

/** inner wrapped by interceptors, the last one innermost. */
export function chainInterceptors<F>(inner: F, interceptors: readonly Interceptor[]): F {
  let fn = inner;
  for (let i = interceptors.length - 1; i >= 0; i--) fn = interceptors[i]!(fn as never) as unknown as F;
  return fn;
}
