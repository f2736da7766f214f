import { useAgentStreaming } from "@flowmaestro/react";

export function AgentPanel({ agentId, executionId }: { agentId: string; executionId: string }) {
  const agent = useAgentStreaming(agentId, executionId);
  return (
    <section className="card agent" data-testid={`agent-${agentId}`} data-streaming={agent.streaming}>
      <div className="card-head">
        <h2>
          Agent {agentId} <span className="muted small">{agent.model}</span>
        </h2>
        {agent.streaming ? <span className="badge status-running">streaming</span> : null}
        {agent.finishReason ? <span className="badge status-completed">{agent.finishReason}</span> : null}
      </div>
      <pre className="agent-text" data-testid={`agent-text-${agentId}`}>
        {agent.text}
        {agent.streaming ? <span className="cursor">▍</span> : null}
      </pre>
      {agent.toolCalls.length > 0 && (
        <ul className="tools" data-testid={`tool-calls-${agentId}`}>
          {agent.toolCalls.map((c) => (
            <li key={c.toolCallId} data-status={c.status}>
              <code>{c.toolName}</code>({JSON.stringify(c.arguments)}) <span className={`badge status-${c.status}`}>{c.status}</span>
              {c.result !== null && c.status === "completed" && <code className="muted"> → {JSON.stringify(c.result)}</code>}
              {c.error && <span className="field-error"> {c.error.message}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
