// The public surface of @moby-core/init: the program, and the manifest reader for tools.
export { main, EXIT_BAD_MANIFEST } from "./main.js";
export { formatProblems, loadManifest, parseManifest } from "./manifest/parse-manifest.js";
export type { ComponentSpec, HealthPolicy, Manifest, ManifestProblem, RestartPolicy } from "./manifest/manifest.js";
