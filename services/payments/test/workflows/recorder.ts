/**
 * A throwaway workflow for the payments tests: it stands in for a booking workflow
 * (`booking-<bookingId>`) and records every payment signal it gets, in order, until told to
 * finish. Registered by the suites' own worker on their own task queue.
 */
import { condition, defineQuery, defineSignal, setHandler } from "@temporalio/workflow";
import { SIGNALS, type PaymentEvent } from "../../../../workflows/booking-types";

export interface RecordedSignal {
  name: string;
  event: PaymentEvent;
}

export const recordedQuery = defineQuery<RecordedSignal[]>("recorded");
export const finishSignal = defineSignal("finish");

export async function paymentSignalRecorder(): Promise<RecordedSignal[]> {
  const recorded: RecordedSignal[] = [];
  for (const name of Object.values(SIGNALS)) {
    setHandler(defineSignal<[PaymentEvent]>(name), (event) => {
      recorded.push({ name, event });
    });
  }
  let finished = false;
  setHandler(finishSignal, () => {
    finished = true;
  });
  setHandler(recordedQuery, () => recorded);
  await condition(() => finished);
  return recorded;
}
