import { type FormEvent, useMemo, useState } from "react";
import type { SubmitError } from "@flowmaestro/react";
import type { JsonValue, UserInputRequiredData } from "@flowmaestro/client";
import { formatCountdown, formatDateTime } from "./format";
import { answerOf, expectation, type Field, fieldsOf } from "./schemaFields";
import { useNow } from "./useNow";

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
  const refused = (error?.fields ?? []).map((f) => f.path);
  // A refused field says what it expects in plain words, built from its schema.
  const fieldMessage = (field: Field) => (refused.includes(field.path) ? [expectation(field)] : []);
  const general = (error?.fields ?? []).filter((f) => !fieldPaths.has(f.path));
  const title = error?.error.code === "invalid_input" ? "Please check your answer." : error?.error.message;
  return (
    <form className="prompt" data-testid={`prompt-${prompt.inputId}`} onSubmit={submit} noValidate>
      <p className="prompt-text" id={`prompt-text-${prompt.inputId}`}>
        {prompt.prompt}
      </p>
      {prompt.expiresAt && <Deadline expiresAt={prompt.expiresAt} />}
      {fields.map((field) => (
        <FieldInput
          key={field.path}
          field={field}
          raw={raws[field.path]}
          onChange={(raw) => set(field.path, raw)}
          errors={fieldMessage(field)}
        />
      ))}
      {error && (
        <div className="alert alert-error" data-testid="prompt-error" data-code={error.error.code} role="alert">
          <strong>{title}</strong>
          {general.length > 0 && (
            <ul>
              {general.map((f, i) => (
                <li key={i}>{f.message}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <div className="actions">
        <button type="submit" className="btn btn-primary" data-testid="prompt-submit" disabled={busy}>
          {busy ? "Sending…" : "Submit answer"}
        </button>
      </div>
    </form>
  );
}

/** "Answer by Tue 2 Dec 2026, 21:05:09 · in 23 h 59 min", counting down live. */
function Deadline({ expiresAt }: { expiresAt: string }) {
  const deadline = Date.parse(expiresAt);
  const now = useNow(true);
  return (
    <p className="deadline" data-testid="deadline">
      <span>
        Answer by <time dateTime={expiresAt}>{formatDateTime(deadline)}</time>
      </span>
      <span className="countdown" data-testid="countdown" aria-live="off">
        {formatCountdown(deadline, now)}
      </span>
    </p>
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
        <span id={id} className="choices" role="radiogroup" aria-labelledby={`${id}-label`}>
          {([true, false] as const).map((v) => (
            <label key={String(v)} className="choice">
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
  const label = field.path === "" ? "Your answer" : field.label;
  return (
    <div className={`field${errors.length ? " invalid" : ""}`}>
      {field.kind === "boolean" ? (
        <span id={`${id}-label`} className="field-label">
          {label}
        </span>
      ) : (
        <label htmlFor={id} id={`${id}-label`} className="field-label">
          {label}
          {field.required && field.path !== "" ? " (required)" : ""}
        </label>
      )}
      {control}
      {field.description && <span className="hint">{field.description}</span>}
      {errors.map((m, i) => (
        <span key={i} className="field-error" data-testid={`${testId}-error`}>
          {m}
        </span>
      ))}
    </div>
  );
}
