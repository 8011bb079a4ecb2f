/** The error a call's promise rejects with, as a ConnectError; fails the test when it resolves. */
import assert from "node:assert/strict";
import { ConnectError } from "@connectrpc/connect";
import { toConnectError } from "@moby-core/sdk";

/** Awaits promise and returns its rejection as a ConnectError. */
export async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  assert.fail("expected the call to fail");
}

/** Awaits a handler's promise and returns its rejection as the ConnectError a caller would receive (the SDK's mapping). */
export async function handlerRejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return toConnectError(error).error;
  }
  assert.fail("expected a rejection");
}
