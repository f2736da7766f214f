// @flowmaestro/client: the framework-free SDK (docs/sdk-typescript.md). Nothing here runs at
// import: no window, document or socket is touched until a client is built and connected.
export * from "./api.js";
export * from "./backoff.js";
export * from "./channels.js";
export * from "./client.js";
export * from "./errors.js";
export * from "./events.js";
// The HTTP client's own views of two generated bodies win over the generated ones.
export type { EventPage, ExecutionSnapshot } from "./api.js";
export { type StreamReady, subjectOf } from "./fallback.js";
export { PresenceBook } from "./presence.js";
