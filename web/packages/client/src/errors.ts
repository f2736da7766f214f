// The SDK's one error type: every refusal carries the protocol's code.
import type { ErrorBody, ErrorCode } from "./events.js";

export class FlowMaestroError extends Error {
  readonly code: ErrorCode | "network";
  readonly details: unknown;

  constructor(code: ErrorCode | "network", message: string, details: unknown = null) {
    super(message);
    this.name = "FlowMaestroError";
    this.code = code;
    this.details = details;
  }

  static from(body: ErrorBody): FlowMaestroError {
    return new FlowMaestroError(body.code, body.message, body.details);
  }
}
