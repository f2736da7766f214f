import { useEffect, useState } from "react";
import { useFlowMaestro } from "@flowmaestro/react";
import { FlowMaestroError, type InboxPrompt } from "@flowmaestro/client";
import { waitsFor } from "../components/assignees";
import { formatDateTime } from "../components/format";
import { executionHref } from "../route";

/** What waits for me (docs/teams.md, Inbox): oldest first, with deadlines. The list is the
 * server's; a prompt event on my channels (an assignment, an answer, a timeout) reloads it. */
export function InboxPage() {
  const { client } = useFlowMaestro();
  const [prompts, setPrompts] = useState<InboxPrompt[] | null>(null);
  const [error, setError] = useState<FlowMaestroError | null>(null);
  useEffect(() => {
    let stale = false;
    const load = () =>
      client.api.inbox().then(
        (page) => !stale && setPrompts(page.prompts),
        (err: unknown) =>
          !stale && setError(err instanceof FlowMaestroError ? err : new FlowMaestroError("internal", String(err))),
      );
    void load();
    const off = client.onEvent((e) => {
      if (e.type.startsWith("user_input:")) void load();
    });
    return () => {
      stale = true;
      off();
    };
  }, [client]);
  return (
    <section className="card" data-testid="inbox">
      <h1>Inbox</h1>
      {error && (
        <div className="alert alert-error" role="alert">
          Could not load the inbox: {error.message}
        </div>
      )}
      {prompts === null && !error && <p className="muted">Loading…</p>}
      {prompts !== null && prompts.length === 0 && (
        <p className="muted" data-testid="inbox-empty">
          Nothing waits for you.
        </p>
      )}
      {prompts !== null && prompts.length > 0 && (
        <ol className="inbox">
          {prompts.map((p) => (
            <li key={p.inputId} data-testid="inbox-item" data-input-id={p.inputId}>
              <a href={executionHref(p.executionId)}>
                <strong>{p.prompt}</strong>
              </a>{" "}
              <span className="muted small">
                {p.flowName} · from {p.ownerId} · for {waitsFor(p, p.ownerId)} · asked {formatDateTime(p.askedAt)}
                {p.expiresAt ? ` · due ${formatDateTime(p.expiresAt)}` : ""}
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
