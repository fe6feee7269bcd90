import { Code } from "@connectrpc/connect";
import { AppError } from "../../../lib/errors.js";

/** More seats than this in one hall is refused (the seat map is one JSONB document downstream). */
export const MAX_SEATS = 100_000;
/** What a seat without a `seatType` is. */
export const DEFAULT_SEAT_TYPE = "standard";
/** At most this many problems are listed in one error message. */
const MAX_PROBLEMS = 10;

/** The layout as it arrives (the generated SeatLayout message satisfies this). */
export interface SeatLayoutInput {
  focalPoint?: { x: number; y: number };
  sections: ReadonlyArray<{
    id: string;
    name: string;
    rows: ReadonlyArray<{
      label: string;
      seats: ReadonlyArray<{ id: string; label: string; coordinates?: { x: number; y: number }; seatType: string }>;
    }>;
  }>;
}

export interface StoredSeat {
  id: string;
  label: string;
  coordinates?: { x: number; y: number };
  seatType: string;
}

/** The layout as stored (JSONB) and returned: the seeds' shape with every `seatType` filled in. */
export interface StoredLayout {
  sections: Array<{ id: string; name: string; rows: Array<{ label: string; seats: StoredSeat[] }> }>;
  /** The stage or screen, when the hall says where (best-available seating scores from it). */
  focalPoint?: { x: number; y: number };
}

export interface NormalizedLayout {
  layout: StoredLayout;
  /** Number of seats. */
  capacity: number;
  /** Distinct seat types, sorted: every showtime of the hall must price each of them. */
  seatTypes: string[];
}

/**
 * Validates a seat layout and returns it normalised, in one pass over the seats: no seats, a
 * seat without an id, a seat id used twice anywhere in the hall, more than MAX_SEATS seats.
 * Strings are trimmed and an empty seat type becomes "standard". Problems name the JSON path
 * (`seatLayout.sections[0].rows[1].seats[2].id: duplicate seat id "A1"`); up to ten are
 * reported at once.
 */
export function normalizeLayout(input: SeatLayoutInput, field = "seatLayout"): NormalizedLayout {
  let total = 0;
  for (const section of input.sections) for (const row of section.rows) total += row.seats.length;
  if (total === 0) throw new AppError(Code.InvalidArgument, `${field}: the layout must contain at least one seat`);
  if (total > MAX_SEATS) {
    throw new AppError(Code.InvalidArgument, `${field}: at most ${MAX_SEATS} seats per hall, got ${total}`);
  }

  const problems: string[] = [];
  const firstSeen = new Map<string, string>();
  const seatTypes = new Set<string>();
  const sections: StoredLayout["sections"] = new Array(input.sections.length);
  for (let s = 0; s < input.sections.length; s++) {
    const section = input.sections[s];
    const rows: StoredLayout["sections"][number]["rows"] = new Array(section.rows.length);
    for (let r = 0; r < section.rows.length; r++) {
      const row = section.rows[r];
      const seats: StoredSeat[] = new Array(row.seats.length);
      for (let i = 0; i < row.seats.length; i++) {
        const seat = row.seats[i];
        const id = seat.id.trim();
        if (id === "") {
          if (problems.length < MAX_PROBLEMS) {
            problems.push(`${field}.sections[${s}].rows[${r}].seats[${i}].id: every seat needs an id`);
          }
        } else {
          const seen = firstSeen.get(id);
          if (seen === undefined) {
            firstSeen.set(id, `${s},${r},${i}`);
          } else if (problems.length < MAX_PROBLEMS) {
            const [fs, fr, fi] = seen.split(",");
            problems.push(
              `${field}.sections[${s}].rows[${r}].seats[${i}].id: duplicate seat id ${JSON.stringify(id)} ` +
                `(already used by ${field}.sections[${fs}].rows[${fr}].seats[${fi}])`,
            );
          }
        }
        const seatType = seat.seatType.trim() || DEFAULT_SEAT_TYPE;
        seatTypes.add(seatType);
        const out: StoredSeat = { id, label: seat.label.trim(), seatType };
        if (seat.coordinates) {
          const { x, y } = seat.coordinates;
          if (!Number.isFinite(x) || !Number.isFinite(y)) {
            if (problems.length < MAX_PROBLEMS) {
              problems.push(`${field}.sections[${s}].rows[${r}].seats[${i}].coordinates: x and y must be finite numbers`);
            }
          }
          out.coordinates = { x, y };
        }
        seats[i] = out;
      }
      rows[r] = { label: row.label.trim(), seats };
    }
    sections[s] = { id: section.id.trim(), name: section.name.trim(), rows };
  }
  const layout: StoredLayout = { sections };
  if (input.focalPoint) {
    const { x, y } = input.focalPoint;
    if (!Number.isFinite(x) || !Number.isFinite(y)) problems.push(`${field}.focalPoint: x and y must be finite numbers`);
    layout.focalPoint = { x, y };
  }
  if (problems.length) throw new AppError(Code.InvalidArgument, problems.join("; "));
  return { layout, capacity: total, seatTypes: [...seatTypes].sort() };
}
