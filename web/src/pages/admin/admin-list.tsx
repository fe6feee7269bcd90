import { useId, type ReactNode } from "react";
import { Link } from "wouter";
import { ErrorNote, Loading } from "../../components/status";
import { plural } from "../../lib/format";

export interface AdminListProps<T> {
  title: string;
  /** The "New …" link. */
  create: { href: string; label: string };
  filterLabel: string;
  query: string;
  onQuery: (query: string) => void;
  /** One page of items (undefined while loading) and the count over all pages. */
  items?: readonly T[];
  total?: number;
  noun: string;
  error: unknown;
  keyOf: (item: T) => string;
  render: (item: T) => ReactNode;
}

/** A list of the admin console (venues, events): a "New" link, a filter, the items and their count. */
export function AdminList<T>(p: AdminListProps<T>) {
  const id = useId();
  return (
    <>
      <h1>{p.title}</h1>
      <p>
        <Link className="button primary" href={p.create.href}>
          {p.create.label}
        </Link>
      </p>
      <label htmlFor={id}>{p.filterLabel}</label>
      <input id={id} type="search" value={p.query} onChange={(e) => p.onQuery(e.target.value)} />
      <ErrorNote error={p.error} />
      {!p.items && !p.error && <Loading what={`${p.noun}s`} />}
      <ul className="admin-list">
        {p.items?.map((item) => (
          <li key={p.keyOf(item)}>{p.render(item)}</li>
        ))}
      </ul>
      {p.total !== undefined && <p className="muted">{plural(p.total, p.noun)}</p>}
    </>
  );
}
