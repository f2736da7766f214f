// Typed views over the generated wire types: events by name, acks as results.
import type {
  AppEvent,
  AuthRefreshAck,
  ErrorAck,
  ErrorBody,
  FlowEvent,
  OkAck,
  SubscribeAck,
} from "./generated/wire.js";

export type * from "./generated/wire.js";

export type EventType = FlowEvent["type"];
/** A custom event (`app:<name>`) of the user's own workflows; `Data` is its registered shape. */
export type AppEventOf<Name extends string, Data = unknown> = Omit<AppEvent, "type" | "data"> & {
  type: `app:${Name}`;
  data: Data;
};
export type EventOf<T extends EventType> = T extends `app:${string}`
  ? AppEvent
  : Extract<FlowEvent, { type: T }>;
export type EventMap = { [T in EventType]: EventOf<T> };
export type EventHandler<T extends EventType> = (event: EventOf<T>) => void;
export type ErrorCode = ErrorBody["code"];

export type SubscribeResult = SubscribeAck | ErrorAck;
export type ProvideInputResult = OkAck | ErrorAck;
export type AuthRefreshResult = AuthRefreshAck | ErrorAck;

// Every catalogue event name, checked both ways against the generated union at compile time
// (custom `app:<name>` events are an open family: `isAppEventType`).
const ALL = {
  "execution:started": true,
  "execution:updated": true,
  "execution:completed": true,
  "execution:failed": true,
  "node:started": true,
  "node:completed": true,
  "node:failed": true,
  "node:progress": true,
  "user_input:required": true,
  "user_input:received": true,
  "user_input:timeout": true,
  "kb:upload_started": true,
  "kb:processing": true,
  "kb:upload_completed": true,
  "kb:upload_failed": true,
  "agent:streaming_start": true,
  "agent:token": true,
  "agent:tool_call": true,
  "agent:streaming_end": true,
} as const satisfies Record<Exclude<EventType, AppEvent["type"]>, true>;

export const EVENT_TYPES = Object.keys(ALL) as EventType[];
const KNOWN = new Set<string>(EVENT_TYPES);
// As the server's `APP_NAME` (events/catalogue/app.py).
const APP_TYPE = /^app:[a-z0-9][a-z0-9_.-]{0,63}$/;

export function isAppEventType(name: string): name is AppEvent["type"] {
  return APP_TYPE.test(name);
}

export function isEventType(name: string): name is EventType {
  return KNOWN.has(name) || isAppEventType(name);
}

/** The `invalid_input` details of a refused answer: one message per JSON pointer. */
export interface FieldError {
  path: string;
  message: string;
}

export function fieldErrors(error: ErrorBody): FieldError[] {
  const details = error.details;
  if (details === null || typeof details !== "object" || Array.isArray(details)) return [];
  const errors = details["errors"];
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((e) =>
    e !== null && typeof e === "object" && !Array.isArray(e) && typeof e["message"] === "string"
      ? [{ path: typeof e["path"] === "string" ? e["path"] : "", message: e["message"] }]
      : [],
  );
}
