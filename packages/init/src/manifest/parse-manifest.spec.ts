import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { defaultRunDir } from "@moby-core/sdk/internal";
import { DEFAULTS, type Manifest, type ManifestProblem } from "./manifest.js";
import { formatProblems, loadManifest, parseManifest } from "./parse-manifest.js";

const FILE = "/srv/assembly/moby.yaml";

/** The YAML of these lines: line n of the text is argument n. */
const yaml = (...lines: string[]): string => `${lines.join("\n")}\n`;

function manifestOf(text: string, options: { runDir?: string } = {}): Manifest {
  const result = parseManifest(text, FILE, options);
  if ("problems" in result) assert.fail(`unexpected problems:\n${formatProblems("moby.yaml", result.problems)}`);
  return result.manifest;
}

function problemsOf(text: string, options: { runDir?: string } = {}): ManifestProblem[] {
  const result = parseManifest(text, FILE, options);
  if (!("problems" in result)) assert.fail("expected problems, the manifest was accepted");
  return result.problems;
}

/** The one problem on `field`, checked to be on `line` and to say `message`. */
function expectProblem(problems: ManifestProblem[], field: string, line: number, message: string | RegExp): ManifestProblem {
  const found = problems.filter((problem) => problem.field === field);
  const all = formatProblems("moby.yaml", problems);
  assert.equal(found.length, 1, `one problem on ${field} expected, got:\n${all}`);
  const problem = found[0]!;
  assert.equal(problem.line, line, `line of ${field}:\n${all}`);
  assert.ok(problem.column > 0, `column of ${field}`);
  if (typeof message === "string") assert.equal(problem.message, message);
  else assert.match(problem.message, message);
  return problem;
}

describe("parseManifest: a valid manifest", () => {
  it("parses every field, fills the defaults and makes paths absolute", () => {
    const manifest = manifestOf(
      yaml(
        "# the assembly",
        "runDir: run",
        "components:",
        "  container-store:",
        "    command: [node, store.js]",
        "  events:",
        '    command: ["node", "--import", "tsx", "packages/events/src/main.ts"]',
        '    env: { LOG: "debug", EMPTY: "" }',
        "    workingDir: packages/events",
        "    requires: [container-store, init]",
        "    services: [moby.events.v1.EventsService]",
        "    socket: sockets/events.sock",
        "    health: { interval: 1s, timeout: 500ms, retries: 2, startPeriod: 1m30s, startInterval: 50ms }",
        "    restart: { policy: always, delay: 1s, maxDelay: 1m, startLimitBurst: 10, startLimitInterval: 2h }",
        "    stopTimeout: 1.5s",
        "    config: { retention: { days: 7 }, topics: [a, b], enabled: true }",
      ),
    );
    assert.deepEqual(manifest, {
      file: FILE,
      runDir: "/srv/assembly/run",
      components: [
        {
          name: "container-store",
          command: ["node", "store.js"],
          env: {},
          workingDir: "/srv/assembly",
          requires: [],
          services: [],
          socket: "/srv/assembly/run/container-store.sock",
          health: { ...DEFAULTS.health },
          restart: { ...DEFAULTS.restart },
          stopTimeoutMs: DEFAULTS.stopTimeoutMs,
          config: {},
        },
        {
          name: "events",
          command: ["node", "--import", "tsx", "packages/events/src/main.ts"],
          env: { LOG: "debug", EMPTY: "" },
          workingDir: "/srv/assembly/packages/events",
          requires: ["container-store", "init"],
          services: ["moby.events.v1.EventsService"],
          socket: "/srv/assembly/run/sockets/events.sock",
          health: { intervalMs: 1_000, timeoutMs: 500, retries: 2, startPeriodMs: 90_000, startIntervalMs: 50 },
          restart: { mode: "always", delayMs: 1_000, maxDelayMs: 60_000, startLimitBurst: 10, startLimitIntervalMs: 7_200_000 },
          stopTimeoutMs: 1_500,
          config: { retention: { days: 7 }, topics: ["a", "b"], enabled: true },
        },
      ],
    });
  });

  it("takes policy: no as the string no, bare or quoted", () => {
    for (const policy of ["no", '"no"', "'no'"]) {
      const manifest = manifestOf(yaml("components:", "  a:", "    command: [x]", `    restart: { policy: ${policy} }`));
      assert.equal(manifest.components[0]?.restart.mode, "no");
    }
    const manifest = manifestOf(yaml("components:", "  a:", "    command: [x]", "    restart:", "      policy: no"));
    assert.equal(manifest.components[0]?.restart.mode, "no");
  });

  it("lets the --run-dir flag win over the manifest's runDir, and keeps absolute sockets", () => {
    const text = yaml("runDir: /run/moby", "components:", "  a: { command: [x], socket: /tmp/a.sock }", "  b: { command: [x] }");
    const manifest = manifestOf(text, { runDir: "/var/run/other" });
    assert.equal(manifest.runDir, "/var/run/other");
    assert.deepEqual(
      manifest.components.map((component) => component.socket),
      ["/tmp/a.sock", "/var/run/other/b.sock"],
    );
    assert.equal(manifestOf(text).runDir, "/run/moby");
  });

  it("uses the default run directory when neither the flag nor the manifest sets one", () => {
    const manifest = manifestOf(yaml("components:", "  a: { command: [x] }"));
    assert.equal(manifest.runDir, defaultRunDir());
    assert.equal(manifest.components[0]?.socket, join(defaultRunDir(), "a.sock"));
  });

  it("accepts a manifest without components, and follows YAML anchors", () => {
    assert.deepEqual(manifestOf(yaml("components: {}")).components, []);
    const manifest = manifestOf(
      yaml("components:", "  a:", "    command: [x]", "    env: &env { A: b }", "  b:", "    command: [y]", "    env: *env"),
    );
    assert.deepEqual(manifest.components[1]?.env, { A: "b" });
  });
});

