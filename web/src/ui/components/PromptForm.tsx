import { type FormEvent, useMemo, useState } from "react";
import type { SubmitError } from "../../react";
import type { JsonValue, UserInputRequiredData } from "../../sdk/events";
import { answerOf, type Field, fieldsOf } from "./schemaFields";

interface Props {
  prompt: UserInputRequiredData;
  error: SubmitError | undefined;
  busy: boolean;
  onSubmit: (value: JsonValue) => void;
}

/** A prompt as a form built from its answer's JSON Schema; the server's errors show inline. */
export function PromptForm({ prompt, error, busy, onSubmit }: Props) {
  const fields = useMemo(
    () => fieldsOf(prompt.inputType, prompt.schema, prompt.choices),
    [prompt.inputType, prompt.schema, prompt.choices],
  );
  const [raws, setRaws] = useState<Record<string, string | boolean>>({});
  const set = (path: string, raw: string | boolean) => setRaws((r) => ({ ...r, [path]: raw }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit(answerOf(fields, raws));
  };
  const fieldPaths = new Set(fields.map((f) => f.path));
  // Errors no field shows, unless the message already says them.
  const general = (error?.fields ?? []).filter(
    (f) => (!fieldPaths.has(f.path) || f.path === "") && !error?.error.message.includes(f.message),
  );
  return (
    <form className="prompt" data-testid={`prompt-${prompt.inputId}`} onSubmit={submit}>
      <p className="prompt-text">{prompt.prompt}</p>
      {prompt.expiresAt && <p className="small">answer before {new Date(prompt.expiresAt).toLocaleTimeString()}</p>}
      {fields.map((field) => (
        <FieldInput
          key={field.path}
          field={field}
          raw={raws[field.path]}
          onChange={(raw) => set(field.path, raw)}
          errors={(error?.fields ?? []).filter((f) => f.path === field.path && f.path !== "").map((f) => f.message)}
        />
      ))}
      {error && (
        <div className="error" data-testid="prompt-error" role="alert">
          <strong>{error.error.code}</strong>: {error.error.message}
          {general.length > 0 && (
            <ul>
              {general.map((f, i) => (
                <li key={i}>
                  {f.path && <code>{f.path}</code>} {f.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <button type="submit" data-testid="prompt-submit" disabled={busy}>
        Submit
      </button>
    </form>
  );
}

function FieldInput({
  field,
  raw,
  onChange,
  errors,
}: {
  field: Field;
  raw: string | boolean | undefined;
  onChange: (raw: string | boolean) => void;
  errors: string[];
}) {
  const id = `field${field.path.replace(/\//g, "-") || "-answer"}`;
  const testId = `prompt-field${field.path.replace(/\//g, "-")}`;
  let control;
  switch (field.kind) {
    case "boolean":
      // Yes/No with neither chosen: an unanswered boolean goes to the server as null.
      control = (
        <span id={id} className="choices">
          {([true, false] as const).map((v) => (
            <label key={String(v)}>
              <input
                type="radio"
                name={id}
                data-testid={`${testId}-${v ? "yes" : "no"}`}
                checked={raw === v}
                onChange={() => onChange(v)}
              />
              {v ? "Yes" : "No"}
            </label>
          ))}
        </span>
      );
      break;
    case "choice":
      control = (
        <select id={id} data-testid={testId} value={typeof raw === "string" ? raw : ""} onChange={(e) => onChange(e.target.value)}>
          <option value="">choose…</option>
          {field.options.map((o) => (
            <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
              {typeof o === "string" ? o : JSON.stringify(o)}
            </option>
          ))}
        </select>
      );
      break;
    case "number":
      control = (
        <input id={id} data-testid={testId} type="text" inputMode="decimal" value={typeof raw === "string" ? raw : ""} onChange={(e) => onChange(e.target.value)} />
      );
      break;
    case "text":
      control = (
        <input id={id} data-testid={testId} type="text" value={typeof raw === "string" ? raw : ""} onChange={(e) => onChange(e.target.value)} />
      );
      break;
    default:
      control = (
        <textarea
          id={id}
          data-testid={testId}
          rows={field.kind === "json" ? 4 : 2}
          placeholder={field.kind === "json" ? "JSON" : ""}
          value={typeof raw === "string" ? raw : ""}
          onChange={(e) => onChange(e.target.value)}
        />
      );
  }
  return (
    <div className={`field${errors.length ? " invalid" : ""}`}>
      <label htmlFor={id}>
        {field.label}
        {field.required && field.path !== "" ? " *" : ""}
      </label>
      {control}
      {field.description && <span className="small">{field.description}</span>}
      {errors.map((m, i) => (
        <span key={i} className="error small" data-testid={`${testId}-error`}>
          {m}
        </span>
      ))}
    </div>
  );
}
