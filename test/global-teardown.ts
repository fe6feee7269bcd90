/** Stops what global-setup started, newest first. */
export default async function globalTeardown(): Promise<void> {
  const stops = (globalThis as { __engines?: Array<() => Promise<void>> }).__engines ?? [];
  for (const stop of stops.reverse()) await stop();
}
