/** Venues in the admin console: the list, a create/edit form, and a venue's halls. */
import { createConnectQueryKey, useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { Link, useLocation } from "wouter";
import { CatalogService, type Venue } from "../../../../gen/ticketing/catalog/v1/catalog_pb";
import { ErrorNote, Loading } from "../../components/status";
import { AdminList } from "./admin-list";
import { plural } from "../../lib/format";

export function VenueList() {
  const [query, setQuery] = useState("");
  const venues = useQuery(CatalogService.method.listVenues, { query, pageSize: 100 });
  return (
    <AdminList
      title="Venues"
      create={{ href: "/venues/new", label: "New venue" }}
      filterLabel="Filter venues"
      query={query}
      onQuery={setQuery}
      items={venues.data?.venues}
      total={venues.data?.total}
      noun="venue"
      error={venues.error}
      keyOf={(v) => v.venueId}
      render={(v) => (
        <>
          <Link href={`/venues/${v.venueId}`}>{v.name}</Link> <span className="muted">{v.address?.city}</span>
        </>
      )}
    />
  );
}

export function NewVenue() {
  const [, navigate] = useLocation();
  return (
    <>
      <h1>New venue</h1>
      <VenueForm onSaved={(v) => navigate(`/venues/${v.venueId}`)} />
    </>
  );
}

export function VenueAdmin({ venueId }: { venueId: string }) {
  const venue = useQuery(CatalogService.method.getVenue, { venueId });
  const halls = useQuery(CatalogService.method.listHalls, { venueId });
  const [saved, setSaved] = useState(false);
  if (venue.error) return <ErrorNote error={venue.error} />;
  const v = venue.data?.venue;
  if (!v) return <Loading what="the venue" />;
  return (
    <>
      <h1>{v.name}</h1>
      <section aria-labelledby="halls-heading">
        <h2 id="halls-heading">Halls</h2>
        <ErrorNote error={halls.error} />
        <ul className="admin-list">
          {halls.data?.halls.map((h) => (
            <li key={h.hallId}>
              {h.hallName} <span className="muted">{plural(h.capacity, "seat")}</span>
            </li>
          ))}
        </ul>
        {halls.data?.halls.length === 0 && <p className="muted">No halls yet.</p>}
        <Link className="button" href={`/venues/${venueId}/halls/new`}>
          New hall
        </Link>
      </section>
      <section aria-labelledby="edit-heading">
        <h2 id="edit-heading">Details</h2>
        {saved && <p role="status">Saved.</p>}
        <VenueForm venue={v} onSaved={() => setSaved(true)} />
      </section>
    </>
  );
}

const ADDRESS_FIELDS = [
  ["street", "Street"],
  ["city", "City"],
  ["district", "District"],
  ["state", "State or region"],
  ["zip", "Postal code"],
  ["country", "Country"],
] as const;

type VenueDraft = { name: string; lat: string; lon: string } & Record<(typeof ADDRESS_FIELDS)[number][0], string>;

function draftOf(v?: Venue): VenueDraft {
  const a = v?.address;
  return {
    name: v?.name ?? "",
    street: a?.street ?? "",
    city: a?.city ?? "",
    district: a?.district ?? "",
    state: a?.state ?? "",
    zip: a?.zip ?? "",
    country: a?.country ?? "",
    lat: v?.location ? String(v.location.lat) : "",
    lon: v?.location ? String(v.location.lon) : "",
  };
}

function VenueForm({ venue, onSaved }: { venue?: Venue; onSaved: (v: Venue) => void }) {
  const [draft, setDraft] = useState(() => draftOf(venue));
  const ids = useId();
  const client = useQueryClient();
  const done = async (v: Venue | undefined) => {
    await client.invalidateQueries({ queryKey: createConnectQueryKey({ schema: CatalogService, cardinality: undefined }) });
    if (v) onSaved(v);
  };
  const create = useMutation(CatalogService.method.createVenue, { onSuccess: (r) => done(r.venue) });
  const update = useMutation(CatalogService.method.updateVenue, { onSuccess: (r) => done(r.venue) });
  const set = (patch: Partial<VenueDraft>) => setDraft((d) => ({ ...d, ...patch }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const address = { street: draft.street, city: draft.city, district: draft.district, state: draft.state, zip: draft.zip, country: draft.country };
    const location = draft.lat.trim() !== "" || draft.lon.trim() !== "" ? { lat: Number(draft.lat), lon: Number(draft.lon) } : undefined;
    if (venue) update.mutate({ venueId: venue.venueId, name: draft.name, address, location });
    else create.mutate({ name: draft.name, address, location });
  };
  const pending = create.isPending || update.isPending;
  return (
    <form className="card form-grid" onSubmit={submit}>
      <label htmlFor={`${ids}-name`}>Venue name</label>
      <input id={`${ids}-name`} required maxLength={255} value={draft.name} onChange={(e) => set({ name: e.target.value })} />
      {ADDRESS_FIELDS.map(([field, label]) => (
        <div key={field} className="field">
          <label htmlFor={`${ids}-${field}`}>{label}</label>
          <input id={`${ids}-${field}`} required={field === "city"} value={draft[field]} onChange={(e) => set({ [field]: e.target.value })} />
        </div>
      ))}
      <div className="field">
        <label htmlFor={`${ids}-lat`}>Latitude</label>
        <input id={`${ids}-lat`} inputMode="decimal" value={draft.lat} onChange={(e) => set({ lat: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor={`${ids}-lon`}>Longitude</label>
        <input id={`${ids}-lon`} inputMode="decimal" value={draft.lon} onChange={(e) => set({ lon: e.target.value })} />
      </div>
      <ErrorNote error={create.error ?? update.error} />
      <button type="submit" className="primary" disabled={pending}>
        {venue ? "Save venue" : "Create venue"}
      </button>
    </form>
  );
}
