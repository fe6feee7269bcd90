import { useId, useState, type FormEvent } from "react";
import { Link, useSearch } from "wouter";
import { useSessionObject } from "../auth/use-session";
import { ErrorNote } from "../components/status";
import { nextPath, useSessionAction } from "./account-form";

export default function RegisterPage() {
  const session = useSessionObject();
  const next = nextPath(useSearch());
  const [form, setForm] = useState({ displayName: "", email: "", password: "", phone: "" });
  const { error, busy, run } = useSessionAction(next);
  const ids = useId();
  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(() => session.register({ ...form, email: form.email.trim(), phone: form.phone.trim() }));
  };

  return (
    <div className="narrow">
      <h1>Create an account</h1>
      <form className="card" onSubmit={submit}>
        <label htmlFor={`${ids}-name`}>Display name</label>
        <input id={`${ids}-name`} autoComplete="name" required maxLength={100} value={form.displayName} onChange={(e) => set({ displayName: e.target.value })} />
        <label htmlFor={`${ids}-email`}>Email</label>
        <input id={`${ids}-email`} type="email" autoComplete="email" required maxLength={254} value={form.email} onChange={(e) => set({ email: e.target.value })} />
        <label htmlFor={`${ids}-password`}>Password</label>
        <input
          id={`${ids}-password`}
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          aria-describedby={`${ids}-password-hint`}
          value={form.password}
          onChange={(e) => set({ password: e.target.value })}
        />
        <p id={`${ids}-password-hint`} className="hint">
          At least 8 characters.
        </p>
        <label htmlFor={`${ids}-phone`}>Phone (optional, for text messages)</label>
        <input
          id={`${ids}-phone`}
          type="tel"
          autoComplete="tel"
          placeholder="+14155550123"
          aria-describedby={`${ids}-phone-hint`}
          value={form.phone}
          onChange={(e) => set({ phone: e.target.value })}
        />
        <p id={`${ids}-phone-hint`} className="hint">
          International format, starting with +.
        </p>
        <ErrorNote error={error} />
        <button type="submit" className="primary" disabled={busy}>
          Create account
        </button>
      </form>
      <p>
        Already have an account? <Link href={`/login?next=${encodeURIComponent(next)}`}>Log in</Link>
      </p>
    </div>
  );
}
