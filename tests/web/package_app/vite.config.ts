// A host app as a user would write it: the packages come from their npm tarballs; `vite
// preview` proxies the gateway so the app is same-origin with it.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const gateway = process.env.GATEWAY ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  preview: { proxy: { "/api": gateway, "/socket.io": { target: gateway, ws: true } } },
});
