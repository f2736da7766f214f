// One IIFE of heap/main.ts for bench/heap.mjs to put in a blank Chromium page.
import { defineConfig, mergeConfig } from "vite";
import base from "../../vite.config";

export default mergeConfig(
  base,
  defineConfig({
    build: {
      outDir: "bench/heap/dist",
      emptyOutDir: true,
      sourcemap: false,
      lib: { entry: "bench/heap/main.ts", formats: ["iife"], name: "heap", fileName: () => "heap.js" },
    },
  }),
);
