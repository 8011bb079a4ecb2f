// The GreeterService handlers: plain functions typed by the generated
// descriptor. Rules are checked first, with InvalidArgumentError naming the field.
import { durationMs } from "@bufbuild/protobuf/wkt";
import type { Duration } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { InvalidArgumentError } from "@moby-core/sdk";
import { GreeterService } from "../gen/hello/v1/hello_pb.js";

const MAX_NAME = 256;
const MAX_WAIT_MS = 60_000;

/** Checks a name against the rule in hello.proto. */
function checkName(name: string): void {
  if (name.length === 0) throw new InvalidArgumentError("name", "required");
  if (name.length > MAX_NAME) throw new InvalidArgumentError("name", `longer than ${MAX_NAME} characters`);
}

/** A duration in ms, checked against [min, MAX_WAIT_MS]; fallback when absent. */
function waitOf(field: string, value: Duration | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const ms = durationMs(value);
  if (ms < min || ms > MAX_WAIT_MS) throw new InvalidArgumentError(field, `must be between ${min} ms and 60 s`);
  return ms;
}

/** Waits ms, or rejects with the signal's reason when the call ends first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The implementation of hello.v1.GreeterService. */
export const greeter: ServiceImpl<typeof GreeterService> = {
  async sayHello(request, context) {
    checkName(request.name);
    const delay = waitOf("delay", request.delay, 0, 0);
    if (delay > 0) await sleep(delay, context.signal);
    return { greeting: `Hello, ${request.name}!` };
  },
  async *streamGreetings(request, context) {
    checkName(request.name);
    const interval = waitOf("interval", request.interval, 1000, 1);
    for (let number = 1; request.count === 0 || number <= request.count; number++) {
      yield { greeting: number === 1 ? `Hello, ${request.name}!` : `Hello again, ${request.name}! (${number})`, number };
      if (request.count !== 0 && number === request.count) break;
      await sleep(interval, context.signal);
    }
  },
};
