/**
 * The drawing of a hall, computed once per layout: every seat's position from the layout's own
 * coordinates, a seat size that fits the spacing, the bounds to fit the view to, and the rows in
 * reading order for keyboard navigation. Pure; no React.
 */
import type { SeatLayout } from "../../../gen/ticketing/catalog/v1/catalog_pb";

export interface SeatGeom {
  id: string;
  /** What is printed on the seat (the id when the layout gives none). */
  label: string;
  seatType: string;
  /** Index of seatType in HallGeometry.seatTypes (its colour). */
  typeIndex: number;
  section: string;
  x: number;
  y: number;
  /** Index of the seat's row in HallGeometry.rows. */
  row: number;
}

export interface HallGeometry {
  seats: SeatGeom[];
  /** Seat id → index in `seats`. */
  index: Map<string, number>;
  /** Seat indices per row, left to right; rows top to bottom. */
  rows: number[][];
  radius: number;
  bounds: { x: number; y: number; width: number; height: number };
  /** Seat types in order of first appearance. */
  seatTypes: string[];
  /** Where each section's name is drawn (above its first row, where there is room). */
  sectionLabels: Array<{ name: string; x: number; y: number }>;
  /** Where each row's label is drawn (left of its first seat). */
  rowLabels: Array<{ label: string; x: number; y: number }>;
}

export function hallGeometry(layout: SeatLayout | undefined): HallGeometry {
  const seats: SeatGeom[] = [];
  const index = new Map<string, number>();
  const seatTypes: string[] = [];
  const typeIndexOf = new Map<string, number>();
  const rawRows: number[][] = [];
  const rawRowLabels: string[] = [];
  const sectionLabels: HallGeometry["sectionLabels"] = [];

  for (const section of layout?.sections ?? []) {
    let first = true;
    for (const row of section.rows) {
      const indices: number[] = [];
      for (const seat of row.seats) {
        const seatType = seat.seatType || "standard";
        let typeIndex = typeIndexOf.get(seatType);
        if (typeIndex === undefined) {
          typeIndex = seatTypes.length;
          seatTypes.push(seatType);
          typeIndexOf.set(seatType, typeIndex);
        }
        const i = seats.length;
        seats.push({
          id: seat.id,
          label: seat.label || seat.id,
          seatType,
          typeIndex,
          section: section.name || section.id,
          x: seat.coordinates?.x ?? 0,
          y: seat.coordinates?.y ?? 0,
          row: -1,
        });
        index.set(seat.id, i);
        indices.push(i);
        if (first && (section.name || section.id)) {
          sectionLabels.push({ name: section.name || section.id, x: seats[i].x, y: seats[i].y });
          first = false;
        }
      }
      if (indices.length) {
        rawRows.push(indices);
        rawRowLabels.push(row.label);
      }
    }
  }

  // rows in reading order (top to bottom by mean y, then left to right), seats left to right
  const meanY = (r: number[]) => r.reduce((sum, i) => sum + seats[i].y, 0) / r.length;
  const meanX = (r: number[]) => r.reduce((sum, i) => sum + seats[i].x, 0) / r.length;
  const ordered = rawRows
    .map((r, k) => ({ r: [...r].sort((a, b) => seats[a].x - seats[b].x), y: meanY(r), x: meanX(r), label: rawRowLabels[k] }))
    .sort((a, b) => a.y - b.y || a.x - b.x);
  const rows = ordered.map((e) => e.r);
  rows.forEach((r, rowIndex) => r.forEach((i) => (seats[i].row = rowIndex)));

  const radius = seatRadius(seats, rows);
  const rowLabels = ordered.filter((e) => e.label).map((e) => ({ label: e.label, x: seats[e.r[0]].x - radius * 1.6, y: seats[e.r[0]].y }));
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const s of seats) {
    if (s.x < minX) minX = s.x;
    if (s.y < minY) minY = s.y;
    if (s.x > maxX) maxX = s.x;
    if (s.y > maxY) maxY = s.y;
  }
  if (seats.length === 0) [minX, minY, maxX, maxY] = [0, 0, 100, 100];
  // room on the left for row labels, above for the stage and the first section's name
  const left = radius * 4;
  const pad = radius * 2;
  const top = radius * 6;
  // a section's name goes above its first seat only where no seat is in the way
  const labelled = sectionLabels.filter((l) => !seats.some((s) => s.y < l.y && s.y > l.y - radius * 3.2 && Math.abs(s.x - l.x) < radius * 8));
  for (const label of labelled) label.y -= radius * 1.8;
  return {
    seats,
    index,
    rows,
    radius,
    bounds: { x: minX - left, y: minY - top, width: maxX - minX + left + pad, height: maxY - minY + pad + top },
    seatTypes,
    sectionLabels: labelled,
    rowLabels,
  };
}

/** 40 % of the typical distance between neighbours in a row (or between rows), so seats never touch. */
function seatRadius(seats: SeatGeom[], rows: number[][]): number {
  const gaps: number[] = [];
  for (const r of rows) {
    for (let k = 1; k < r.length && gaps.length < 5000; k++) {
      const a = seats[r[k - 1]];
      const b = seats[r[k]];
      const d = Math.hypot(b.x - a.x, b.y - a.y);
      if (d > 0) gaps.push(d);
    }
  }
  for (let k = 1; k < rows.length && gaps.length < 5000; k++) {
    const a = seats[rows[k - 1][0]];
    const b = seats[rows[k][0]];
    const d = Math.abs(b.y - a.y);
    if (d > 0) gaps.push(d);
  }
  if (gaps.length === 0) return 10;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 4)] * 0.4;
}

/** The seat reached from `from` by an arrow key, or undefined at the edge. */
export function neighbour(g: HallGeometry, from: number, key: "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown" | "Home" | "End"): number | undefined {
  const seat = g.seats[from];
  const row = g.rows[seat.row];
  const at = row.indexOf(from);
  switch (key) {
    case "ArrowLeft":
      return row[at - 1];
    case "ArrowRight":
      return row[at + 1];
    case "Home":
      return row[0];
    case "End":
      return row[row.length - 1];
    case "ArrowUp":
    case "ArrowDown": {
      const target = g.rows[seat.row + (key === "ArrowUp" ? -1 : 1)];
      if (!target) return undefined;
      let best = target[0];
      for (const i of target) if (Math.abs(g.seats[i].x - seat.x) < Math.abs(g.seats[best].x - seat.x)) best = i;
      return best;
    }
  }
}
