// sdk-examples/agent.tsx
import { useAgentStreaming, useKnowledgeBase, usePresence } from "@flowmaestro/react";
import { executionChannel } from "@flowmaestro/client";

export function Agent({ agentId, executionId }: { agentId: string; executionId: string }) {
  const { text, streaming, toolCalls } = useAgentStreaming(agentId, executionId);
  const others = usePresence(executionChannel(executionId));
  return (
    <article aria-busy={streaming}>
      <p>{text}</p>
      <p>{toolCalls.map((c) => `${c.toolName}: ${c.status}`).join(", ")}</p>
      {others.length > 0 && <p>Also watching: {others.join(", ")}</p>}
    </article>
  );
}

export function Documents({ knowledgeBaseId }: { knowledgeBaseId: string }) {
  const { documents, upload } = useKnowledgeBase(knowledgeBaseId);
  return (
    <>
      <input type="file" onChange={(e) => e.target.files?.[0] && void upload(e.target.files[0])} />
      {documents.map((d) => (
        <p key={d.documentId}>
          {d.fileName}: {d.status} {d.step ?? ""}
        </p>
      ))}
    </>
  );
}
