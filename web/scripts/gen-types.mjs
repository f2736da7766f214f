// Turns the checked-in JSON Schema of the Python wire models (web/packages/client/src/generated/
// wire.schema.json, written by `flowmaestro schema`) into TypeScript (wire.ts).
// `--check` writes nothing and exits 1 when wire.ts differs from what the schema gives.
import { readFile, writeFile } from "node:fs/promises";
import { compile } from "json-schema-to-typescript";

const dir = new URL("../packages/client/src/generated/", import.meta.url);
const schemaPath = process.argv.find((a) => a.endsWith(".json")) ?? new URL("wire.schema.json", dir);
const outPath = new URL("wire.ts", dir);

const schema = JSON.parse(await readFile(schemaPath, "utf8"));
const banner =
  "/* Generated from the Python event and protocol models by `npm run gen:types`; do not edit.\n" +
  " * Regenerate: .venv/bin/flowmaestro schema > web/packages/client/src/generated/wire.schema.json &&\n" +
  " *             (cd web && npm run gen:types) */";
const ts = await compile(schema, "WireSchema", {
  bannerComment: banner,
  additionalProperties: false,
  unreachableDefinitions: true,
  format: true,
});

if (process.argv.includes("--check")) {
  const current = await readFile(outPath, "utf8").catch(() => "");
  if (current !== ts) {
    console.error("wire.ts is stale: run `npm run gen:types` (see its banner)");
    process.exit(1);
  }
  console.log("wire.ts matches the schema");
} else {
  await writeFile(outPath, ts);
  console.log(`wrote ${outPath.pathname}`);
}
