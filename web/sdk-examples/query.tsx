// sdk-examples/query.tsx
import { type ExecutionStatus, type FlowMaestroClient, FlowMaestroError } from "@flowmaestro/client";
import { useFlowMaestro, useFlowState } from "@flowmaestro/react";
import { useMutation, useQuery } from "@tanstack/react-query";

// Lists through TanStack Query; the store's live statuses win over the fetched ones.
export function Executions({ status }: { status?: ExecutionStatus }) {
  const { client } = useFlowMaestro();
  const live = useFlowState((s) => s.statuses);
  const page = useQuery({
    queryKey: ["executions", status],
    queryFn: () => client.api.listExecutions({ status, limit: 50 }),
  });
  const cancel = useMutation({ mutationFn: (id: string) => client.api.cancelExecution(id) });
  return (
    <ul>
      {page.data?.executions.map((e) => (
        <li key={e.executionId}>
          {e.flowName}: {live[e.executionId] ?? e.status}{" "}
          <button onClick={() => cancel.mutate(e.executionId)}>Cancel</button>
        </li>
      ))}
    </ul>
  );
}

// The client alone, with no React: typed events, every page of a filtered list, errors by code.
export async function watch(client: FlowMaestroClient, executionId: string): Promise<void> {
  client.on("execution:failed", (e) => console.log("failed:", e.data.error.type));
  client.on("agent:token", (e) => console.log(e.data.token));
  client.connect();
  const release = client.subscribe(`execution:${executionId}`);
  try {
    for await (const e of client.api.allExecutions({ flow: "approval", since: new Date(Date.now() - 86_400_000) })) {
      console.log(e.executionId, e.status);
    }
  } catch (err) {
    if (err instanceof FlowMaestroError && err.code === "unauthorized") console.log("sign in again");
  } finally {
    release();
  }
}
