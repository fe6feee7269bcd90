// The real booking workflow, alone (the payments suite's worker bundles only this).
export { bookingWorkflow } from "../../../../workflows/booking";
