import { describe, expect, it } from "vitest";
import { answerOf, expectation, fieldsOf } from "./schemaFields";

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

describe("what a field expects, in plain words", () => {
  const say = (inputType: string, schema: Record<string, never> | object, choices: string[] | null = null) =>
    expectation(fieldsOf(inputType, schema as never, choices)[0]!);
  it("says it from the schema", () => {
    expect(say("boolean", { type: "boolean" })).toBe("Choose Yes or No.");
    expect(say("number", { type: "number", minimum: 1, maximum: 10 })).toBe("Enter a number from 1 to 10.");
    expect(say("number", { type: "integer", minimum: 0 })).toBe("Enter a whole number of at least 0.");
    expect(say("choice", { enum: ["low", "high"] }, ["low", "high"])).toBe("Choose one of: low, high.");
    expect(say("text", { type: "string", minLength: 1 })).toBe("Enter an answer.");
    expect(say("text", { type: "string", minLength: 3, maxLength: 50 })).toBe("Enter 3 to 50 characters.");
  });
});
