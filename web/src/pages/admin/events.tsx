/** Events in the admin console: the list, a create/edit form, and an event's showtimes. */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { createConnectQueryKey, useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { Link, useLocation } from "wouter";
import { CatalogService, type Event } from "../../../../gen/ticketing/catalog/v1/catalog_pb";
import { useVenues } from "../../api/catalog";
import { ErrorNote, Loading } from "../../components/status";
import { AdminList } from "./admin-list";
import { formatDateTime, formatMoney } from "../../lib/format";
import { NewShowtime } from "./new-showtime";

export function EventList() {
  const [query, setQuery] = useState("");
  const events = useQuery(CatalogService.method.listEvents, { query, pageSize: 100 });
  return (
    <AdminList
      title="Events"
      create={{ href: "/events/new", label: "New event" }}
      filterLabel="Filter events"
      query={query}
      onQuery={setQuery}
      items={events.data?.events}
      total={events.data?.total}
      noun="event"
      error={events.error}
      keyOf={(e) => e.eventId}
      render={(e) => (
        <>
          <Link href={`/events/${e.eventId}`}>{e.name}</Link> <span className="muted">{e.category}</span>
        </>
      )}
    />
  );
}

export function NewEvent() {
  const [, navigate] = useLocation();
  return (
    <>
      <h1>New event</h1>
      <EventForm onSaved={(e) => navigate(`/events/${e.eventId}`)} />
    </>
  );
}

export function EventAdmin({ eventId }: { eventId: string }) {
  const event = useQuery(CatalogService.method.getEvent, { eventId });
  const showtimes = useQuery(CatalogService.method.listShowtimes, { eventId });
  const venues = useVenues(showtimes.data?.showtimes.map((s) => s.venueId) ?? []);
  const [saved, setSaved] = useState(false);
  if (event.error) return <ErrorNote error={event.error} />;
  const e = event.data?.event;
  if (!e) return <Loading what="the event" />;
  const upcoming = (showtimes.data?.showtimes ?? []).filter((s) => s.timestamp && timestampMs(s.timestamp) > Date.now() - 6 * 3600_000);
  return (
    <>
      <h1>{e.name}</h1>
      <p>
        <Link href={`~/events/${e.eventId}`}>Open the event's public page</Link>
      </p>
      <section aria-labelledby="showtimes-heading">
        <h2 id="showtimes-heading">Showtimes</h2>
        <ErrorNote error={showtimes.error} />
        {showtimes.data && upcoming.length === 0 && <p className="muted">No upcoming showtimes.</p>}
        <ul className="admin-list">
          {upcoming.map((s) => (
            <li key={s.showtimeId}>
              <Link href={`/showtimes/${s.showtimeId}`} aria-label={`Occupancy of ${formatDateTime(s.timestamp)} at ${venues.get(s.venueId)?.name ?? "venue"}`}>
                {formatDateTime(s.timestamp)}
              </Link>{" "}
              <span className="muted">
                {venues.get(s.venueId)?.name} · {s.prices.map((p) => `${p.seatType} ${formatMoney(p.amount, s.currency)}`).join(", ")}
              </span>
            </li>
          ))}
        </ul>
        <NewShowtime eventId={eventId} />
      </section>
      <section aria-labelledby="edit-heading">
        <h2 id="edit-heading">Details</h2>
        {saved && <p role="status">Saved.</p>}
        <EventForm event={e} onSaved={() => setSaved(true)} />
      </section>
    </>
  );
}

interface EventDraft {
  name: string;
  category: string;
  description: string;
  keywords: string;
  durationMinutes: string;
  imageUrl: string;
}

function EventForm({ event, onSaved }: { event?: Event; onSaved: (e: Event) => void }) {
  const [draft, setDraft] = useState<EventDraft>({
    name: event?.name ?? "",
    category: event?.category ?? "",
    description: event?.description ?? "",
    keywords: event?.keywords.join(", ") ?? "",
    durationMinutes: event ? String(event.durationMinutes || "") : "",
    imageUrl: event?.imageUrl ?? "",
  });
  const ids = useId();
  const client = useQueryClient();
  const done = async (e: Event | undefined) => {
    await client.invalidateQueries({ queryKey: createConnectQueryKey({ schema: CatalogService, cardinality: undefined }) });
    if (e) onSaved(e);
  };
  const create = useMutation(CatalogService.method.createEvent, { onSuccess: (r) => done(r.event) });
  const update = useMutation(CatalogService.method.updateEvent, { onSuccess: (r) => done(r.event) });
  const set = (patch: Partial<EventDraft>) => setDraft((d) => ({ ...d, ...patch }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const keywords = draft.keywords
      .split(",")
      .map((k) => k.trim())
      .filter(Boolean);
    const fields = {
      name: draft.name,
      category: draft.category.trim(),
      description: draft.description,
      imageUrl: draft.imageUrl.trim(),
      durationMinutes: Number(draft.durationMinutes) || 0,
    };
    if (event) update.mutate({ eventId: event.eventId, ...fields, keywords, updateMask: keywords.length === 0 ? { paths: ["keywords"] } : undefined });
    else create.mutate({ ...fields, keywords });
  };
  const text = (field: keyof EventDraft, label: string, extra: { required?: boolean; type?: string } = {}) => (
    <div className="field">
      <label htmlFor={`${ids}-${field}`}>{label}</label>
      <input id={`${ids}-${field}`} type={extra.type ?? "text"} required={extra.required} value={draft[field]} onChange={(e) => set({ [field]: e.target.value })} />
    </div>
  );
  return (
    <form className="card form-grid" onSubmit={submit}>
      {text("name", "Event name", { required: true })}
      {text("category", "Category")}
      {text("keywords", "Keywords (comma-separated)")}
      {text("durationMinutes", "Duration in minutes", { type: "number" })}
      {text("imageUrl", "Poster image key")}
      <div className="field wide">
        <label htmlFor={`${ids}-description`}>Description</label>
        <textarea id={`${ids}-description`} rows={4} value={draft.description} onChange={(e) => set({ description: e.target.value })} />
      </div>
      <ErrorNote error={create.error ?? update.error} />
      <button type="submit" className="primary" disabled={create.isPending || update.isPending}>
        {event ? "Save event" : "Create event"}
      </button>
    </form>
  );
}
