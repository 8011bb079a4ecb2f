/**
 * How a component process ended, in the encoding every moby API shares
 * (moby.types.v1.ExitStatus): 128 plus the signal number when a signal ended
 * it, as a shell reports it.
 */
import { constants } from "node:os";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ExitStatusSchema } from "@moby-core/types-api/v1";
import type { ExitStatus } from "@moby-core/types-api/v1";
import type { ProcessExit } from "./managed-process.js";

/** The ExitStatus message of a process that ran and ended. */
export function exitStatusOf(exit: ProcessExit): ExitStatus {
  const exitCode = exit.signal !== null ? 128 + constants.signals[exit.signal] : (exit.code ?? 0);
  return create(ExitStatusSchema, { exitCode, signal: exit.signal ?? "", exitTime: timestampFromDate(exit.time) });
}
