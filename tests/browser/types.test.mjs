// server/web/qrlogin.d.ts describes the SDK as a site uses it (tsc --strict),
// and the SDK's modules type-check against it and the generated wire types.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

test("a site's use of the SDK type-checks against qrlogin.d.ts", () => {
  const tsc = fileURLToPath(new URL("node_modules/typescript/bin/tsc", import.meta.url));
  const use = fileURLToPath(new URL("types/use.ts", import.meta.url));
  const run = spawnSync(process.execPath, [
    tsc, "--strict", "--noEmit", "--target", "es2022", "--module", "es2022",
    "--moduleResolution", "bundler", "--lib", "es2022,dom", use,
  ], { encoding: "utf8" });
  assert.equal(run.status, 0, `tsc found type errors:\n${run.stdout}${run.stderr}`);
});

test("the SDK's modules type-check against the generated wire types (// @ts-check)", () => {
  const tsc = fileURLToPath(new URL("node_modules/typescript/bin/tsc", import.meta.url));
  const project = fileURLToPath(new URL("tsconfig.sdk.json", import.meta.url));
  const run = spawnSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" });
  assert.equal(run.status, 0, `tsc found type errors:\n${run.stdout}${run.stderr}`);
});
