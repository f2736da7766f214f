import { describe, expect, it } from "vitest";
import type { UserInputRequiredData } from "@flowmaestro/client";
import { mayAnswer, waitsFor } from "./assignees";

const prompt = (extra: Partial<UserInputRequiredData> = {}): UserInputRequiredData => ({
  inputId: "in_1",
  nodeId: "approve",
  prompt: "Approve?",
  inputType: "boolean",
  schema: { type: "boolean" },
  choices: null,
  timeoutSeconds: null,
  expiresAt: null,
  ...extra,
});

describe("who a prompt waits for", () => {
  const finance = prompt({ assignees: { users: ["zoe"], groups: ["finance"] }, excludeRequester: true });

  it("names the groups and users, or the owner", () => {
    expect(waitsFor(finance, "alice")).toBe("finance, zoe");
    expect(waitsFor(prompt(), "alice")).toBe("alice");
  });

  it("offers the form to an assignee only, never to an excluded requester", () => {
    expect(mayAnswer(finance, { user: "carol", groups: ["finance"] }, "alice")).toBe(true);
    expect(mayAnswer(finance, { user: "zoe", groups: [] }, "alice")).toBe(true);
    expect(mayAnswer(finance, { user: "bob", groups: ["ops"] }, "alice")).toBe(false);
    expect(mayAnswer(finance, { user: "alice", groups: ["finance"] }, "alice")).toBe(false);
  });

  it("leaves a prompt without assignees to the owner", () => {
    expect(mayAnswer(prompt(), { user: "alice", groups: [] }, "alice")).toBe(true);
    expect(mayAnswer(prompt(), { user: "bob", groups: [] }, "alice")).toBe(false);
  });
});
