// `npm run bench`: the measurements of bench/ (not part of `npm test`), with a collectable heap.
import { defineConfig, mergeConfig } from "vite";
import base from "../vite.config";

const config = mergeConfig(base, defineConfig({ test: { pool: "forks", execArgv: ["--expose-gc"], testTimeout: 900_000 } }));
// (mergeConfig would append to the tests' include list.)
config.test.include = ["bench/*.measure.ts"];
export default config;
