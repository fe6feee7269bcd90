/**
 * Generates a hall's seat layout from sections of rows (the editor's "generate" mode): rows are
 * lettered A, B, … Z, AA, AB, … across the whole hall, seats numbered from 1 in each row (so ids
 * like "C12" are unique in the hall), drawn 30 units apart and each section centred under the
 * widest one, with one empty row between sections. Pure.
 */
import { create } from "@bufbuild/protobuf";
import { SeatLayoutSchema, type SeatLayout } from "../../../../gen/ticketing/catalog/v1/catalog_pb";

export interface SectionSpec {
  name: string;
  seatType: string;
  rows: number;
  seatsPerRow: number;
}

const SPACING = 30;
/** The contract allows at most 1,000 rows and 1,000 seats per row; keep previews sane too. */
const MAX_ROWS = 200;
const MAX_SEATS_PER_ROW = 1000;

/** "A".."Z", "AA".."AZ", "BA"… for 0, 1, 2… */
export function rowLabel(n: number): string {
  let label = "";
  let k = n;
  do {
    label = String.fromCharCode(65 + (k % 26)) + label;
    k = Math.floor(k / 26) - 1;
  } while (k >= 0);
  return label;
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

export function generateLayout(sections: readonly SectionSpec[]): SeatLayout {
  const clean = sections.map((s) => ({
    ...s,
    rows: clampInt(s.rows, 1, MAX_ROWS),
    seatsPerRow: clampInt(s.seatsPerRow, 1, MAX_SEATS_PER_ROW),
    seatType: s.seatType.trim() || "standard",
  }));
  const widest = Math.max(1, ...clean.map((s) => s.seatsPerRow));
  let row = 0;
  let y = SPACING;
  const usedIds = new Set<string>();
  return create(SeatLayoutSchema, {
    sections: clean.map((s, i) => {
      const left = SPACING + ((widest - s.seatsPerRow) * SPACING) / 2;
      const id = slug(s.name) || `section-${i + 1}`;
      const section = {
        id: usedIds.has(id) ? `${id}-${i + 1}` : id,
        name: s.name.trim() || `Section ${i + 1}`,
        rows: Array.from({ length: s.rows }, () => {
          const label = rowLabel(row++);
          const seats = Array.from({ length: s.seatsPerRow }, (_, n) => ({
            id: `${label}${n + 1}`,
            label: `${label}${n + 1}`,
            coordinates: { x: left + n * SPACING, y },
            seatType: s.seatType,
          }));
          y += SPACING;
          return { label, seats };
        }),
      };
      usedIds.add(section.id);
      y += SPACING; // an aisle between sections
      return section;
    }),
  });
}

function clampInt(n: number, min: number, max: number): number {
  return Number.isFinite(n) ? Math.min(max, Math.max(min, Math.floor(n))) : min;
}
