// Watches one execution and answers its prompt, through the published packages only.
import { FlowMaestroClient } from "@flowmaestro/client";
import { FlowMaestroProvider, useExecutionEvents, useUserInput, useWebSocket } from "@flowmaestro/react";
import { version } from "react";
import { createRoot } from "react-dom/client";

const params = new URLSearchParams(location.search);
const executionId = params.get("execution") ?? "";
const client = new FlowMaestroClient({ token: params.get("token") ?? "" });

function Execution() {
  const { state } = useWebSocket();
  const { status, nodes } = useExecutionEvents(executionId);
  const { prompts, submit } = useUserInput(executionId);
  return (
    <main data-testid="app" data-react={version} data-connection={state} data-status={status}>
      <p>
        {executionId}: {status}, {nodes.length} nodes
      </p>
      {prompts.map((p) => (
        <button key={p.inputId} data-testid="approve" type="button" onClick={() => void submit(p.inputId, true)}>
          {p.prompt}
        </button>
      ))}
    </main>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <FlowMaestroProvider client={client}>
    <Execution />
  </FlowMaestroProvider>,
);
