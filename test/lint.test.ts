// `npm run lint:ts` catches what it is there for: a floating promise, an
// unused value and `any` flowing into typed code each fail it, naming the
// rule, and the same code written correctly passes. Real ESLint with the
// repository's config and the type checker, on a test file's path.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ESLint } from "eslint";
import { repoRoot } from "./support/contract-copy.js";

// With CI=true typescript-eslint assumes a single run over the files on disk
// and would type-check test/support/rejection.ts as it is there, not the text
// given: the test lints text, so it turns that assumption off.
process.env.TSESTREE_SINGLE_RUN = "false";

/** Lints code as if it were test/support/rejection.ts; returns the rule ids reported. */
async function rulesReported(code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repoRoot });
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, "test/support/rejection.ts") });
  return result!.messages.map((message) => message.ruleId ?? message.message);
}

describe("the TypeScript linter", { timeout: 120_000 }, () => {
  it("fails a floating promise, an unused value and unsafe any, and passes the fixed code", async () => {
    const broken = [
      "export async function work(): Promise<number> { return 1; }",
      "export function caller(): void { work(); }",
      "const unused = 3;",
      "export function parse(text: string): number { const value = JSON.parse(text); return value.count; }",
    ].join("\n");
    const reported = await rulesReported(broken);
    for (const rule of ["@typescript-eslint/no-floating-promises", "@typescript-eslint/no-unused-vars", "@typescript-eslint/no-unsafe-assignment", "@typescript-eslint/no-unsafe-return"]) {
      assert.ok(reported.includes(rule), `${rule} in ${reported.join(", ")}`);
    }
    const fixed = [
      "export async function work(): Promise<number> { return 1; }",
      "export function caller(): void { void work().catch(() => undefined); }",
      "export function parse(text: string): number { const value = JSON.parse(text) as { count: number }; return value.count; }",
    ].join("\n");
    assert.deepEqual(await rulesReported(fixed), []);
  });
});
