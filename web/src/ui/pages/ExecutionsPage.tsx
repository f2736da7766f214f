import { type FormEvent, useEffect, useState } from "react";
import { useFlowMaestro, useFlowState } from "@flowmaestro/react";
import type { ExecutionSummary } from "@flowmaestro/client";
import type { JsonValue } from "@flowmaestro/client";
import { formatDateTime, formatShortDateTime } from "../components/format";
import { StatusBadge } from "../components/StatusBadge";
import { executionHref } from "../route";

// The example flows (examples/*.yaml) and inputs that start them.
const EXAMPLES: Record<string, Record<string, JsonValue>> = {
  approval: { amount: 250, requester: "ada" },
  agent_approval: { order_total: 1200 },
  parallel: { topic: "realtime events" },
  retry: { url: "http://127.0.0.1:8000/healthz" },
};

const STATUSES = ["pending", "running", "waiting", "completed", "failed", "cancelled"];

export function ExecutionsPage() {
  const { client } = useFlowMaestro();
  const [executions, setExecutions] = useState<ExecutionSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const [flow, setFlow] = useState("");
  // Live: every event of the user's executions reaches the store over the user channel; a
  // new execution id refetches the list, a status change shows at once.
  const live = useFlowState((s) => s.statuses);
  const known = Object.keys(live).length;

  useEffect(() => {
    let stale = false;
    client.api.listExecutions().then(
      (page) => !stale && setExecutions(page.executions),
      (err) => !stale && setError(String(err.message ?? err)),
    );
    return () => {
      stale = true;
    };
  }, [client, known]);

  const rows = (executions ?? []).map((e) => ({ ...e, status: live[e.executionId] ?? e.status }));
  const flows = [...new Set(rows.map((e) => e.flowName))].sort();
  const shown = rows.filter((e) => (!status || e.status === status) && (!flow || e.flowName === flow));

  return (
    <div className="grid-2">
      <StartForm />
      <section className="card primary">
        <h1>Executions</h1>
        <div className="filters" role="search" aria-label="Filter the executions">
          <div className="field">
            <label htmlFor="filter-status">Status</label>
            <select id="filter-status" data-testid="filter-status" value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">Any status</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="filter-flow">Flow</label>
            <select id="filter-flow" data-testid="filter-flow" value={flow} onChange={(e) => setFlow(e.target.value)}>
              <option value="">Any flow</option>
              {flows.map((f) => (
                <option key={f} value={f}>
                  {f}
                </option>
              ))}
            </select>
          </div>
        </div>
        {error && <p className="alert alert-error">{error}</p>}
        {executions !== null && shown.length === 0 && (
          <p className="muted">{rows.length === 0 ? "No execution yet: start a flow." : "No execution matches these filters."}</p>
        )}
        {shown.length > 0 && (
          <div className="table-wrap">
            <table data-testid="executions">
              <thead>
                <tr>
                  <th>Flow</th>
                  <th>Status</th>
                  <th className="hide-narrow">Started</th>
                  <th>Execution</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((e) => (
                  <tr key={e.executionId} data-testid={`execution-row-${e.executionId}`} data-status={e.status}>
                    <td className="nowrap">{e.flowName}</td>
                    <td>
                      <StatusBadge status={e.status} />
                    </td>
                    <td className="hide-narrow muted nowrap">
                      {e.createdAt && <time dateTime={e.createdAt} title={formatDateTime(e.createdAt)}>{formatShortDateTime(e.createdAt)}</time>}
                    </td>
                    <td>
                      <a className="id-link" href={executionHref(e.executionId)}>
                        {e.executionId}
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

function StartForm() {
  const { client } = useFlowMaestro();
  const [flow, setFlow] = useState("approval");
  const [inputs, setInputs] = useState(JSON.stringify(EXAMPLES["approval"]));
  const chooseFlow = (name: string) => {
    setFlow(name);
    const example = EXAMPLES[name];
    if (example) setInputs(JSON.stringify(example));
  };
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const start = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    let parsed: Record<string, JsonValue>;
    try {
      parsed = JSON.parse(inputs || "{}");
    } catch (err) {
      setError(`inputs are not JSON: ${String(err)}`);
      return;
    }
    setBusy(true);
    try {
      const { executionId } = await client.api.startExecution(flow, parsed);
      window.location.hash = executionHref(executionId);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card">
      <h1>Start a flow</h1>
      <form className="form" onSubmit={start}>
        <div className="field">
          <label htmlFor="start-flow">Flow</label>
          <input id="start-flow" list="example-flows" data-testid="flow" value={flow} onChange={(e) => chooseFlow(e.target.value)} />
          <datalist id="example-flows">
            {Object.keys(EXAMPLES).map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
          <span className="hint">An example: {Object.keys(EXAMPLES).join(", ")}.</span>
        </div>
        <div className="field">
          <label htmlFor="start-inputs">Inputs (JSON)</label>
          <textarea id="start-inputs" data-testid="inputs" rows={3} value={inputs} onChange={(e) => setInputs(e.target.value)} />
        </div>
        <div className="actions">
          <button type="submit" className="btn btn-primary" data-testid="start" disabled={busy}>
            {busy ? "Starting…" : "Start"}
          </button>
        </div>
        {error && (
          <p className="alert alert-error" data-testid="start-error" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
