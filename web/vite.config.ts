/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defaultClientConditions, defaultServerConditions, defineConfig } from "vite";

// The gateway serves web/dist at `/`; `npm run dev` proxies the API and Socket.IO to it.
const gateway = process.env.FLOWMAESTRO_GATEWAY ?? "http://127.0.0.1:8000";
// The demo and the tests use the packages' sources (their `flowmaestro-source` export), so
// nothing needs building first; users get the built dist/ through the same package names.
const source = "flowmaestro-source";

export default defineConfig({
  plugins: [react()],
  resolve: { conditions: [source, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [source, ...defaultServerConditions], externalConditions: [source] } },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      "/api": gateway,
      "/socket.io": { target: gateway, ws: true },
    },
  },
  test: {
    include: ["src/**/*.test.{ts,tsx}", "packages/*/src/**/*.test.{ts,tsx}", "sdk-examples/*.test.ts"],
    environment: "node",
  },
});
