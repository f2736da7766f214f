import { useEffect, useState } from "react";
import { useFlowMaestro } from "@flowmaestro/react";
import type { ExecutionSnapshot } from "@flowmaestro/client";
import { FlowMaestroError } from "@flowmaestro/client";

/** The execution's HTTP snapshot, fetched once per page (the graph is fixed at start). */
export function useSnapshot(executionId: string) {
  const { client } = useFlowMaestro();
  const [snapshot, setSnapshot] = useState<ExecutionSnapshot | null>(null);
  const [error, setError] = useState<FlowMaestroError | null>(null);
  useEffect(() => {
    let stale = false;
    setSnapshot(null);
    setError(null);
    client.api.getExecution(executionId).then(
      (s) => !stale && setSnapshot(s),
      (err: unknown) =>
        !stale && setError(err instanceof FlowMaestroError ? err : new FlowMaestroError("internal", String(err))),
    );
    return () => {
      stale = true;
    };
  }, [client, executionId]);
  return { snapshot, error };
}
