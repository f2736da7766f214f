// Time and memory of the store against the old one, in the same run (`npm run bench`):
// ingest time per event at 25k, 50k and 100k events (linear: the per-event time stays flat),
// and the heap kept after 200 executions whose agents streamed 2,000 tokens each.
import type { FlowEvent } from "@flowmaestro/client";
import { createFlowStore } from "@flowmaestro/react";
import { writeFileSync } from "node:fs";
import { it } from "vitest";
import { OldStore } from "./old-store";
import { workload } from "./workload";

const gc = (globalThis as { gc?: () => void }).gc;
function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

function ingestAll(ingest: (e: FlowEvent) => void, events: Iterable<FlowEvent>): number {
  const started = performance.now();
  for (const e of events) ingest(e);
  return performance.now() - started;
}

const rows: Record<string, unknown>[] = [];

it("store: ingest time and kept heap, bounded store vs the old one", () => {
  // Time per event as the stream grows: 10 executions at a time, 100k events in all.
  for (const total of [25_000, 50_000, 100_000]) {
    const tokens = Math.floor(total / 10) - 6;
    const fresh = createFlowStore();
    const ms = ingestAll(fresh.getState().ingest, workload(10, tokens));
    // The old store is quadratic: measured on its first 10,000 events.
    const old = new OldStore();
    const oldMs = ingestAll((e) => old.ingest(e), [...workload(10, tokens)].slice(0, 10_000));
    rows.push({
      measure: `ingest ${total} events`,
      new_us_per_event: +((ms * 1000) / total).toFixed(2),
      old_us_per_event_first_10k: +((oldMs * 1000) / 10_000).toFixed(2),
    });
  }
  // Memory: 200 executions x 2,000 tokens (401,200 events).
  const base = heap();
  const store = createFlowStore();
  const ms = ingestAll(store.getState().ingest, workload(200, 2000));
  const kept = heap() - base;
  const watched = createFlowStore();
  const leaves = Array.from({ length: 200 }, (_, i) => watched.getState().watch(`ex_${i}`));
  const baseWatched = heap();
  ingestAll(watched.getState().ingest, workload(200, 2000));
  const keptWatched = heap() - baseWatched;
  // The old store on 20 of the 200 executions (all 200 take many minutes: it is quadratic).
  const old = new OldStore();
  const baseOld = heap();
  const oldMs = ingestAll((e) => old.ingest(e), workload(20, 2000));
  const keptOld = heap() - baseOld;
  rows.push({
    measure: "200 executions x 2000 tokens",
    new_ms: Math.round(ms),
    new_heap_mb_unwatched: +(kept / 2 ** 20).toFixed(1),
    new_heap_mb_all_watched: +(keptWatched / 2 ** 20).toFixed(1),
    old_ms_20_executions: Math.round(oldMs),
    old_heap_mb_20_executions: +(keptOld / 2 ** 20).toFixed(1),
    gc: gc !== undefined,
  });
  for (const leave of leaves) leave();
  console.table(rows);
  writeFileSync(new URL("results/store.json", import.meta.url), JSON.stringify({ date: new Date().toISOString(), rows }, null, 1) + "\n");
  void [store, watched, old];
});
