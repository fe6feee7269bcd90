/**
 * Search: shows near the buyer (browser geolocation) or in a city, with free text, dates and a
 * category. The form's state lives in the URL (`/?q=…&city=…`), so results can be shared and the
 * back button works; every change of it is one cached SearchShows GET.
 */
import { useQuery } from "@connectrpc/connect-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Link, useLocation, useSearch } from "wouter";
import { SearchService, type ShowResult } from "../../../gen/ticketing/search/v1/search_pb";
import { ErrorNote, Loading } from "../components/status";
import { formatDateTime, formatDistance, formatMoney, plural } from "../lib/format";

const PAGE_SIZE = 20;
const CATEGORIES = ["Movie", "Concert", "Comedy", "Sports", "Theatre"];
const DISTANCES = ["5km", "10km", "25km", "50km", "100km", "500km"];

interface Filters {
  q: string;
  city: string;
  lat?: number;
  lon?: number;
  distance: string;
  from: string;
  to: string;
  category: string;
  page: number;
}

function filtersOf(search: string): Filters {
  const p = new URLSearchParams(search);
  const num = (name: string) => {
    const raw = p.get(name);
    const value = raw === null || raw === "" ? NaN : Number(raw);
    return Number.isFinite(value) ? value : undefined;
  };
  const lat = num("lat");
  const lon = num("lon");
  const located = lat !== undefined && lon !== undefined;
  return {
    q: p.get("q") ?? "",
    city: p.get("city") ?? "",
    lat: located ? lat : undefined,
    lon: located ? lon : undefined,
    distance: p.get("distance") || "25km",
    from: p.get("from") ?? "",
    to: p.get("to") ?? "",
    category: p.get("category") ?? "",
    page: Math.max(1, Math.floor(num("page") ?? 1)),
  };
}

function searchOf(f: Filters): string {
  const p = new URLSearchParams();
  if (f.q) p.set("q", f.q);
  if (f.lat !== undefined && f.lon !== undefined) {
    p.set("lat", String(f.lat));
    p.set("lon", String(f.lon));
    if (f.distance !== "25km") p.set("distance", f.distance);
  } else if (f.city) p.set("city", f.city);
  if (f.from) p.set("from", f.from);
  if (f.to) p.set("to", f.to);
  if (f.category) p.set("category", f.category);
  if (f.page > 1) p.set("page", String(f.page));
  const s = p.toString();
  return s ? `/?${s}` : "/";
}

export function SearchPage() {
  const filters = filtersOf(useSearch());
  const [, navigate] = useLocation();
  const located = filters.lat !== undefined;
  const result = useQuery(SearchService.method.searchShows, {
    query: filters.q,
    lat: filters.lat,
    lon: filters.lon,
    distance: located ? filters.distance : "",
    city: located ? "" : filters.city,
    startDate: filters.from,
    endDate: filters.to,
    category: filters.category,
    page: filters.page,
    pageSize: PAGE_SIZE,
  });
  const go = (next: Partial<Filters>) => navigate(searchOf({ ...filters, page: 1, ...next }));
  const total = result.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  return (
    <>
      <h1>Find a show</h1>
      <SearchForm key={searchOf(filters)} filters={filters} onSearch={go} />
      <section aria-labelledby="results-heading" aria-busy={result.isFetching}>
        <h2 id="results-heading" className="visually-hidden">
          Results
        </h2>
        <ErrorNote error={result.error} />
        {result.isPending && <Loading what="shows" />}
        {result.data && (
          <p role="status" className="muted">
            {total === 0 ? "No shows match. Try another city, date or word." : `${plural(total, "show")} found`}
          </p>
        )}
        <ol className="results">
          {result.data?.results.map((r) => (
            <ResultCard key={r.showtimeId} result={r} />
          ))}
        </ol>
        {pages > 1 && (
          <nav aria-label="Result pages" className="pager">
            <button type="button" disabled={filters.page <= 1} onClick={() => navigate(searchOf({ ...filters, page: filters.page - 1 }))}>
              Previous page
            </button>
            <span>
              Page {filters.page} of {pages}
            </span>
            <button type="button" disabled={filters.page >= pages} onClick={() => navigate(searchOf({ ...filters, page: filters.page + 1 }))}>
              Next page
            </button>
          </nav>
        )}
      </section>
    </>
  );
}

