// Every workflow the worker registers. Workflow files import activity types only.
export * from "./catalog-events";
export * from "./booking";
export * from "./hold-reaper";
