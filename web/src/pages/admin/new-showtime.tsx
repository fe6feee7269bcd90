/**
 * Schedules a showtime of an event: a venue, one of its halls, a start time, a currency, and a
 * price for every seat type of the hall's layout (the catalog refuses a hall seat type without a
 * price). The inventory and the search index follow within seconds (ShowtimeCreatedEvent).
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createConnectQueryKey, skipToken, useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { useId, useMemo, useState, type FormEvent } from "react";
import { CatalogService } from "../../../../gen/ticketing/catalog/v1/catalog_pb";
import { ErrorNote } from "../../components/status";

export function NewShowtime({ eventId }: { eventId: string }) {
  const ids = useId();
  const client = useQueryClient();
  const [venueId, setVenueId] = useState("");
  const [hallId, setHallId] = useState("");
  const [startsAt, setStartsAt] = useState("");
  const [currency, setCurrency] = useState("INR");
  const [prices, setPrices] = useState<Record<string, string>>({});
  const venues = useQuery(CatalogService.method.listVenues, { pageSize: 100 });
  const halls = useQuery(CatalogService.method.listHalls, venueId ? { venueId } : skipToken);
  const hall = useQuery(CatalogService.method.getHall, venueId && hallId ? { venueId, hallId } : skipToken, { staleTime: Infinity });
  const seatTypes = useMemo(() => {
    const layout = hall.data?.hall?.seatLayout;
    return [...new Set(layout?.sections.flatMap((s) => s.rows.flatMap((r) => r.seats.map((seat) => seat.seatType || "standard"))) ?? [])];
  }, [hall.data]);
  const [created, setCreated] = useState<string>();
  const create = useMutation(CatalogService.method.createShowtime, {
    onSuccess: async () => {
      setCreated(`Showtime scheduled for ${new Date(startsAt).toLocaleString()}.`);
      await client.invalidateQueries({ queryKey: createConnectQueryKey({ schema: CatalogService.method.listShowtimes, cardinality: undefined }) });
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setCreated(undefined);
    create.mutate({
      eventId,
      venueId,
      hallId,
      timestamp: timestampFromDate(new Date(startsAt)),
      currency: currency.trim().toUpperCase(),
      prices: seatTypes.map((seatType) => ({ seatType, amount: Number(prices[seatType] ?? "") })),
    });
  };

  return (
    <form className="card form-grid" onSubmit={submit} aria-labelledby={`${ids}-heading`}>
      <h3 id={`${ids}-heading`} className="wide">
        New showtime
      </h3>
      <div className="field">
        <label htmlFor={`${ids}-venue`}>Venue</label>
        <select
          id={`${ids}-venue`}
          required
          value={venueId}
          onChange={(e) => {
            setVenueId(e.target.value);
            setHallId("");
          }}
        >
          <option value="">Choose a venue</option>
          {venues.data?.venues.map((v) => (
            <option key={v.venueId} value={v.venueId}>
              {v.name} ({v.address?.city})
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-hall`}>Hall</label>
        <select id={`${ids}-hall`} required value={hallId} disabled={!venueId} onChange={(e) => setHallId(e.target.value)}>
          <option value="">Choose a hall</option>
          {halls.data?.halls.map((h) => (
            <option key={h.hallId} value={h.hallId}>
              {h.hallName} ({h.capacity} seats)
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-starts`}>Starts at</label>
        <input id={`${ids}-starts`} type="datetime-local" required value={startsAt} onChange={(e) => setStartsAt(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${ids}-currency`}>Currency</label>
        <input id={`${ids}-currency`} required pattern="[A-Za-z]{3}" maxLength={3} value={currency} onChange={(e) => setCurrency(e.target.value)} />
      </div>
      {seatTypes.map((t) => (
        <div key={t} className="field">
          <label htmlFor={`${ids}-price-${t}`}>Price for {t}</label>
          <input
            id={`${ids}-price-${t}`}
            type="number"
            min={0}
            step="0.01"
            required
            value={prices[t] ?? ""}
            onChange={(e) => setPrices((p) => ({ ...p, [t]: e.target.value }))}
          />
        </div>
      ))}
      <ErrorNote error={venues.error ?? halls.error ?? hall.error ?? create.error} />
      {created && (
        <p role="status" className="wide">
          {created}
        </p>
      )}
      <button type="submit" className="primary" disabled={create.isPending || !hallId || seatTypes.length === 0}>
        Create showtime
      </button>
    </form>
  );
}
