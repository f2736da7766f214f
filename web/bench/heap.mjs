// `npm run bench:heap`: the store's kept heap in Chromium (CDP's Runtime.getHeapUsage after
// HeapProfiler.collectGarbage) for a page watching 200 executions whose agents stream 2,000
// tokens each, the same page once nobody watches them, and the old store (bench/old-store.ts)
// on 20 of those executions. Writes results/store-heap.json.
import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { launch } from "../e2e/browser.mjs";

execFileSync("npx", ["vite", "build", "--config", "bench/heap/vite.config.ts", "--logLevel", "warn"], { stdio: "inherit" });
const script = await readFile(new URL("heap/dist/heap.js", import.meta.url), "utf8");
const browser = await launch();
const rows = [];
try {
  for (const run of ["watched", "unwatched", "old"]) {
    const page = await browser.newPage();
    await page.setContent("<!doctype html><title>heap</title>");
    await page.addScriptTag({ content: script });
    const cdp = await page.context().newCDPSession(page);
    const used = async () => {
      await cdp.send("HeapProfiler.collectGarbage");
      return (await cdp.send("Runtime.getHeapUsage")).usedSize;
    };
    const before = await used();
    const started = Date.now();
    const events = await page.evaluate((r) => (r === "old" ? window.ingestOld(20) : window.ingest(r === "watched")), run);
    const ms = Date.now() - started;
    const kept = (await used()) - before;
    const name = { watched: "200 executions, all watched", unwatched: "200 executions, none watched", old: "old store, 20 executions" }[run];
    rows.push({ store: name, events, ms, heap_mb: +(kept / 2 ** 20).toFixed(1) });
    await page.close();
  }
} finally {
  await browser.close();
}
console.table(rows);
await writeFile(new URL("results/store-heap.json", import.meta.url), JSON.stringify({ date: new Date().toISOString(), browser: "chromium", rows }, null, 1) + "\n");
