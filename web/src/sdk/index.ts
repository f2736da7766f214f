export * from "./api";
export * from "./backoff";
export * from "./channels";
export * from "./client";
export * from "./errors";
export * from "./events";
