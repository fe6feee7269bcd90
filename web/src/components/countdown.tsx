import { useEffect, useState } from "react";

/** Seconds left until `untilMs` (never below 0), ticking every second. */
export function useSecondsLeft(untilMs: number | undefined): number | undefined {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (untilMs === undefined) return;
    const tick = () => setNow(Date.now());
    tick();
    const timer = setInterval(tick, 250);
    return () => clearInterval(timer);
  }, [untilMs]);
  return untilMs === undefined ? undefined : Math.max(0, (untilMs - now) / 1000);
}
