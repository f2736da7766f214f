import { useMemo, useState } from "react";
import { FlowMaestroProvider, useWebSocket } from "@flowmaestro/react";
import { FlowMaestroClient } from "@flowmaestro/client";
import { clearToken, readToken, tokenSubject } from "./auth";
import { ExecutionPage } from "./pages/ExecutionPage";
import { ExecutionsPage } from "./pages/ExecutionsPage";
import { InboxPage } from "./pages/InboxPage";
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
  // A refusal of one channel (a missing execution) is that page's business, not the
  // connection's: the badge shows an error only while the connection itself is down.
  const connectionError = state === "connected" ? null : error;
  const section = route.page === "knowledge-base" ? "knowledge-bases" : route.page === "inbox" ? "inbox" : "executions";
  return (
    <>
      <header className="bar">
        <a className="brand" href="#/executions">
          <span className="brand-mark" aria-hidden="true" />
          FlowMaestro
        </a>
        <nav aria-label="Main">
          <a href="#/executions" aria-current={section === "executions" ? "page" : undefined}>
            Executions
          </a>
          <a href="#/inbox" aria-current={section === "inbox" ? "page" : undefined}>
            Inbox
          </a>
          <a href="#/knowledge-bases" aria-current={section === "knowledge-bases" ? "page" : undefined}>
            Knowledge bases
          </a>
        </nav>
        <div className="who">
          <span className={`badge state-${state}`} data-testid="connection" title={connectionError?.message ?? ""}>
            <span className="dot" aria-hidden="true" />
            {state}
            {connectionError ? ` (${connectionError.code})` : ""}
          </span>
          <span className="user">{user ?? "?"}</span>
          <button type="button" className="btn btn-ghost btn-small" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        {error?.code === "unauthorized" && (
          <div className="alert alert-error" data-testid="signed-out" role="alert">
            The gateway refused the token ({error.message}).{" "}
            <button type="button" className="btn btn-small" onClick={onSignOut}>
              Sign in again
            </button>
          </div>
        )}
        {route.page === "executions" && <ExecutionsPage />}
        {route.page === "inbox" && <InboxPage />}
        {route.page === "execution" && <ExecutionPage key={route.executionId} executionId={route.executionId} />}
        {route.page === "knowledge-base" && <KnowledgeBasePage knowledgeBaseId={route.knowledgeBaseId} />}
      </main>
    </>
  );
}
