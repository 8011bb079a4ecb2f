/**
 * An interceptor that rewrites the failures of a call, for a client that
 * wants its own wording of them (the CLI names the component it could not
 * reach).
 */
import type { Interceptor } from "@connectrpc/connect";

/** An interceptor that passes every failure of a call through map, whether the call fails or its response stream does. */
export function mapCallErrors(map: (error: unknown) => unknown): Interceptor {
  async function* mapStream<T>(messages: AsyncIterable<T>) {
    try {
      yield* messages;
    } catch (error) {
      throw map(error);
    }
  }
  return (next) => async (request) => {
    try {
      const response = await next(request);
      return response.stream ? { ...response, message: mapStream(response.message) } : response;
    } catch (error) {
      throw map(error);
    }
  };
}
