/**
 * The seat map, shared by buyers (live, selectable) and the admin console (occupancy, the hall
 * editor's preview): an SVG drawn from the layout's coordinates, coloured by seat type, with zoom
 * (wheel, buttons) and pan (drag). Every seat is a button named "Seat A1, premium, available";
 * the map is one tab stop and arrow keys move between seats (roving tabindex), Enter or Space
 * selects. Handlers are delegated to the SVG, and each seat re-renders only when its own state
 * changes (see store.ts), so halls of 20,000 seats stay responsive.
 */
import { memo, useCallback, useEffect, useRef, useState, useSyncExternalStore, type KeyboardEvent, type MouseEvent, type PointerEvent } from "react";
import { neighbour, type HallGeometry } from "./geometry";
import type { SeatStore } from "./store";
import { useViewBox } from "./view-box";

export interface SeatMapProps {
  store: SeatStore;
  /** Names the map for assistive technology, e.g. "Seat map, Screen 1". */
  label: string;
  /** Seats can be selected (buyers); otherwise the map only shows. */
  selectable?: boolean;
  maxSelectable?: number;
  /** Price per seat type, already formatted, for the legend. */
  prices?: ReadonlyMap<string, string>;
  /** What the front of the hall is called ("Screen", "Stage"). */
  front?: string;
}

