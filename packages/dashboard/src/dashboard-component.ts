/**
 * What the dashboard component starts: the sampler of the assembly's
 * metrics, and the web server of the page and of DashboardService on its
 * TCP address. On its unix socket it serves only what every component
 * serves (the component API, health, metrics), so that init supervises it
 * like any other.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DashboardService } from "@moby-core/dashboard-api/v1";
import { FailedPreconditionError, UnavailableError } from "@moby-core/sdk";
import type { ComponentContext, ComponentStart } from "@moby-core/sdk";
import { accessPolicy, isLoopback } from "./access-policy.js";
import { AssemblyClients } from "./assembly-clients.js";
import type { DashboardConfig } from "./dashboard-config.js";
import { dashboardService } from "./dashboard-service.js";
import { MetricSampler } from "./metric-sampler.js";
import { startWebServer } from "./web-server.js";

/** Where the built page is: dist/web beside this module (packages/dashboard's build puts it there). */
export const ASSETS_DIR = fileURLToPath(new URL("./web/", import.meta.url));

/** Starts the sampler and the web server; both stop at shutdown. */
export async function startDashboard({ config, logger }: ComponentContext<DashboardConfig>): Promise<ComponentStart> {
  if (!existsSync(`${ASSETS_DIR}index.html`)) {
    throw new FailedPreconditionError(`the page is not built (no ${ASSETS_DIR}index.html): run npm run build -w @moby-core/dashboard`);
  }
  const clients = new AssemblyClients();
  const sampler = new MetricSampler(
    () => clients.supervisor(async (supervisor) => (await supervisor.getAssemblyMetrics({})).text),
    config.sampleIntervalMs,
    config.historySamples,
    logger,
  );
  // The policy needs the port, known once listening: the server reads it through this holder.
  const policy = accessPolicy(config.host, config.port, config.token);
  let server;
  try {
    server = await startWebServer(config.host, config.port, {
      routes: (router) => router.service(DashboardService, dashboardService(clients, sampler)),
      assetsDir: ASSETS_DIR,
      policy: policy.policy,
    });
  } catch (error) {
    throw new UnavailableError(`config.address: cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  }
  if (config.port === 0) Object.assign(policy.policy, accessPolicy(config.host, server.address.port, config.token).policy, { token: policy.policy.token });
  const url = `http://${server.address.family === "IPv6" ? `[${server.address.address}]` : server.address.address}:${server.address.port}/`;
  return {
    services: [],
    started() {
      sampler.start();
      logger.info({ url, loopbackOnly: isLoopback(config.host) }, `dashboard serving on ${url}`);
      if (policy.generated !== undefined) {
        logger.warn({ token: policy.generated }, "the dashboard listens beyond loopback: its actions need this token (Authorization: Bearer), shown only now");
      }
    },
    async onShutdown() {
      await sampler.stop();
      await server.close();
    },
  };
}
