/**
 * Zoom and pan of the seat map, as the SVG's viewBox: the wheel zooms around the pointer, a drag
 * pans (and a drag is not a click), buttons zoom around the centre, and a seat reached by the
 * keyboard is scrolled into view. The view never leaves the hall and never zooms out past it.
 */
import { useCallback, useEffect, useRef, useState, type PointerEvent, type RefObject } from "react";

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A pointer that moved this many CSS pixels is dragging, not clicking. */
const DRAG_THRESHOLD_PX = 4;

export function useViewBox(bounds: Box, radius: number, svgRef: RefObject<SVGSVGElement | null>) {
  const [view, setView] = useState<Box>(bounds);
  const drag = useRef<{ id: number; startX: number; startY: number; view: Box; moved: boolean } | undefined>(undefined);
  const lastDragMoved = useRef(false);

  useEffect(() => setView(bounds), [bounds]);

  /** Keeps a view inside the hall, no larger than the hall and no smaller than ~6 seats across. */
  const clamp = useCallback(
    (v: Box): Box => {
      const minWidth = Math.min(bounds.width, radius * 16);
      const scale = Math.min(Math.max(v.width, minWidth), bounds.width) / v.width;
      const width = v.width * scale;
      const height = v.height * scale;
      const cx = v.x + v.width / 2;
      const cy = v.y + v.height / 2;
      const x = Math.min(Math.max(cx - width / 2, bounds.x), bounds.x + bounds.width - width);
      const y = Math.min(Math.max(cy - height / 2, bounds.y), bounds.y + bounds.height - height);
      return { x, y, width, height };
    },
    [bounds, radius],
  );

  const zoom = useCallback(
    (factor: number, at?: { x: number; y: number }) =>
      setView((v) => {
        const cx = at?.x ?? v.x + v.width / 2;
        const cy = at?.y ?? v.y + v.height / 2;
        const width = v.width / factor;
        const height = v.height / factor;
        // the point under the pointer stays where it is
        return clamp({ x: cx - ((cx - v.x) / v.width) * width, y: cy - ((cy - v.y) / v.height) * height, width, height });
      }),
    [clamp],
  );

  const fit = useCallback(() => setView(bounds), [bounds]);

  /** Converts a client (CSS pixel) point to the SVG's user units. */
  const toSvg = useCallback(
    (clientX: number, clientY: number) => {
      const svg = svgRef.current;
      const ctm = svg?.getScreenCTM();
      if (!svg || !ctm) return undefined;
      const p = new DOMPoint(clientX, clientY).matrixTransform(ctm.inverse());
      return { x: p.x, y: p.y };
    },
    [svgRef],
  );

  // the wheel must be listened to actively to keep the page from scrolling while zooming
  useEffect(() => {
    const svg = svgRef.current;
    if (!svg) return;
    const onWheel = (e: WheelEvent) => {
      if (e.ctrlKey === false && Math.abs(e.deltaY) < 1) return;
      e.preventDefault();
      zoom(e.deltaY < 0 ? 1.2 : 1 / 1.2, toSvg(e.clientX, e.clientY));
    };
    svg.addEventListener("wheel", onWheel, { passive: false });
    return () => svg.removeEventListener("wheel", onWheel);
  }, [svgRef, zoom, toSvg]);

  const pointer = {
    down(e: PointerEvent<SVGSVGElement>) {
      if (e.button !== 0) return;
      drag.current = { id: e.pointerId, startX: e.clientX, startY: e.clientY, view, moved: false };
      lastDragMoved.current = false;
    },
    move(e: PointerEvent<SVGSVGElement>) {
      const d = drag.current;
      if (!d || d.id !== e.pointerId) return;
      const dx = e.clientX - d.startX;
      const dy = e.clientY - d.startY;
      if (!d.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD_PX) return;
      if (!d.moved) {
        d.moved = true;
        e.currentTarget.setPointerCapture(e.pointerId);
      }
      const rect = e.currentTarget.getBoundingClientRect();
      // user units per CSS pixel (preserveAspectRatio "meet": the larger ratio applies)
      const scale = Math.max(d.view.width / rect.width, d.view.height / rect.height);
      setView(clamp({ ...d.view, x: d.view.x - dx * scale, y: d.view.y - dy * scale }));
    },
    up(e: PointerEvent<SVGSVGElement>) {
      const d = drag.current;
      if (!d || d.id !== e.pointerId) return;
      lastDragMoved.current = d.moved;
      drag.current = undefined;
    },
    /** Pans so that a point (a seat reached by the keyboard) is in view. */
    reveal(x: number, y: number) {
      setView((v) => {
        const margin = radius * 3;
        if (x - margin >= v.x && x + margin <= v.x + v.width && y - margin >= v.y && y + margin <= v.y + v.height) return v;
        return clamp({ ...v, x: x - v.width / 2, y: y - v.height / 2 });
      });
    },
  };

  /** Whether the click that follows was the end of a drag (and must not select a seat). */
  const dragging = useCallback(() => lastDragMoved.current, []);

  return { viewBox: view, zoom, fit, dragging, pointer };
}
