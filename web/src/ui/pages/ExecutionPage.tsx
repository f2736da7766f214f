import { useExecutionEvents, useFlowState, useUserInput } from "../../react";
import { executionChannel } from "../../sdk/channels";
import { AgentPanel } from "../components/AgentPanel";
import { NodeTimeline } from "../components/NodeTimeline";
import { ProgressBar } from "../components/ProgressBar";
import { PromptForm } from "../components/PromptForm";
import { StatusBadge } from "../components/StatusBadge";

export function ExecutionPage({ executionId }: { executionId: string }) {
  const { view, nodes, events, agentIds } = useExecutionEvents(executionId);
  const { prompts, submit, errors, submitting } = useUserInput(executionId);
  const channel = useFlowState((s) => s.channels[executionChannel(executionId)]);
  return (
    <>
      <section className="execution-head" data-testid="execution" data-status={view.status}>
        <h2>
          {view.workflowId ?? "execution"} <code className="small">{executionId}</code>{" "}
          <StatusBadge status={view.status} />
        </h2>
        <ProgressBar value={view.progress} />
        <p className="small">
          {view.completedNodes}/{view.totalNodes} nodes
          {view.durationMs !== null ? ` · ${view.durationMs} ms` : ""}
        </p>
        {channel?.error && (
          <p className="error" data-testid="channel-error">
            {channel.error.code}: {channel.error.message}
          </p>
        )}
        {view.error && (
          <p className="error" data-testid="execution-error">
            {view.failedNodeId ? `${view.failedNodeId}: ` : ""}
            {view.error.type}: {view.error.message}
          </p>
        )}
        {view.outputs && (
          <details>
            <summary>Outputs</summary>
            <pre data-testid="outputs">{JSON.stringify(view.outputs, null, 2)}</pre>
          </details>
        )}
      </section>
      {prompts.length > 0 && (
        <section data-testid="prompts">
          <h3>Waiting for you</h3>
          {prompts.map((p) => (
            <PromptForm
              key={p.inputId}
              prompt={p}
              error={errors[p.inputId]}
              busy={submitting === p.inputId}
              onSubmit={(value) => void submit(p.inputId, value)}
            />
          ))}
        </section>
      )}
      <section>
        <h3>Nodes</h3>
        <NodeTimeline nodes={nodes} />
      </section>
      {agentIds.map((agentId) => (
        <AgentPanel key={agentId} agentId={agentId} executionId={executionId} />
      ))}
      <section>
        <details>
          <summary>Events ({events.length})</summary>
          <ol className="events">
            {events.map((e) => (
              <li key={e.id}>
                <code>{e.position}</code> {e.type}
              </li>
            ))}
          </ol>
        </details>
      </section>
    </>
  );
}
