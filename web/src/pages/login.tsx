import { useId, useState, type FormEvent } from "react";
import { Link, useSearch } from "wouter";
import { useSessionObject } from "../auth/use-session";
import { ErrorNote } from "../components/status";
import { nextPath, useSessionAction } from "./account-form";

export default function LoginPage() {
  const session = useSessionObject();
  const next = nextPath(useSearch());
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { error, busy, run } = useSessionAction(next);
  const ids = useId();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(() => session.login(email.trim(), password));
  };

  return (
    <div className="narrow">
      <h1>Log in</h1>
      <form className="card" onSubmit={submit}>
        <label htmlFor={`${ids}-email`}>Email</label>
        <input id={`${ids}-email`} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <label htmlFor={`${ids}-password`}>Password</label>
        <input
          id={`${ids}-password`}
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <ErrorNote error={error} />
        <button type="submit" className="primary" disabled={busy}>
          Log in
        </button>
      </form>
      <p>
        New here? <Link href={`/register?next=${encodeURIComponent(next)}`}>Create an account</Link>
      </p>
    </div>
  );
}
