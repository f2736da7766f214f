// sdk-examples/execution.tsx
import { useExecutionEvents, useUserInput, useWebSocket } from "@flowmaestro/react";

export function Execution({ executionId }: { executionId: string }) {
  const { connected } = useWebSocket();
  // Starts from the HTTP snapshot; pass { history: true } to replay every event.
  const { status, nodes, view } = useExecutionEvents(executionId);
  const { prompts, submit, errors, submitting } = useUserInput(executionId);
  return (
    <section>
      <p>
        {status} · {view.progress}% {connected ? "" : "(reconnecting)"}
      </p>
      <ul>
        {nodes.map((n) => (
          <li key={n.nodeId}>
            {n.nodeId}: {n.status}
            {n.retries > 0 ? ` (retried ${n.retries}×)` : ""}
          </li>
        ))}
      </ul>
      {prompts.map((p) => (
        <div key={p.inputId}>
          <p>{p.prompt}</p>
          <button disabled={submitting === p.inputId} onClick={() => void submit(p.inputId, true)}>
            Approve
          </button>
          {errors[p.inputId]?.fields.map((f) => (
            <p key={f.path}>
              {f.path}: {f.message}
            </p>
          ))}
        </div>
      ))}
    </section>
  );
}
