/**
 * moby.registry.v1.RegistryService: where each declared component listens,
 * its version, services and health; resolve a service; watch changes.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { Health } from "@moby-core/component-api/v1";
import { InvalidArgumentError, NotFoundError, subscriptionStream } from "@moby-core/sdk";
import { apiVersionOf } from "@moby-core/sdk/internal";
import { RegistrationSchema, RegistryService } from "@moby-core/registry-api/v1";
import type { Registration } from "@moby-core/registry-api/v1";
import { INIT_NAME } from "../manifest/manifest.js";
import type { ComponentRunner } from "../supervisor/component-runner.js";
import type { Supervisor } from "../supervisor/supervisor.js";
import { paginate } from "./page.js";
import { declaredRunner } from "./supervisor-service.js";

/** What init registers for itself. */
export interface InitRegistration {
  socketPath: string;
  version: string;
  services: string[];
  startTime: Date;
}

function registrationOf(supervisor: Supervisor, runner: ComponentRunner): Registration {
  const services = runner.info?.services ?? runner.spec.services.map((name) => ({ name, apiVersion: apiVersionOf(name) }));
  return create(RegistrationSchema, {
    component: runner.spec.name,
    socketPath: runner.spec.socket,
    version: runner.info?.version ?? "",
    services,
    health: runner.health,
    ready: runner.ready,
    updateTime: timestampFromDate(supervisor.changeTime(runner.spec.name)),
  });
}

function initRegistrationOf(self: InitRegistration): Registration {
  return create(RegistrationSchema, {
    component: INIT_NAME,
    socketPath: self.socketPath,
    version: self.version,
    services: [...self.services].sort().map((name) => ({ name, apiVersion: apiVersionOf(name) })),
    health: Health.SERVING,
    ready: true,
    updateTime: timestampFromDate(self.startTime),
  });
}

/** Ready and healthy first, then by name. */
function resolutionOrder(a: Registration, b: Registration): number {
  const rank = (r: Registration) => (r.ready && r.health === Health.SERVING ? 0 : r.ready ? 1 : 2);
  return rank(a) - rank(b) || a.component.localeCompare(b.component);
}

/** The implementation of RegistryService over a supervisor. */
export function registryService(supervisor: Supervisor, self: InitRegistration): Partial<ServiceImpl<typeof RegistryService>> {
  const registration = (name: string) =>
    name === INIT_NAME ? initRegistrationOf(self) : registrationOf(supervisor, declaredRunner(supervisor, name));
  const all = () =>
    [initRegistrationOf(self), ...supervisor.runners.map((r) => registrationOf(supervisor, r))].sort((a, b) =>
      a.component.localeCompare(b.component),
    );
  return {
    getRegistration({ component }) {
      return { registration: registration(component) };
    },
    listRegistrations({ pageSize, pageToken }) {
      const page = paginate(all(), pageSize, pageToken);
      return { registrations: page.items, nextPageToken: page.nextPageToken };
    },
    resolveService({ service }) {
      if (service === "") throw new InvalidArgumentError("service", "required");
      const serving = all().filter((r) => r.services.some((s) => s.name === service));
      if (serving.length === 0) throw new NotFoundError(`no declared component serves ${service}`);
      return { registrations: serving.sort(resolutionOrder) };
    },
    async *watchRegistrations({ components }, context) {
      const names = components.length === 0 ? [INIT_NAME, ...supervisor.runners.map((r) => r.spec.name)] : components;
      const current = names.map(registration);
      const wanted = new Set(names);
      const changes = subscriptionStream<ComponentRunner>(context.signal, (push) =>
        supervisor.onChange((runner) => {
          if (wanted.has(runner.spec.name)) push(runner);
        }),
        { noun: "registration changes", resume: "call WatchRegistrations again; it starts with every current registration" },
      );
      for (const r of current) yield { registration: r };
      for await (const runner of changes) yield { registration: registrationOf(supervisor, runner) };
    },
  };
}
