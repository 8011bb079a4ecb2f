import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { Health } from "@moby-core/grpc-health-api/v1";
import { pino } from "pino";
import { BackendOpening } from "./backend-opening.js";
import type { BackendOpeningOptions } from "./backend-opening.js";
import { FailedPreconditionError, UnavailableError, toConnectError } from "./errors.js";
import { HealthStatusBoard, ServingStatus } from "./health.js";

const SERVICE = Health.typeName;

/** A backend that is a name, opened by a script of outcomes (an error to throw, or undefined to open), logging to lines. */
function scripted(outcomes: (Error | undefined)[]) {
  const lines: { level: number; msg: string }[] = [];
  const closed: string[] = [];
  const health = new HealthStatusBoard();
  let tries = 0;
  const options: BackendOpeningOptions<string> = {
    what: "the test backend",
    open: async () => {
      const outcome = outcomes[Math.min(tries, outcomes.length - 1)];
      tries++;
      if (outcome !== undefined) throw outcome;
      return `backend-${tries}`;
    },
    close: (backend) => void closed.push(backend),
    logger: pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) }),
    health,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
  };
  return { options, lines, closed, health, tries: () => tries };
}

/** The handler of method in a registration's implementation. */
function handler(registration: { implementation: unknown }, method: string): (request: unknown, context: unknown) => unknown {
  return (registration.implementation as Record<string, (request: unknown, context: unknown) => unknown>)[method]!;
}

/** Waits until check holds, polling each turn of the event loop. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 1));
}

describe("BackendOpening", () => {
  it("opened at the first try: the service is built at once, with nothing in between", async () => {
    const { options, lines } = scripted([undefined]);
    const opening = await BackendOpening.open(options);
    assert.equal(opening.backend, "backend-1");
    const implementation = { check: () => ({ status: 1 }) };
    const registration = opening.serviceOf(Health, () => implementation);
    assert.equal(registration.implementation, implementation);
    assert.equal(registration.status, undefined);
    assert.deepEqual(lines, []);
  });

  it("rejects with a configuration error at the first try", async () => {
    const { options, tries } = scripted([new FailedPreconditionError("etcd at x cannot be used: permission denied")]);
    await assert.rejects(BackendOpening.open(options), /cannot be used: permission denied/);
    assert.equal(tries(), 1);
  });

  it("while unreachable: NOT_SERVING with the reason, calls UNAVAILABLE; once open: built, SERVING, calls served; warned once", async () => {
    const unreachable = new UnavailableError("etcd at x cannot be reached: connection refused");
    const outcomes: (Error | undefined)[] = [unreachable, unreachable, unreachable, undefined];
    const { options, lines, health, tries } = scripted(outcomes);
    const opening = await BackendOpening.open(options);
    const built: string[] = [];
    const registration = opening.serviceOf(Health, (backend) => {
      built.push(backend);
      return { check: () => ({ status: ServingStatus.SERVING }) };
    });
    assert.equal(registration.status, ServingStatus.NOT_SERVING);
    assert.equal(health.get(SERVICE), ServingStatus.NOT_SERVING);
    assert.equal(health.reason(SERVICE), "etcd at x cannot be reached: connection refused");
    const refused = toConnectError((() => {
      try {
        handler(registration, "check")({}, {});
      } catch (error) {
        return error;
      }
      assert.fail("a call before the backend opens must fail");
    })()).error;
    assert.equal(refused.code, Code.Unavailable);
    assert.equal(refused.rawMessage, "etcd at x cannot be reached: connection refused");
    const opened: string[] = [];
    opening.whenOpen((backend) => opened.push(backend));

    await until(() => opening.backend !== undefined);
    assert.equal(tries(), 4);
    assert.deepEqual(built, ["backend-4"]);
    assert.deepEqual(opened, ["backend-4"]);
    assert.equal(health.get(SERVICE), ServingStatus.SERVING);
    assert.equal(health.reason(SERVICE), "");
    assert.deepEqual(handler(registration, "check")({}, {}), { status: ServingStatus.SERVING });
    assert.throws(() => handler(registration, "list")({}, {}), (error: unknown) => ConnectError.from(error).code === Code.Unimplemented);
    assert.deepEqual(
      lines.filter((l) => l.level >= 30).map((l) => l.msg),
      ["the test backend cannot be reached: serving NOT_SERVING and trying again until it can", "the test backend is open: serving"],
    );
    assert.equal(lines.filter((l) => l.level === 20).length, 2, "each later failed try at debug");
    await opening.close();
  });

  it("a configuration error on a later try: NOT_SERVING with it, calls FAILED_PRECONDITION, no more tries", async () => {
    const { options, health, tries } = scripted([new UnavailableError("down"), new Error("JetStream not enabled")]);
    const opening = await BackendOpening.open(options);
    const registration = opening.serviceOf(Health, () => ({}));
    await until(() => health.reason(SERVICE) === "JetStream not enabled");
    assert.equal(health.get(SERVICE), ServingStatus.NOT_SERVING);
    assert.throws(() => handler(registration, "check")({}, {}), (error: unknown) => toConnectError(error).error.code === Code.FailedPrecondition);
    const after = tries();
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(tries(), after, "no more tries");
    await opening.close();
  });

  it("close stops the tries, and closes the backend once open", async () => {
    const { options, tries } = scripted([new UnavailableError("down")]);
    const opening = await BackendOpening.open(options);
    await opening.close();
    const after = tries();
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(tries(), after);

    const open = scripted([undefined]);
    const used = await BackendOpening.open(open.options);
    await used.close();
    await used.close();
    assert.deepEqual(open.closed, ["backend-1"]);
  });
});
