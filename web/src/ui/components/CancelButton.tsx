import { useState } from "react";
import { FlowMaestroError } from "@flowmaestro/client";
import { useFlowMaestro } from "@flowmaestro/react";

/** Cancel a running execution; its end (execution:failed, cancelled) arrives as an event. */
export function CancelButton({ executionId }: { executionId: string }) {
  const { client } = useFlowMaestro();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      await client.api.cancelExecution(executionId);
    } catch (err) {
      setError(err instanceof FlowMaestroError ? err.message : String(err));
      setBusy(false);
    }
  };
  return (
    <div className="cancel">
      <button type="button" className="btn" data-testid="cancel" disabled={busy} onClick={() => void cancel()}>
        {busy ? "Cancelling…" : "Cancel execution"}
      </button>
      {error && (
        <p className="alert alert-error" role="alert" data-testid="cancel-error">
          Could not cancel: {error}
        </p>
      )}
    </div>
  );
}
