// Builds the dashboard's page into dist/web with esbuild: web/app.ts (and
// the CSS it imports) bundled and minified, beside index.html. Run by the
// package's build (npm run build:web), after `tsc -p web` type-checked it.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}dist/web`;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: `${root}web/app.ts` },
  bundle: true,
  minify: true,
  sourcemap: "linked",
  format: "esm",
  target: ["es2022"],
  outdir: out,
  logLevel: "warning",
});
copyFileSync(`${root}web/index.html`, `${out}/index.html`);
