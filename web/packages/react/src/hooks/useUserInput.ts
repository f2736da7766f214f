"use client";
import { useCallback, useState } from "react";
import { FlowMaestroError } from "@flowmaestro/client";
import { type FieldError, type JsonValue, fieldErrors } from "@flowmaestro/client";
import { useFlowMaestro } from "./context.js";
import { useExecutionEvents } from "./useExecutionEvents.js";

export interface SubmitError {
  error: FlowMaestroError;
  /** Per JSON pointer, for `invalid_input`. */
  fields: FieldError[];
}

/**
 * The execution's open prompts and a submit. A refused answer's error (with the schema
 * violations of `invalid_input`) is kept per prompt; an accepted one closes the prompt here
 * at once, and in every other tab when `user_input:received` arrives.
 */
export function useUserInput(executionId: string) {
  const { client, store } = useFlowMaestro();
  const { pendingInputs } = useExecutionEvents(executionId);
  const [errors, setErrors] = useState<Record<string, SubmitError>>({});
  const [submitting, setSubmitting] = useState<string | null>(null);

  const submit = useCallback(
    async (inputId: string, value: JsonValue): Promise<SubmitError | null> => {
      setSubmitting(inputId);
      try {
        const result = await client.provideInput(executionId, inputId, value);
        if (result.ok) {
          store.getState().markAnswered(executionId, inputId);
          setErrors(({ [inputId]: _, ...rest }) => rest);
          return null;
        }
        const failure = { error: FlowMaestroError.from(result.error), fields: fieldErrors(result.error) };
        setErrors((e) => ({ ...e, [inputId]: failure }));
        return failure;
      } finally {
        setSubmitting(null);
      }
    },
    [client, store, executionId],
  );

  return { prompts: pendingInputs, submit, errors, submitting };
}
