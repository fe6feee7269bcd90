/**
 * The hall layout editor: generate sections of rows and seats (each section one seat type), or
 * paste a layout in the seeds' JSON (`{sections: [{id, name, rows: [{label, seats: [{id, label,
 * coordinates: {x, y}, seatType}]}]}]}`), with a live preview drawn by the buyers' seat-map
 * component. The catalog validates the layout again when the hall is created.
 */
import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { createConnectQueryKey, useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { useDeferredValue, useId, useMemo, useState, type FormEvent } from "react";
import { Link, useLocation } from "wouter";
import { InventorySeatSchema } from "../../../../gen/ticketing/booking/v1/booking_pb";
import { CatalogService, SeatLayoutSchema, type SeatLayout } from "../../../../gen/ticketing/catalog/v1/catalog_pb";
import { ErrorNote } from "../../components/status";
import { plural } from "../../lib/format";
import { hallGeometry } from "../../seatmap/geometry";
import { SeatMap } from "../../seatmap/seat-map";
import { SeatStore } from "../../seatmap/store";
import { generateLayout, type SectionSpec } from "./layout-generator";

const FIRST_SECTION: SectionSpec = { name: "Standard", seatType: "standard", rows: 8, seatsPerRow: 14 };

export default function HallEditor({ venueId }: { venueId: string }) {
  const venue = useQuery(CatalogService.method.getVenue, { venueId });
  const [, navigate] = useLocation();
  const client = useQueryClient();
  const ids = useId();
  const [hallName, setHallName] = useState("");
  const [mode, setMode] = useState<"generate" | "json">("generate");
  const [sections, setSections] = useState<SectionSpec[]>([FIRST_SECTION]);
  const [json, setJson] = useState("");
  const createHall = useMutation(CatalogService.method.createHall, {
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: createConnectQueryKey({ schema: CatalogService, cardinality: undefined }) });
      navigate(`/venues/${venueId}`);
    },
  });

  const parsed = useMemo((): { layout?: SeatLayout; error?: string } => {
    if (mode === "generate") return { layout: generateLayout(sections) };
    if (json.trim() === "") return { error: "Paste a layout to preview it." };
    try {
      const value = JSON.parse(json) as JsonValue;
      const inner = value && typeof value === "object" && !Array.isArray(value) && "seatLayout" in value ? value.seatLayout : value;
      return { layout: fromJson(SeatLayoutSchema, inner ?? null) };
    } catch (err) {
      return { error: `The layout is not valid: ${err instanceof Error ? err.message : String(err)}` };
    }
  }, [mode, sections, json]);
  const preview = useDeferredValue(parsed.layout);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (parsed.layout) createHall.mutate({ venueId, hallName, seatLayout: parsed.layout });
  };
  const setSection = (i: number, patch: Partial<SectionSpec>) => setSections((all) => all.map((s, k) => (k === i ? { ...s, ...patch } : s)));

  return (
    <>
      <p className="breadcrumb">
        <Link href={`/venues/${venueId}`}>{venue.data?.venue?.name ?? "Venue"}</Link>
      </p>
      <h1>New hall</h1>
      <form className="hall-editor" onSubmit={submit}>
        <div className="card">
          <label htmlFor={`${ids}-name`}>Hall name</label>
          <input id={`${ids}-name`} required maxLength={255} value={hallName} onChange={(e) => setHallName(e.target.value)} />
          <fieldset>
            <legend>Layout</legend>
            <label className="radio inline">
              <input type="radio" name={`${ids}-mode`} checked={mode === "generate"} onChange={() => setMode("generate")} />
              Generate rows and seats
            </label>
            <label className="radio inline">
              <input type="radio" name={`${ids}-mode`} checked={mode === "json"} onChange={() => setMode("json")} />
              Paste layout JSON
            </label>
          </fieldset>
          {mode === "generate" ? (
            <>
              {sections.map((s, i) => (
                <fieldset key={i} className="section-spec">
                  <legend>Section {i + 1}</legend>
                  <NumberOrText label="Section name" id={`${ids}-s${i}-name`} value={s.name} onChange={(v) => setSection(i, { name: v })} />
                  <NumberOrText label="Seat type" id={`${ids}-s${i}-type`} value={s.seatType} onChange={(v) => setSection(i, { seatType: v })} />
                  <NumberOrText label="Rows" id={`${ids}-s${i}-rows`} type="number" min={1} max={200} value={String(s.rows)} onChange={(v) => setSection(i, { rows: Number(v) })} />
                  <NumberOrText
                    label="Seats per row"
                    id={`${ids}-s${i}-seats`}
                    type="number"
                    min={1}
                    max={1000}
                    value={String(s.seatsPerRow)}
                    onChange={(v) => setSection(i, { seatsPerRow: Number(v) })}
                  />
                  {sections.length > 1 && (
                    <button type="button" onClick={() => setSections((all) => all.filter((_, k) => k !== i))}>
                      Remove section {i + 1}
                    </button>
                  )}
                </fieldset>
              ))}
              <button type="button" onClick={() => setSections((all) => [...all, { name: "Premium", seatType: "premium", rows: 2, seatsPerRow: 12 }])}>
                Add section
              </button>
            </>
          ) : (
            <>
              <label htmlFor={`${ids}-json`}>Layout JSON</label>
              <textarea id={`${ids}-json`} rows={12} spellCheck={false} value={json} onChange={(e) => setJson(e.target.value)} />
            </>
          )}
          {parsed.error && <p className="error">{parsed.error}</p>}
          {parsed.layout && <LayoutSummary layout={parsed.layout} />}
          <ErrorNote error={createHall.error} />
          <button type="submit" className="primary" disabled={!parsed.layout || createHall.isPending}>
            Create hall
          </button>
        </div>
        <section className="card" aria-labelledby="preview-heading">
          <h2 id="preview-heading">Preview</h2>
          {preview && <Preview layout={preview} />}
        </section>
      </form>
    </>
  );
}

function NumberOrText(props: { label: string; id: string; value: string; onChange: (v: string) => void; type?: string; min?: number; max?: number }) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input id={props.id} type={props.type ?? "text"} min={props.min} max={props.max} required value={props.value} onChange={(e) => props.onChange(e.target.value)} />
    </div>
  );
}

function LayoutSummary({ layout }: { layout: SeatLayout }) {
  const seats = layout.sections.flatMap((s) => s.rows.flatMap((r) => r.seats));
  const types = [...new Set(seats.map((s) => s.seatType || "standard"))];
  return (
    <p role="status" className="muted">
      {plural(seats.length, "seat")} in {plural(layout.sections.length, "section")}; seat types: {types.join(", ")}
    </p>
  );
}

/** The layout drawn as buyers will see it, every seat available. */
function Preview({ layout }: { layout: SeatLayout }) {
  const store = useMemo(() => {
    const s = new SeatStore(hallGeometry(layout), undefined);
    s.replaceAll(
      s.geometry.seats.map((seat) => create(InventorySeatSchema, { seatId: seat.id, status: "available" })),
    );
    return s;
  }, [layout]);
  return <SeatMap store={store} label="Preview of the hall's seat map" />;
}
