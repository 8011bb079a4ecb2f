/** The error a call's promise rejects with, as a ConnectError; fails the test when it resolves. */
import assert from "node:assert/strict";
import { ConnectError } from "@connectrpc/connect";

/** Awaits promise and returns its rejection as a ConnectError. */
export async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  assert.fail("expected the call to fail");
}