export function SeatMap({ store, label, selectable = false, maxSelectable = 10, prices, front = "Screen" }: SeatMapProps) {
  const g = store.geometry;
  const svgRef = useRef<SVGSVGElement>(null);
  const [announcement, setAnnouncement] = useState("");
  const { viewBox, zoom, fit, dragging, pointer } = useViewBox(g.bounds, g.radius, svgRef);
  // no seat is shown (or can be picked) before the first snapshot says what is free
  const loaded = useSyncExternalStore(store.subscribe, () => store.loaded);

  // marks for the browser's performance timeline (DevTools, and `npm run bench`'s render timing)
  useEffect(() => {
    if (!loaded) return;
    performance.mark("seat-map-rendered", { detail: { seats: g.seats.length } });
    // the task after the next animation frame runs once that frame is painted
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => performance.mark("seat-map-painted", { detail: { seats: g.seats.length } }), 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [g, loaded]);

  const indexOf = (target: EventTarget | null): number | undefined => {
    const raw = target instanceof Element ? target.getAttribute("data-i") : null;
    return raw === null ? undefined : Number(raw);
  };

  const activate = useCallback(
    (i: number) => {
      store.setFocus(i);
      if (!selectable) return;
      const seat = g.seats[i];
      const outcome = store.toggle(i, maxSelectable);
      if (outcome === "full") setAnnouncement(`You can select up to ${maxSelectable} seats at once.`);
      else if (outcome === "unavailable") setAnnouncement(`Seat ${seat.label} is ${store.view(i).status}.`);
      else setAnnouncement(`Seat ${seat.label} ${outcome}.`);
    },
    [store, g, selectable, maxSelectable],
  );

  const onClick = (e: MouseEvent<SVGSVGElement>) => {
    const i = indexOf(e.target);
    if (i === undefined || dragging()) return;
    activate(i);
  };

  const onKeyDown = (e: KeyboardEvent<SVGSVGElement>) => {
    const i = indexOf(e.target);
    if (i === undefined) return;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      activate(i);
      return;
    }
    if (e.key === "ArrowLeft" || e.key === "ArrowRight" || e.key === "ArrowUp" || e.key === "ArrowDown" || e.key === "Home" || e.key === "End") {
      e.preventDefault();
      const next = neighbour(g, i, e.key);
      if (next === undefined) return;
      store.setFocus(next);
      const el = svgRef.current?.querySelector<SVGElement>(`[data-i="${next}"]`);
      el?.focus();
      pointer.reveal(g.seats[next].x, g.seats[next].y);
    }
  };

  const typeNames = g.seatTypes;
  return (
    <div className="seat-map">
      <div className="seat-map-tools" role="toolbar" aria-label="Seat map view">
        <button type="button" onClick={() => zoom(1.5)}>
          Zoom in
        </button>
        <button type="button" onClick={() => zoom(1 / 1.5)}>
          Zoom out
        </button>
        <button type="button" onClick={fit}>
          Show whole hall
        </button>
      </div>
      <svg
        ref={svgRef}
        className="seat-map-canvas"
        viewBox={`${viewBox.x} ${viewBox.y} ${viewBox.width} ${viewBox.height}`}
        preserveAspectRatio="xMidYMid meet"
        role="group"
        aria-label={label}
        onClick={onClick}
        onKeyDown={onKeyDown}
        onPointerDown={(e: PointerEvent<SVGSVGElement>) => pointer.down(e)}
        onPointerMove={(e: PointerEvent<SVGSVGElement>) => pointer.move(e)}
        onPointerUp={(e: PointerEvent<SVGSVGElement>) => pointer.up(e)}
        onPointerCancel={(e: PointerEvent<SVGSVGElement>) => pointer.up(e)}
      >
        <g aria-hidden="true">
          <rect
            className="front"
            x={g.bounds.x + g.bounds.width * 0.2}
            y={g.bounds.y + g.radius}
            width={g.bounds.width * 0.6}
            height={g.radius * 1.2}
            rx={g.radius * 0.6}
          />
          <text className="front-label" x={g.bounds.x + g.bounds.width / 2} y={g.bounds.y + g.radius * 3.4} fontSize={g.radius * 1.4} textAnchor="middle">
            {front}
          </text>
          {g.sectionLabels.map((s) => (
            <text key={`${s.name}-${s.x}-${s.y}`} className="section-label" x={s.x - g.radius} y={s.y} fontSize={g.radius * 1.1}>
              {s.name}
            </text>
          ))}
          {g.rowLabels.length <= 2000 &&
            g.rowLabels.map((r) => (
              <text key={`${r.label}-${r.x}-${r.y}`} className="row-label" x={r.x} y={r.y} fontSize={g.radius} textAnchor="end" dominantBaseline="central">
                {r.label}
              </text>
            ))}
        </g>
        {loaded ? (
          <SeatLayer store={store} />
        ) : (
          <text className="front-label" x={g.bounds.x + g.bounds.width / 2} y={g.bounds.y + g.bounds.height / 2} fontSize={g.radius * 1.4} textAnchor="middle">
            Loading seats…
          </text>
        )}
      </svg>
      <ul className="legend" aria-label="Legend">
        {typeNames.map((t, i) => (
          <li key={t}>
            <svg className="swatch" viewBox="0 0 10 10" aria-hidden="true">
              <circle cx="5" cy="5" r="4.5" className={`seat t${i % 8} available`} />
            </svg>
            {t}
            {prices?.get(t) && <span className="price"> {prices.get(t)}</span>}
          </li>
        ))}
        {(["selected", "held", "booked", "mine"] as const).map((s) => (
          <li key={s}>
            <svg className="swatch" viewBox="0 0 10 10" aria-hidden="true">
              <circle cx="5" cy="5" r="4.5" className={`seat t0 ${s === "mine" ? "held mine" : s}`} />
            </svg>
            {s === "mine" ? "held by you" : s}
          </li>
        ))}
      </ul>
      <p className="visually-hidden" aria-live="polite">
        {announcement}
      </p>
    </div>
  );
}

/** Every seat; memoised so that zooming and panning never re-render 20,000 children. */
const SeatLayer = memo(function SeatLayer({ store }: { store: SeatStore }) {
  const g = store.geometry;
  return (
    <g className="seats">
      {g.seats.map((s, i) => (
        <Seat key={s.id} store={store} index={i} g={g} />
      ))}
    </g>
  );
});

const Seat = memo(function Seat({ store, index, g }: { store: SeatStore; index: number; g: HallGeometry }) {
  const v = useSyncExternalStore(store.subscriber(index), () => store.view(index));
  const s = g.seats[index];
  const word = v.selected ? "selected" : v.status;
  return (
    <circle
      cx={s.x}
      cy={s.y}
      r={g.radius}
      data-i={index}
      role="button"
      tabIndex={v.focus ? 0 : -1}
      aria-label={`Seat ${s.label}, ${s.seatType}, ${word}`}
      aria-description={v.mine ? (v.status === "booked" ? "booked by you" : "held by you") : undefined}
      className={`seat t${s.typeIndex % 8} ${word}${v.mine ? " mine" : ""}`}
    />
  );
});
