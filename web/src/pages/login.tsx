import { useId, useState, type FormEvent } from "react";
import { Link, useLocation, useSearch } from "wouter";
import { useSessionObject } from "../auth/use-session";
import { ErrorNote } from "../components/status";

/** Where to go after logging in: a path of this app only (never another site). */
export function nextPath(search: string): string {
  const next = new URLSearchParams(search).get("next") ?? "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export default function LoginPage() {
  const session = useSessionObject();
  const [, navigate] = useLocation();
  const next = nextPath(useSearch());
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const ids = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await session.login(email.trim(), password);
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <div className="narrow">
      <h1>Log in</h1>
      <form className="card" onSubmit={(e) => void submit(e)}>
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
