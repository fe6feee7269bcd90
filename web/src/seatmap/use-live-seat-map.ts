/**
 * A showtime's live seat map for a page: the hall's drawing, a store of the seats' state for the
 * viewer (holds are "mine" by user id), and the WatchInventory stream feeding it. One per page;
 * a new viewer (log in or out) gets a new store and a new stream.
 */
import { useMemo } from "react";
import type { SeatLayout } from "../../../gen/ticketing/catalog/v1/catalog_pb";
import { useSession } from "../auth/use-session";
import { hallGeometry } from "./geometry";
import { SeatStore } from "./store";
import { useInventoryStream, type StreamState } from "./use-inventory";

export function useLiveSeatMap(
  showtimeId: string,
  layout: SeatLayout | undefined,
  onLost?: (seatIds: string[]) => void,
): { store?: SeatStore; stream: StreamState; userId?: string } {
  const session = useSession();
  const userId = session.status === "signed-in" ? session.user.userId : undefined;
  const viewer = session.status === "loading" ? undefined : (userId ?? "anonymous");
  const geometry = useMemo(() => (layout ? hallGeometry(layout) : undefined), [layout]);
  const store = useMemo(() => (geometry && viewer ? new SeatStore(geometry, userId) : undefined), [geometry, viewer, userId]);
  const stream = useInventoryStream(showtimeId, viewer, store, onLost);
  return { store, stream, userId };
}
