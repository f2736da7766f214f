import { type FormEvent, useEffect, useState } from "react";
import { useFlowMaestro, useFlowState } from "../../react";
import type { ExecutionSummary } from "../../sdk/api";
import type { JsonValue } from "../../sdk/events";
import { StatusBadge } from "../components/StatusBadge";
import { executionHref } from "../route";

// The example flows (examples/*.yaml) and inputs that start them.
const EXAMPLES: Record<string, Record<string, JsonValue>> = {
  approval: { amount: 250, requester: "ada" },
  agent_approval: { order_total: 1200 },
  parallel: { topic: "realtime events" },
  retry: { url: "http://127.0.0.1:8000/healthz" },
};

export function ExecutionsPage() {
  const { client } = useFlowMaestro();
  const [executions, setExecutions] = useState<ExecutionSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  // Live: every event of the user's executions reaches the store over the user channel.
  const live = useFlowState((s) => s.executions);
  const known = Object.keys(live).length;

  useEffect(() => {
    let stale = false;
    client.api.listExecutions().then(
      (list) => !stale && setExecutions(list),
      (err) => !stale && setError(String(err.message ?? err)),
    );
    return () => {
      stale = true;
    };
  }, [client, known]);

  return (
    <>
      <StartForm />
      <section>
        <h2>Executions</h2>
        {error && <p className="error">{error}</p>}
        <table data-testid="executions">
          <thead>
            <tr>
              <th>Execution</th>
              <th>Flow</th>
              <th>Status</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {executions.map((e) => (
              <tr key={e.executionId}>
                <td>
                  <a href={executionHref(e.executionId)}>{e.executionId}</a>
                </td>
                <td>{e.flowName}</td>
                <td>
                  <StatusBadge status={live[e.executionId]?.view.status ?? e.status} />
                </td>
                <td>{e.createdAt ? new Date(e.createdAt).toLocaleString() : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
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
    <section>
      <h2>Start a flow</h2>
      <form className="start" onSubmit={start}>
        <label>
          Flow
          <input list="example-flows" data-testid="flow" value={flow} onChange={(e) => chooseFlow(e.target.value)} />
          <datalist id="example-flows">
            {Object.keys(EXAMPLES).map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
        </label>
        <label>
          Inputs (JSON)
          <textarea data-testid="inputs" rows={2} value={inputs} onChange={(e) => setInputs(e.target.value)} />
        </label>
        <button type="submit" data-testid="start" disabled={busy}>
          Start
        </button>
        {error && <p className="error" data-testid="start-error">{error}</p>}
      </form>
    </section>
  );
}