describe("parseManifest: mistakes", () => {
  it("reports a YAML syntax error with its line", () => {
    const problems = problemsOf(yaml("components:", "  a:", "    command: [x, y", "  b: { command: [z] }"));
    assert.ok(problems.length >= 1);
    assert.ok(problems.every((problem) => problem.field === "" && problem.line > 0));
  });

  it("reports an empty manifest", () => {
    assert.match(problemsOf("")[0]!.message, /empty/);
    assert.match(problemsOf("# nothing\n")[0]!.message, /empty/);
  });

  it("reports two components with one name on the second", () => {
    const problems = problemsOf(yaml("components:", "  events:", "    command: [a]", "  events:", "    command: [b]"));
    expectProblem(problems, "components.events", 4, 'two components named "events" (the first on line 2)');
    assert.equal(problems.length, 1);
  });

  it("reports any other duplicate key", () => {
    const problems = problemsOf(yaml("components:", "  a:", "    command: [a]", "    env: { A: x, A: y }"));
    expectProblem(problems, "components.a.env.A", 4, 'duplicate key "A" (the first on line 4)');
  });

  it("reports unknown keys at every level, with their full path", () => {
    const problems = problemsOf(
      yaml(
        "runDri: /run/moby",
        "components:",
        "  events:",
        "    command: [x]",
        "    helth: { interval: 5s }",
        "    health: { intervall: 5s }",
        "    restart: { polcy: no }",
      ),
    );
    expectProblem(problems, "runDri", 1, 'unknown key "runDri" (did you mean "runDir"?)');
    expectProblem(problems, "components.events.helth", 5, 'unknown key "helth" (did you mean "health"?)');
    expectProblem(problems, "components.events.health.intervall", 6, /^unknown key "intervall"/);
    expectProblem(problems, "components.events.restart.polcy", 7, /^unknown key "polcy"/);
    assert.equal(problems.length, 4);
  });

  it("reports a missing or empty command on the component", () => {
    const problems = problemsOf(yaml("components:", "  a:", "    env: { A: b }", "  b:", "    command: []", "  c: { command: [''] }"));
    expectProblem(problems, "components.a.command", 2, "required, but missing");
    expectProblem(problems, "components.b.command", 5, "must not be empty");
    expectProblem(problems, "components.c.command", 6, "must not be empty");
  });

  it("reports values of the wrong type", () => {
    const problems = problemsOf(
      yaml("components:", "  a:", "    command: node main.js", "    env: { PORT: 8080 }", "    config: [1, 2]", "  b:"),
    );
    expectProblem(problems, "components.a.command", 3, '"node main.js" is not a list');
    expectProblem(problems, "components.a.env.PORT", 4, '8080 is not a string (write it in quotes: "8080")');
    expectProblem(problems, "components.a.config", 5, "expected a map, not a list");
    expectProblem(problems, "components.b", 6, "has no value (expected a map)");
  });

  it("reports bad component names and the reserved name init", () => {
    const problems = problemsOf(
      yaml("components:", "  Events: { command: [x] }", "  2fa: { command: [x] }", "  init: { command: [x] }", `  ${"a".repeat(64)}: { command: [x] }`),
    );
    expectProblem(problems, "components.Events", 2, /^"Events" is not a component name/);
    expectProblem(problems, "components.2fa", 3, /^"2fa" is not a component name/);
    expectProblem(problems, "components.init", 4, '"init" is reserved for the supervisor');
    expectProblem(problems, `components.${"a".repeat(64)}`, 5, /is not a component name/);
    assert.equal(problems.length, 4);
  });

  it("reports requirements that are not declared, self requirements and duplicates on their line", () => {
    const problems = problemsOf(
      yaml("components:", "  a:", "    command: [x]", "    requires:", "      - init", "      - container-store", "  b:", "    command: [x]", "    requires: [b]"),
    );
    expectProblem(problems, "components.a.requires", 6, '"container-store" is not a declared component');
    expectProblem(problems, "components.b.requires", 9, '"b" requires itself');
    const twice = problemsOf(yaml("components:", "  a: { command: [x] }", "  b:", "    command: [x]", "    requires: [a, a]"));
    expectProblem(twice, "components.b.requires", 5, '"a" is listed twice');
  });

  it("reports a dependency cycle once, printed", () => {
    const problems = problemsOf(
      yaml(
        "components:",
        "  a:",
        "    command: [x]",
        "    requires: [b]",
        "  b:",
        "    command: [x]",
        "    requires: [c]",
        "  c:",
        "    command: [x]",
        "    requires: [a]",
      ),
    );
    assert.equal(problems.length, 1);
    expectProblem(problems, "components.a.requires", 4, "dependency cycle: a -> b -> c -> a");
    assert.equal(formatProblems("moby.yaml", problems), "moby.yaml:4:16: components.a.requires: dependency cycle: a -> b -> c -> a");
  });

  it("reports two components with one socket, defaulted or declared, and init's socket", () => {
    const problems = problemsOf(
      yaml(
        "runDir: /run/moby",
        "components:",
        "  a: { command: [x] }",
        "  b:",
        "    command: [x]",
        "    socket: a.sock",
        "  c:",
        "    command: [x]",
        "    socket: /run/moby/d.sock",
        "  d: { command: [x] }",
        "  e: { command: [x], socket: init.sock }",
      ),
    );
    expectProblem(problems, "components.b.socket", 6, 'socket /run/moby/a.sock is also the socket of component "a"');
    expectProblem(problems, "components.d", 10, 'socket /run/moby/d.sock is also the socket of component "c"');
    expectProblem(problems, "components.e.socket", 11, "socket /run/moby/init.sock is init's own socket");
    assert.equal(problems.length, 3);
  });

  it("reports a socket path too long for a unix socket", () => {
    const problems = problemsOf(yaml("components:", `  a: { command: [x], socket: /${"s".repeat(120)}.sock }`));
    expectProblem(problems, "components.a.socket", 2, /bytes long; a unix socket's path may have at most/);
  });

  it("reports bad durations and numbers", () => {
    const problems = problemsOf(
      yaml(
        "components:",
        "  events:",
        "    command: [x]",
        "    health:",
        "      interval: 5 seconds",
        "      timeout: 0s",
        "      retries: 0",
        "      startPeriod: 5",
        "      startInterval: -1s",
        "    restart:",
        "      policy: sometimes",
        "      delay: 1d",
        "      startLimitBurst: 1.5",
        "    stopTimeout: 10",
      ),
    );
    const duration = (text: string) => `${text} is not a duration (examples: 500ms, 5s, 1m30s)`;
    expectProblem(problems, "components.events.health.interval", 5, duration('"5 seconds"'));
    expectProblem(problems, "components.events.health.timeout", 6, "must be more than 0");
    expectProblem(problems, "components.events.health.retries", 7, "0 is less than 1");
    expectProblem(problems, "components.events.health.startPeriod", 8, duration("5"));
    expectProblem(problems, "components.events.health.startInterval", 9, duration('"-1s"'));
    expectProblem(problems, "components.events.restart.policy", 11, '"sometimes" is not one of: no, on-failure, always');
    expectProblem(problems, "components.events.restart.delay", 12, duration('"1d"'));
    expectProblem(problems, "components.events.restart.startLimitBurst", 13, "1.5 is not an integer");
    expectProblem(problems, "components.events.stopTimeout", 14, duration("10"));
    assert.equal(problems.length, 9);
  });

  it("reports a maxDelay below delay", () => {
    const problems = problemsOf(yaml("components:", "  a:", "    command: [x]", "    restart: { delay: 20s, maxDelay: 5s }"));
    expectProblem(problems, "components.a.restart.maxDelay", 4, "maxDelay (5s) must not be less than delay (20s)");
    const defaulted = problemsOf(yaml("components:", "  a:", "    command: [x]", "    restart:", "      delay: 1m"));
    expectProblem(defaulted, "components.a.restart.delay", 5, "maxDelay (10s) must not be less than delay (1m)");
  });

  it("reports bad service names", () => {
    const problems = problemsOf(yaml("components:", "  a:", "    command: [x]", "    services: [moby.events.v1.EventsService, Events]"));
    expectProblem(problems, "components.a.services", 4, /^"Events" is not a fully qualified service name/);
  });

  it("reports all mistakes at once, sorted by line", () => {
    const text = yaml(
      "components:", // 1
      "  events:", // 2
      "    command: [node, main.js]", // 3
      "    helth: {}", // 4
      "    requires: [store, nope]", // 5
      "    health: { interval: 5 seconds }", // 6
      "  store:", // 7
      "    requires: [events]", // 8
      "  Bad: { command: [x] }", // 9
      "  events:", // 10
      "    command: [y]", // 11
      "extra: 1", // 12
    );
    const problems = problemsOf(text);
    expectProblem(problems, "components.events.helth", 4, /^unknown key "helth"/);
    const requires = problems.filter((problem) => problem.field === "components.events.requires");
    assert.deepEqual(
      requires.map((problem) => [problem.line, problem.message]),
      [
        [5, "dependency cycle: events -> store -> events"],
        [5, '"nope" is not a declared component'],
      ],
    );
    expectProblem(problems, "components.events.health.interval", 6, /is not a duration/);
    expectProblem(problems, "components.store.command", 7, "required, but missing");
    expectProblem(problems, "components.Bad", 9, /is not a component name/);
    expectProblem(problems, "components.events", 10, /two components named "events"/);
    expectProblem(problems, "extra", 12, 'unknown key "extra"');
    assert.equal(problems.length, 8);
    const lines = problems.map((problem) => problem.line);
    assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
  });
});

describe("formatProblems", () => {
  it("writes one line per problem: file, line, column, field, message", () => {
    const problems: ManifestProblem[] = [
      { line: 12, column: 5, field: "components.events.health.interval", message: '"5 seconds" is not a duration' },
      { line: 3, column: 1, field: "", message: "a syntax error" },
      { line: 0, column: 0, field: "", message: "cannot read the manifest" },
    ];
    assert.equal(
      formatProblems("moby.yaml", problems),
      [
        'moby.yaml:12:5: components.events.health.interval: "5 seconds" is not a duration',
        "moby.yaml:3:1: a syntax error",
        "moby.yaml: cannot read the manifest",
      ].join("\n"),
    );
  });
});

describe("loadManifest", () => {
  it("reads the file and resolves paths against its directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "moby-manifest-"));
    try {
      const file = join(dir, "moby.yaml");
      await writeFile(file, yaml("runDir: run", "components:", "  a: { command: [x], workingDir: sub }"));
      const result = await loadManifest(file);
      assert.ok("manifest" in result);
      assert.equal(result.manifest.file, file);
      assert.equal(result.manifest.runDir, join(dir, "run"));
      assert.equal(result.manifest.components[0]?.workingDir, join(dir, "sub"));
      assert.equal(result.manifest.components[0]?.socket, join(dir, "run", "a.sock"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reports a file that cannot be read", async () => {
    const result = await loadManifest("/nonexistent/moby.yaml");
    assert.ok("problems" in result);
    assert.match(result.problems[0]!.message, /cannot read the manifest/);
  });
});

describe("parseManifest: contained components", () => {
  it("reads the container section: the layout resolved, the socket in a directory of its own, command optional", async () => {
    const dir = await mkdtemp(join(tmpdir(), "manifest-contained-"));
    try {
      await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
      const result = parseManifest(
        yaml(
          "components:",
          "  events:",
          `    container: { image: ${dir}, capabilities: [CAP_CHOWN], network: host, mounts: [{ source: /srv/data }, { source: /a, target: /b, readonly: false }] }`,
          "  store:",
          "    command: [node, store.js]",
        ),
        FILE,
        { runDir: "/run/m" },
      );
      if ("problems" in result) assert.fail(formatProblems("moby.yaml", result.problems));
      const [events, store] = result.manifest.components;
      assert.deepEqual(events!.container, {
        image: dir,
        ref: "",
        network: "host",
        capabilities: ["CAP_CHOWN"],
        mounts: [
          { source: "/srv/data", target: "/srv/data", readonly: true },
          { source: "/a", target: "/b", readonly: false },
        ],
      });
      assert.deepEqual(events!.command, []);
      assert.equal(events!.socket, "/run/m/sockets/events/events.sock");
      assert.equal(store!.container, undefined);
      assert.equal(store!.socket, "/run/m/store.sock", "a host process keeps its socket in the run directory");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reports every mistake of a container section with its line", () => {
    const problems = problemsOf(
      yaml(
        "components:",
        "  a:",
        "    container: { image: /nonexistent/layout, network: bridge }",
        "  b:",
        "    workingDir: .",
        "    socket: b.sock",
        "    container:",
        "      image: /nonexistent/other",
        "      capabilities: [chown]",
        "      mounts: [{ source: relative/dir }]",
        "      user: root",
        "  c:",
        "    container: { ref: x }",
      ),
    );
    expectProblem(problems, "components.a.container.image", 3, /^\/nonexistent\/layout is not an OCI image layout \(no oci-layout file in it\); build the images with `npm run images`$/);
    expectProblem(problems, "components.a.container.network", 3, '"bridge" is not one of: none, host');
    expectProblem(problems, "components.b.workingDir", 5, /^a contained component starts in its image's working directory/);
    expectProblem(problems, "components.b.socket", 6, /^a contained component's socket must be in a directory of its own/);
    expectProblem(problems, "components.b.container.image", 8, /is not an OCI image layout/);
    expectProblem(problems, "components.b.container.capabilities", 9, '"chown" is not a capability name (for example CAP_CHOWN)');
    expectProblem(problems, "components.b.container.mounts.source", 10, '"relative/dir" is not an absolute path');
    expectProblem(problems, "components.b.container.user", 11, 'unknown key "user"');
    expectProblem(problems, "components.c.container.image", 13, "required, but missing");
  });
});

describe("parseManifest: enabled", () => {
  it("runs a component unless it says enabled: false; a disabled one is still checked", () => {
    const manifest = manifestOf(
      yaml(
        "components:",
        "  events:",
        "    enabled: true",
        "    command: [node, events.js]",
        "  dashboard:",
        "    enabled: false",
        "    command: [node, dashboard.js]",
        "    requires: [events]",
      ),
    );
    assert.deepEqual(manifest.components.map((c) => c.name), ["events"]);
    const problems = problemsOf(yaml("components:", "  dashboard:", "    enabled: false", "    command: []"));
    expectProblem(problems, "components.dashboard.command", 4, "must not be empty");
  });

  it("refuses a value that is not true or false, naming the field", () => {
    expectProblem(problemsOf(yaml("components:", "  dashboard:", "    enabled: off", "    command: [x]")), "components.dashboard.enabled", 3, '"off" is not true or false');
  });

  it("refuses a requirement on a disabled component", () => {
    const problems = problemsOf(
      yaml("components:", "  events:", "    enabled: false", "    command: [x]", "  dashboard:", "    command: [y]", "    requires: [events]"),
    );
    expectProblem(problems, "components.dashboard.requires", 7, '"events" is disabled (enabled: false): enable it, or remove the requirement');
  });
});
