import { describe, expect, it } from "vitest";
import { answerOf, fieldsOf } from "./schemaFields";

describe("prompt forms from JSON Schema", () => {
  it("makes one typed field per scalar input type", () => {
    expect(fieldsOf("number", { type: "number", minimum: 1 }, null).map((f) => f.kind)).toEqual(["number"]);
    expect(fieldsOf("boolean", { type: "boolean" }, null).map((f) => f.kind)).toEqual(["boolean"]);
    expect(fieldsOf("choice", { enum: ["a", "b"] }, ["a", "b"])[0]).toMatchObject({ kind: "choice", options: ["a", "b"] });
    expect(fieldsOf("json", {}, null)[0]?.kind).toBe("json");
  });

  it("makes a field per property of an object schema and builds the object back", () => {
    const fields = fieldsOf(
      "json",
      {
        type: "object",
        properties: { approved: { type: "boolean" }, amount: { type: "integer" }, note: { type: "string" } },
        required: ["approved"],
      },
      null,
    );
    expect(fields.map((f) => [f.path, f.kind, f.required])).toEqual([
      ["/approved", "boolean", true],
      ["/amount", "number", false],
      ["/note", "textarea", false],
    ]);
    expect(answerOf(fields, { "/approved": true, "/amount": "12", "/note": "" })).toEqual({ approved: true, amount: 12 });
  });

  it("sends what does not parse as typed, so the server names the problem", () => {
    const [number] = fieldsOf("number", { type: "number" }, null);
    expect(answerOf([number!], { "": "twelve" })).toBe("twelve");
    const [json] = fieldsOf("json", {}, null);
    expect(answerOf([json!], { "": "{bad" })).toBe("{bad");
    expect(answerOf([json!], { "": '{"a": 1}' })).toEqual({ a: 1 });
  });
});

describe("an unanswered boolean", () => {
  it("is sent as null for the server to refuse", () => {
    const fields = fieldsOf("boolean", { type: "boolean" }, null);
    expect(answerOf(fields, {})).toBeNull();
    expect(answerOf(fields, { "": false })).toBe(false);
  });
});
