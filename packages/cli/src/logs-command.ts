/**
 * `moby logs NAME`: the logs of a component of the assembly or of a
 * container, by one rule. NAME is a component when the manifest declares it
 * (init's GetComponent knows it) and a container when the runtime has a task
 * of that id. Exactly one: its logs. Both: ambiguous, --component or
 * --container says which. Neither: an error naming NAME. --component and
 * --container skip the question and ask only that side.
 */
import { Code, ConnectError, isId } from "@moby-core/sdk";
import { logsCommand } from "./commands.js";
import { ServiceMissingError, withContainerServices } from "./container-client.js";
import { containerLogsCommand } from "./containers-command.js";
import { CliError, withSupervisor } from "./init-client.js";

/** Whose logs `moby logs` prints. */
export type LogsSource = "component" | "container";

/** What is known of NAME: whether it is a component, whether a container (undefined: could not tell, with why). */
export interface NameFacts {
  component: boolean;
  container: boolean | { unknown: CliError };
}

/**
 * The rule of `moby logs NAME` without a flag: the one side NAME exists on;
 * a CliError when it is both ("ambiguous", naming the flags) or neither. When
 * the runtime could not be asked and NAME is a component, the component.
 */
export function chooseLogsSource(name: string, facts: NameFacts): LogsSource {
  const container = facts.container;
  if (typeof container === "object") {
    if (facts.component) return "component";
    throw container.unknown;
  }
  if (facts.component && container) {
    throw new CliError(`${JSON.stringify(name)} is both a component and a container: add --component or --container`);
  }
  if (facts.component) return "component";
  if (container) return "container";
  throw new CliError(`no component or container named ${JSON.stringify(name)}`);
}

/** Whether init's manifest declares a component called name. */
async function isComponent(initSocket: string, name: string): Promise<boolean> {
  return withSupervisor(initSocket, async (supervisor) => {
    try {
      await supervisor.getComponent({ name });
      return true;
    } catch (error) {
      if (ConnectError.from(error).code === Code.NotFound) return false;
      throw error;
    }
  });
}

/** Whether the runtime has a task for container id name; an unknown answer holds the reason. */
async function isContainer(initSocket: string, name: string): Promise<NameFacts["container"]> {
  if (!isId(name)) return false;
  try {
    return await withContainerServices(initSocket, async (services) => {
      try {
        await (await services.runtime()).getTask({ containerId: name });
        return true;
      } catch (error) {
        if (!(error instanceof CliError) && ConnectError.from(error).code === Code.NotFound) return false;
        throw error;
      }
    });
  } catch (error) {
    if (error instanceof ServiceMissingError) return false; // an assembly without containers
    return { unknown: error instanceof CliError ? error : new CliError(String(error)) };
  }
}

/** The settings of `moby logs`. */
export interface LogsDispatchOptions {
  follow: boolean;
  /** Only the last tail lines first; 0 for all. */
  tail: number;
  /** --component or --container: skip the rule. */
  source?: LogsSource;
  /** Ends a followed stream quietly (Ctrl-C). */
  stop?: AbortSignal;
}

/** `moby logs NAME`: finds whose logs NAME names and prints them. */
export async function logsDispatchCommand(initSocket: string, name: string, options: LogsDispatchOptions): Promise<void> {
  let source = options.source;
  if (source === undefined) {
    const [component, container] = await Promise.all([isComponent(initSocket, name), isContainer(initSocket, name)]);
    source = chooseLogsSource(name, { component, container });
  }
  const stop = options.stop === undefined ? {} : { stop: options.stop };
  if (source === "component") {
    await logsCommand(initSocket, name, { follow: options.follow, tail: options.tail, ...stop });
  } else {
    await containerLogsCommand(initSocket, name, { follow: options.follow, tail: options.tail, ...stop });
  }
}
