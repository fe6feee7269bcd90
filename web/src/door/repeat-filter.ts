/**
 * Tells a new camera scan from the same code still in view. A camera reads the code a person
 * holds up several times a second; only the first sighting is a scan. A code counts as still in
 * view while it was seen within `windowMs` of the previous sighting, so a code held up for a long
 * time stays one scan, and the same code shown again after a pause is a new one. Pure: the
 * caller passes the time.
 */
export interface RepeatFilter {
  /** True when this sighting is a new scan; false when it is the same code still in view. */
  isNewScan(code: string, nowMs: number): boolean;
  /** The code was seen, but could not be taken now (another is being checked): forget it, so its next sighting counts. */
  forget(code: string): void;
}

export function repeatFilter(windowMs: number, maxRemembered = 100): RepeatFilter {
  const lastSeen = new Map<string, number>();
  return {
    isNewScan(code, nowMs) {
      const last = lastSeen.get(code);
      lastSeen.set(code, nowMs);
      if (last !== undefined && nowMs - last < windowMs) return false;
      if (lastSeen.size > maxRemembered) for (const [c, at] of lastSeen) if (nowMs - at >= windowMs) lastSeen.delete(c);
      return true;
    },
    forget(code) {
      lastSeen.delete(code);
    },
  };
}
