/**
 * moby.component.v1.ComponentService, served by every component: who it is,
 * which services and API versions it serves, and Reload.
 */
import { create } from "@bufbuild/protobuf";
import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { ComponentInfoSchema, ComponentService } from "@moby-core/component-api/v1";
import type { ComponentInfo } from "@moby-core/component-api/v1";
import { ComponentError } from "./errors.js";
import type { HealthStatusBoard } from "./health.js";
import type { ComponentMetrics } from "./metrics/component-metrics.js";
import { Code } from "@connectrpc/connect";

/** The capability a component has when it accepts Reload. */
export const CAPABILITY_RELOAD = "moby.component.reload";

/** The capability a component has when it serves GetMetrics. */
export const CAPABILITY_METRICS = "moby.component.metrics";

/** Applies (or, with validateOnly, only checks) a new component configuration. */
export type ReloadHandler = (config: JsonObject, options: { validateOnly: boolean }) => void | Promise<void>;

/** The API version of a service: the last element of its package when that is a version. */
export function apiVersionOf(serviceTypeName: string): string {
  const parts = serviceTypeName.split(".");
  const pkg = parts.length >= 2 ? parts[parts.length - 2]! : "";
  return /^v\d+((alpha|beta)\d+)?$/.test(pkg) ? pkg : "";
}

/** What a component says about itself in GetInfo. */
export interface ComponentIdentity {
  name: string;
  kind: string;
  version: string;
  revision: string;
  serviceNames: string[];
  capabilities: string[];
  startTime: Date;
}

/**
 * ComponentService over the identity of this process, an optional reload
 * handler, the health board whose reasons GetInfo reports, and the metrics
 * GetMetrics exports (UNIMPLEMENTED without).
 */
export function componentService(
  identity: ComponentIdentity,
  reload: ReloadHandler | undefined,
  health?: HealthStatusBoard,
  metrics?: ComponentMetrics,
): Partial<ServiceImpl<typeof ComponentService>> {
  let generation = 1n;
  const builtIn = [...(reload ? [CAPABILITY_RELOAD] : []), ...(metrics ? [CAPABILITY_METRICS] : [])];
  const capabilities = [...new Set([...identity.capabilities, ...builtIn])].sort();
  const info = (): ComponentInfo =>
    create(ComponentInfoSchema, {
      name: identity.name,
      kind: identity.kind,
      version: identity.version,
      revision: identity.revision,
      services: [...identity.serviceNames].sort().map((name) => ({ name, apiVersion: apiVersionOf(name), notServingReason: health?.reason(name) ?? "" })),
      capabilities,
      pid: process.pid,
      startTime: timestampFromDate(identity.startTime),
      configGeneration: generation,
    });
  return {
    getInfo() {
      return { info: info() };
    },
    async reload(request) {
      if (reload === undefined) {
        throw new ComponentError(Code.Unimplemented, `component ${identity.name} does not support Reload`);
      }
      await reload(request.config ?? {}, { validateOnly: request.validateOnly });
      if (!request.validateOnly) generation += 1n;
      return { configGeneration: generation };
    },
    async getMetrics() {
      if (metrics === undefined) {
        throw new ComponentError(Code.Unimplemented, `component ${identity.name} serves no metrics`);
      }
      return { text: await metrics.exposition() };
    },
  };
}
