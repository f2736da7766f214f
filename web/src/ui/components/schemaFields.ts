// How a prompt's answer schema becomes form fields, and the typed answer back from them.
import type { JsonValue } from "@flowmaestro/client";

export type FieldKind = "text" | "textarea" | "number" | "boolean" | "choice" | "json";

export interface Field {
  /** JSON Pointer of the value ("" for the whole answer, "/name" for an object property). */
  path: string;
  label: string;
  kind: FieldKind;
  options: JsonValue[];
  required: boolean;
  description: string | null;
  /** The field's own schema, for messages in plain words. */
  schema: Schema;
}

type Schema = { [key: string]: JsonValue };

const isObject = (v: JsonValue | undefined): v is Schema =>
  v !== null && typeof v === "object" && !Array.isArray(v);

function kindOf(schema: Schema, fallback: FieldKind): FieldKind {
  if (Array.isArray(schema["enum"])) return "choice";
  switch (schema["type"]) {
    case "string":
      return typeof schema["maxLength"] === "number" && schema["maxLength"] <= 200 ? "text" : "textarea";
    case "number":
    case "integer":
      return "number";
    case "boolean":
      return "boolean";
    default:
      return fallback;
  }
}

/** One field for a scalar answer; one per property for an object schema with properties. */
export function fieldsOf(inputType: string, schema: Schema, choices: JsonValue[] | null): Field[] {
  const properties = schema["properties"];
  if (inputType === "json" && isObject(properties) && Object.keys(properties).length > 0) {
    const required = Array.isArray(schema["required"]) ? schema["required"] : [];
    return Object.entries(properties).map(([name, sub]) => {
      const s = isObject(sub) ? sub : {};
      return {
        path: `/${name}`,
        label: typeof s["title"] === "string" ? s["title"] : name,
        kind: kindOf(s, "json"),
        options: Array.isArray(s["enum"]) ? s["enum"] : [],
        required: required.includes(name),
        description: typeof s["description"] === "string" ? s["description"] : null,
        schema: s,
      };
    });
  }
  const kind: FieldKind =
    inputType === "choice" ? "choice" : inputType === "json" ? "json" : kindOf(schema, inputType as FieldKind);
  return [
    {
      path: "",
      label: "Answer",
      kind: kind === "text" && inputType === "text" ? "text" : kind,
      options: choices ?? (Array.isArray(schema["enum"]) ? schema["enum"] : []),
      required: true,
      description: typeof schema["description"] === "string" ? schema["description"] : null,
      schema,
    },
  ];
}

/**
 * A field's raw form value as JSON. What does not parse (or was left empty) is sent as it is
 * (or null): the server validates against the schema and says what is wrong.
 */
export function valueOf(field: Field, raw: string | boolean | undefined): JsonValue {
  switch (field.kind) {
    case "boolean":
      return typeof raw === "boolean" ? raw : null;
    case "number": {
      if (typeof raw !== "string" || raw.trim() === "") return null;
      const n = Number(raw);
      return Number.isNaN(n) ? raw : n;
    }
    case "choice":
      return typeof raw === "string" && raw !== "" ? (JSON.parse(raw) as JsonValue) : null;
    case "json":
      if (typeof raw !== "string" || raw.trim() === "") return null;
      try {
        return JSON.parse(raw) as JsonValue;
      } catch {
        return raw;
      }
    default:
      return typeof raw === "string" ? raw : "";
  }
}

/** The answer the fields spell: the single value, or an object of the filled-in properties. */
export function answerOf(fields: Field[], raws: Record<string, string | boolean>): JsonValue {
  if (fields.length === 1 && fields[0]!.path === "") return valueOf(fields[0]!, raws[""]);
  const answer: { [key: string]: JsonValue } = {};
  for (const field of fields) {
    const raw = raws[field.path];
    if (raw === undefined || raw === "") continue;
    answer[field.path.slice(1)] = valueOf(field, raw);
  }
  return answer;
}

const show = (v: JsonValue) => (typeof v === "string" ? v : JSON.stringify(v));

/**
 * What a field expects, in plain words built from its schema: "Choose Yes or No.", "Enter a
 * number from 1 to 10." Shown instead of the validator's wording when an answer is refused.
 */
export function expectation(field: Field): string {
  const s = field.schema;
  const min = typeof s["minimum"] === "number" ? s["minimum"] : null;
  const max = typeof s["maximum"] === "number" ? s["maximum"] : null;
  switch (field.kind) {
    case "boolean":
      return "Choose Yes or No.";
    case "choice":
      return field.options.length > 0 && field.options.length <= 6
        ? `Choose one of: ${field.options.map(show).join(", ")}.`
        : "Choose one of the options.";
    case "number": {
      const what = s["type"] === "integer" ? "a whole number" : "a number";
      if (min !== null && max !== null) return `Enter ${what} from ${min} to ${max}.`;
      if (min !== null) return `Enter ${what} of at least ${min}.`;
      if (max !== null) return `Enter ${what} of at most ${max}.`;
      return `Enter ${what}.`;
    }
    case "json":
      return "Enter valid JSON of the expected shape.";
    default: {
      const lo = typeof s["minLength"] === "number" ? s["minLength"] : null;
      const hi = typeof s["maxLength"] === "number" ? s["maxLength"] : null;
      if (lo !== null && lo > 0 && hi !== null) return `Enter ${lo} to ${hi} characters.`;
      if (lo !== null && lo > 0) return lo === 1 ? "Enter an answer." : `Enter at least ${lo} characters.`;
      if (hi !== null) return `Enter at most ${hi} characters.`;
      return "Enter an answer.";
    }
  }
}
