import { type FormEvent, useState } from "react";
import { saveToken, tokenSubject } from "../auth";

export function SignInPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (tokenSubject(token.trim()) === null) {
      setError("That is not a JWT with a subject (sub).");
      return;
    }
    saveToken(token);
    onSignedIn();
  };
  return (
    <main className="signin">
      <h1>FlowMaestro</h1>
      <form onSubmit={submit}>
        <label htmlFor="token">Development token</label>
        <p className="hint">
          Mint one with <code>flowmaestro token --user USER</code> (or copy the one <code>flowmaestro dev</code> prints).
        </p>
        <textarea id="token" data-testid="token" rows={4} value={token} onChange={(e) => setToken(e.target.value)} />
        {error && <p className="error">{error}</p>}
        <button type="submit" data-testid="sign-in">
          Sign in
        </button>
      </form>
    </main>
  );
}