function SearchForm({ filters, onSearch }: { filters: Filters; onSearch: (f: Partial<Filters>) => void }) {
  const [draft, setDraft] = useState(filters);
  const [locating, setLocating] = useState<string>();
  const ids = useId();
  const located = draft.lat !== undefined && draft.lon !== undefined;
  const set = (patch: Partial<Filters>) => setDraft((d) => ({ ...d, ...patch }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSearch(draft);
  };
  // the position arrives later: it applies to the form as it is then, and only if it is still shown
  const latest = useRef(draft);
  const shown = useRef(false);
  useEffect(() => {
    latest.current = draft;
  }, [draft]);
  useEffect(() => {
    shown.current = true;
    return () => {
      shown.current = false;
    };
  }, []);
  const locateMe = () => {
    if (!navigator.geolocation) {
      setLocating("Your browser cannot share its location; enter a city instead.");
      return;
    }
    setLocating("Finding your location…");
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        if (!shown.current) return;
        setLocating(undefined);
        const round = (x: number) => Math.round(x * 1000) / 1000;
        onSearch({ ...latest.current, lat: round(pos.coords.latitude), lon: round(pos.coords.longitude), city: "" });
      },
      (err) => {
        if (shown.current) setLocating(`Your location is not available (${err.message || "permission denied"}); enter a city instead.`);
      },
      { timeout: 10_000, maximumAge: 300_000 },
    );
  };

  return (
    <form role="search" className="search-form" onSubmit={submit}>
      <div className="field wide">
        <label htmlFor={`${ids}-q`}>Search shows</label>
        <input
          id={`${ids}-q`}
          type="search"
          value={draft.q}
          maxLength={200}
          placeholder="Film, artist, venue…"
          onChange={(e) => set({ q: e.target.value })}
        />
      </div>
      {located ? (
        <div className="field">
          <span className="label">Where</span>
          <span className="chip">
            Near your location
            <button type="button" className="link-button" onClick={() => onSearch({ ...draft, lat: undefined, lon: undefined })}>
              Clear location
            </button>
          </span>
        </div>
      ) : (
        <div className="field">
          <label htmlFor={`${ids}-city`}>City</label>
          <input id={`${ids}-city`} value={draft.city} maxLength={100} onChange={(e) => set({ city: e.target.value })} />
        </div>
      )}
      {located && (
        <div className="field">
          <label htmlFor={`${ids}-distance`}>Within</label>
          <select id={`${ids}-distance`} value={draft.distance} onChange={(e) => set({ distance: e.target.value })}>
            {DISTANCES.map((d) => (
              <option key={d} value={d}>
                {d.replace("km", " km")}
              </option>
            ))}
          </select>
        </div>
      )}
      <div className="field">
        <label htmlFor={`${ids}-from`}>From</label>
        <input id={`${ids}-from`} type="date" value={draft.from} onChange={(e) => set({ from: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor={`${ids}-to`}>To</label>
        <input id={`${ids}-to`} type="date" value={draft.to} min={draft.from || undefined} onChange={(e) => set({ to: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor={`${ids}-category`}>Category</label>
        <select id={`${ids}-category`} value={draft.category} onChange={(e) => set({ category: e.target.value })}>
          <option value="">Any category</option>
          {[...new Set([...CATEGORIES, ...(draft.category ? [draft.category] : [])])].map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </div>
      <div className="actions">
        <button type="submit" className="primary">
          Search
        </button>
        {!located && (
          <button type="button" onClick={locateMe}>
            Use my location
          </button>
        )}
      </div>
      {locating && (
        <p role="status" className="muted wide">
          {locating}
        </p>
      )}
    </form>
  );
}

function ResultCard({ result: r }: { result: ShowResult }) {
  const when = formatDateTime(r.showtime);
  const eventName = r.event?.name ?? "Show";
  const venue = r.venue;
  return (
    <li className="card result">
      <h3>
        <Link href={`/events/${r.event?.eventId ?? ""}`}>{eventName}</Link>
      </h3>
      <p className="meta">
        {r.event?.category && <span className="tag">{r.event.category}</span>} <time>{when}</time>
      </p>
      <p>
        {venue?.name}
        {venue?.city && `, ${venue.city}`}
        {r.distanceKm !== undefined && <span className="muted"> · {formatDistance(r.distanceKm)}</span>}
      </p>
      <p className="meta">
        {r.priceFrom !== undefined && r.currency && <span>from {formatMoney(r.priceFrom, r.currency)} · </span>}
        <span className={r.availableSeats === 0 ? "sold-out" : undefined}>
          {r.availableSeats === 0 ? "Sold out" : `${plural(r.availableSeats, "seat")} left`}
        </span>
      </p>
      <Link className="button" href={`/showtimes/${r.showtimeId}`} aria-label={`Select seats for ${eventName}, ${when}, at ${venue?.name ?? "the venue"}`}>
        Select seats
      </Link>
    </li>
  );
}
