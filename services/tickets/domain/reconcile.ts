/**
 * How an offline scan is reconciled with what a ticket already has (docs/adr/0009-tickets.md):
 * the earliest scan is the admission; any other scan of the ticket is a duplicate entry (the
 * offline scanner let the person in). Pure: the repository applies the decision under the
 * ticket's row lock.
 */

export interface ScanAt {
  scannedAt: Date;
  gate: string;
}

export type Reconciliation =
  /** No admission yet: this scan is it. */
  | { kind: "admit" }
  /** This very scan was uploaded before and is the admission: nothing changes. */
  | { kind: "same_admission" }
  /** This very scan was uploaded before and is a recorded duplicate: nothing changes. */
  | { kind: "same_duplicate" }
  /** An earlier (or equally early) admission stands; this scan is a duplicate entry. */
  | { kind: "duplicate" }
  /** This scan is earlier than the admission on record: it becomes the admission, the old one a duplicate. */
  | { kind: "supersede"; previous: ScanAt };

export function sameScan(a: ScanAt, b: ScanAt): boolean {
  return a.scannedAt.getTime() === b.scannedAt.getTime() && a.gate === b.gate;
}

/**
 * The decision for `scan` given the ticket's admission (if any) and whether `scan` is already
 * recorded as a duplicate entry. Ties in time keep the admission on record (first come).
 */
export function reconcile(scan: ScanAt, admission: ScanAt | undefined, recordedAsDuplicate: boolean): Reconciliation {
  if (!admission) return { kind: "admit" };
  if (sameScan(scan, admission)) return { kind: "same_admission" };
  if (recordedAsDuplicate) return { kind: "same_duplicate" };
  if (scan.scannedAt.getTime() < admission.scannedAt.getTime()) return { kind: "supersede", previous: admission };
  return { kind: "duplicate" };
}
