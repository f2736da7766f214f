import { useMemo, useState } from "react";
import { FlowMaestroProvider, useWebSocket } from "../react";
import { FlowMaestroClient } from "../sdk/client";
import { clearToken, readToken, tokenSubject } from "./auth";
import { ExecutionPage } from "./pages/ExecutionPage";
import { ExecutionsPage } from "./pages/ExecutionsPage";
import { KnowledgeBasePage } from "./pages/KnowledgeBasePage";
import { SignInPage } from "./pages/SignInPage";
import { useRoute } from "./route";

export function App() {
  const [token, setToken] = useState(readToken);
  const client = useMemo(
    () => (token === null ? null : new FlowMaestroClient({ getToken: () => readToken() ?? "" })),
    [token],
  );
  if (client === null || token === null) return <SignInPage onSignedIn={() => setToken(readToken())} />;
  const signOut = () => {
    clearToken();
    setToken(null);
  };
  return (
    <FlowMaestroProvider client={client}>
      <Shell user={tokenSubject(token)} onSignOut={signOut} />
    </FlowMaestroProvider>
  );
}

function Shell({ user, onSignOut }: { user: string | null; onSignOut: () => void }) {
  const route = useRoute();
  const { state, error } = useWebSocket();
  return (
    <>
      <header className="bar">
        <strong>FlowMaestro</strong>
        <nav>
          <a href="#/executions">Executions</a>
          <a href="#/knowledge-bases">Knowledge bases</a>
        </nav>
        <span className={`badge state-${state}`} data-testid="connection" title={error?.message ?? ""}>
          {state}
          {error ? ` (${error.code})` : ""}
        </span>
        <span className="user">{user ?? "?"}</span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>
        {error?.code === "unauthorized" && (
          <p className="error" data-testid="signed-out">
            The gateway refused the token ({error.message}).{" "}
            <button type="button" onClick={onSignOut}>
              Sign in again
            </button>
          </p>
        )}
        {route.page === "executions" && <ExecutionsPage />}
        {route.page === "execution" && <ExecutionPage executionId={route.executionId} />}
        {route.page === "knowledge-base" && <KnowledgeBasePage knowledgeBaseId={route.knowledgeBaseId} />}
      </main>
    </>
  );
}
