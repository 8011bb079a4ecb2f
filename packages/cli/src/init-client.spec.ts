import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@moby-core/sdk";
import { ComponentSchema, ListComponentsResponseSchema } from "@moby-core/supervisor-api/v1";
import type { ListComponentsRequest } from "@moby-core/supervisor-api/v1";
import { CliError, listAllComponents, translateError, unreachableMessage } from "./init-client.js";
import type { SupervisorClient } from "./init-client.js";

const socket = "/run/moby/init.sock";

/** An errno error as node:net reports it. */
function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`connect ${code} ${socket}`), { code });
}

describe("translateError", () => {
  it("says init is not running when nothing listens on the socket", () => {
    for (const code of ["ENOENT", "ECONNREFUSED"]) {
      const error = new ConnectError(`no component is serving on ${socket} (${code})`, Code.Unavailable, undefined, undefined, errno(code));
      const translated = translateError(error, socket);
      assert.equal(translated.message, unreachableMessage(socket));
      assert.equal(translated.exitCode, 125, "init unreachable is moby's own failure, as docker's 125");
    }
    assert.equal(
      unreachableMessage(socket),
      "cannot reach init at /run/moby/init.sock: is moby-init running? (set --run-dir or $MOBY_RUN_DIR)",
    );
  });

  it("finds the errno deeper in the cause chain", () => {
    const error = new ConnectError("failed", Code.Unknown, undefined, undefined, new Error("wrapped", { cause: errno("ENOENT") }));
    assert.equal(translateError(error, socket).message, unreachableMessage(socket));
  });

  it("says so when the socket may not be used", () => {
    const error = new ConnectError("denied", Code.Unavailable, undefined, undefined, errno("EACCES"));
    assert.match(translateError(error, socket).message, /^cannot reach init at \/run\/moby\/init\.sock: permission denied/);
  });

  it("passes init's own message through, without the code prefix", () => {
    for (const [message, code, exitCode] of [
      ['component "nope" is not declared in the manifest', Code.NotFound, 1],
      ['"events" requires "store", which is not ready', Code.FailedPrecondition, 1],
      ["init is shutting down", Code.Unavailable, 125],
    ] as const) {
      const translated = translateError(new ConnectError(message, code), socket);
      assert.equal(translated.message, message);
      assert.equal(translated.exitCode, exitCode, "a refusal is 1, a failure of init 125");
    }
  });

  it("names a code that came without a message", () => {
    assert.equal(translateError(new ConnectError("", Code.Internal), socket).message, "Internal");
  });

  it("leaves a CliError as it is", () => {
    const error = new CliError("already explained", 3);
    assert.equal(translateError(error, socket), error);
  });
});

describe("listAllComponents", () => {
  it("follows next_page_token to the last page", async () => {
    const requests: string[] = [];
    const pages: Record<string, { names: string[]; next: string }> = {
      "": { names: ["init", "store"], next: "p2" },
      p2: { names: ["events"], next: "" },
    };
    const fake = {
      listComponents(request: Partial<ListComponentsRequest>) {
        const token = request.pageToken ?? "";
        requests.push(token);
        const page = pages[token]!;
        return Promise.resolve(
          create(ListComponentsResponseSchema, {
            components: page.names.map((name) => create(ComponentSchema, { name })),
            nextPageToken: page.next,
          }),
        );
      },
    } as unknown as SupervisorClient;
    const components = await listAllComponents(fake);
    assert.deepEqual(
      components.map((c) => c.name),
      ["init", "store", "events"],
    );
    assert.deepEqual(requests, ["", "p2"]);
  });
});
