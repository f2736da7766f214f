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
      <section className="card">
        <h1>
          <span className="brand-mark" aria-hidden="true" /> FlowMaestro
        </h1>
        <form className="form" onSubmit={submit}>
          <div className="field">
            <label htmlFor="token">Development token</label>
            <textarea id="token" data-testid="token" rows={4} value={token} onChange={(e) => setToken(e.target.value)} />
            <span className="hint">
              Mint one with <code>flowmaestro token --user USER</code>, or copy the one <code>flowmaestro dev</code> prints.
            </span>
          </div>
          {error && (
            <p className="alert alert-error" role="alert">
              {error}
            </p>
          )}
          <div className="actions">
            <button type="submit" className="btn btn-primary" data-testid="sign-in">
              Sign in
            </button>
          </div>
        </form>
      </section>
    </main>
  );
}
