/**
 * The dashboard page: polls the components and containers every second,
 * redraws the charts from the kept samples every sampling interval, follows
 * the live events with the filter typed in, follows a container's logs on
 * request, and runs the operator's actions.
 */
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { Charts } from "./charts.js";
import { dashboard, describe, withAuthorization } from "./client.js";
import { renderComponents, renderContainers } from "./tables.js";
import type { TableActions } from "./tables.js";

/** How often the tables are refreshed, in ms. */
const POLL_MS = 1000;
/** How many past events the page asks for when it opens, and keeps on screen. */
const RECENT_EVENTS = 200;

function element<T extends HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (found === null) throw new Error(`the page has no ${selector}`);
  return found;
}

const statusLine = element<HTMLElement>("#status");
function report(text: string, error = false): void {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", error);
}

let logsAbort: AbortController | undefined;

/** Follows the container's output into the logs panel until closed or another is followed. */
async function followLogs(id: string): Promise<void> {
  logsAbort?.abort();
  const abort = (logsAbort = new AbortController());
  const panel = element<HTMLElement>("#logs-section");
  const out = element<HTMLPreElement>("#logs");
  panel.hidden = false;
  element<HTMLElement>("#logs-id").textContent = id;
  out.textContent = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of dashboard.followLogs({ id, tail: 200 }, { signal: abort.signal })) {
      out.textContent += decoder.decode(chunk.data, { stream: true });
      out.scrollTop = out.scrollHeight;
    }
    out.textContent += "\n[the process has exited]\n";
  } catch (error) {
    if (!abort.signal.aborted) out.textContent += `\n[${describe(error)}]\n`;
  }
}

const actions: TableActions = {
  restartComponent: (name) => void act(`restart ${name}`, () => dashboard.restartComponent({ name })),
  stopContainer: (id) => void act(`stop ${id}`, () => dashboard.stopContainer({ id })),
  killContainer: (id) => void act(`kill ${id}`, () => dashboard.killContainer({ id })),
  followLogs: (id) => void followLogs(id),
};

async function act(what: string, call: () => Promise<unknown>): Promise<void> {
  report(`${what}…`);
  try {
    await withAuthorization(call);
    report(`${what}: done`);
  } catch (error) {
    report(`${what}: ${describe(error)}`, true);
  }
}

async function refreshTables(): Promise<void> {
  const [components, containers] = await Promise.allSettled([dashboard.listComponents({}), dashboard.listContainers({})]);
  if (components.status === "fulfilled") renderComponents(element("#components tbody"), components.value.components, actions);
  if (containers.status === "fulfilled") renderContainers(element("#containers tbody"), containers.value.containers, actions);
  const failed = [components, containers].find((r) => r.status === "rejected");
  if (failed !== undefined) report(describe(failed.reason), true);
  else if (statusLine.classList.contains("error") || statusLine.textContent === "connecting…") report(`updated ${new Date().toLocaleTimeString()}`);
}

const charts = new Charts(element("#charts"));
async function refreshCharts(): Promise<number> {
  const samples = await dashboard.getSamples({});
  charts.update(samples.series);
  return samples.intervalMs;
}

let eventsAbort: AbortController | undefined;

/** Follows the events matching filters into the list, newest on top, until the filter changes. */
async function followEvents(filters: string[]): Promise<void> {
  eventsAbort?.abort();
  const abort = (eventsAbort = new AbortController());
  const list = element<HTMLOListElement>("#events");
  list.replaceChildren();
  for (;;) {
    try {
      for await (const { event, eventJson } of dashboard.watchEvents({ filters, recent: RECENT_EVENTS }, { signal: abort.signal })) {
        if (event === undefined) continue;
        const item = document.createElement("li");
        item.className = "event";
        item.dataset.topic = event.topic;
        const time = event.timestamp === undefined ? "" : timestampDate(event.timestamp).toLocaleTimeString();
        item.textContent = `${time} #${event.sequence} ${event.source} ${event.topic} ${eventJson}`;
        list.prepend(item);
        while (list.children.length > RECENT_EVENTS) list.lastElementChild?.remove();
      }
    } catch (error) {
      if (abort.signal.aborted) return;
      report(`events: ${describe(error)}`, true);
      if (error instanceof ConnectError && error.code === Code.InvalidArgument) return;
    }
    // The stream ended (the events component restarted): follow again after a pause.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (abort.signal.aborted) return;
  }
}

element<HTMLFormElement>("#event-filter").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = (new FormData(e.target as HTMLFormElement).get("filter") ?? "").toString();
  void followEvents(text.split("\n").map((f) => f.trim()).filter((f) => f !== ""));
});
element<HTMLButtonElement>("#logs-close").addEventListener("click", () => {
  logsAbort?.abort();
  element<HTMLElement>("#logs-section").hidden = true;
});

async function loop(every: () => number, run: () => Promise<unknown>): Promise<never> {
  for (;;) {
    await run().catch((error: unknown) => report(describe(error), true));
    await new Promise((resolve) => setTimeout(resolve, every()));
  }
}

let chartInterval = 2000;
void loop(() => POLL_MS, refreshTables);
void loop(() => chartInterval, async () => (chartInterval = await refreshCharts()));
void followEvents([]);
