// In Chromium (bench/heap.mjs): a store watching 200 executions whose agents stream 2,000
// tokens each; the page reports when it is done, and the script reads the heap over CDP.
import { createFlowStore } from "@flowmaestro/react";
import { OldStore } from "../old-store";
import { workload } from "../workload";

declare global {
  interface Window {
    ingest(watched: boolean): number;
    ingestOld(executions: number): number;
    kept: unknown;
  }
}

window.ingest = (watched: boolean) => {
  const store = createFlowStore();
  if (watched) for (let i = 0; i < 200; i += 1) store.getState().watch(`ex_${i}`);
  let count = 0;
  for (const event of workload(200, 2000)) {
    store.getState().ingest(event);
    count += 1;
  }
  window.kept = store; // what a page keeps
  return count;
};

/** The old store (the baseline): it keeps everything, so 20 executions say enough. */
window.ingestOld = (executions: number) => {
  const store = new OldStore();
  let count = 0;
  for (const event of workload(executions, 2000)) {
    store.ingest(event);
    count += 1;
  }
  window.kept = store;
  return count;
};
