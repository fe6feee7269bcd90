import { Code } from "@connectrpc/connect";
import { AppError, invalidArgument } from "../../../lib/errors.js";

/** Longest object-storage key accepted (S3 allows 1024 bytes). */
export const MAX_IMAGE_KEY_LENGTH = 1024;

/** A required free-text field, trimmed; blank is refused. */
export function requiredText(field: string, value: string): string {
  const v = value.trim();
  if (v === "") throw invalidArgument(field, "must not be blank");
  return v;
}

/**
 * Images are object-storage keys of files uploaded beforehand (`venues/cineplex-101/front.jpg`),
 * never the bytes: a data URL, anything longer than 1024 characters or with control characters
 * is refused. Returns the trimmed key; "" stays "" (no image).
 */
export function imageKey(field: string, value: string): string {
  const v = value.trim();
  if (/^data:/i.test(v)) throw invalidArgument(field, "must be an object-storage key of an uploaded image, not a data URL");
  if (v.length > MAX_IMAGE_KEY_LENGTH) throw invalidArgument(field, `must be at most ${MAX_IMAGE_KEY_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex -- exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(v)) throw invalidArgument(field, "must not contain control characters");
  return v;
}

export function imageKeys(field: string, values: readonly string[]): string[] {
  return values.map((v, i) => {
    const key = imageKey(`${field}[${i}]`, v);
    if (key === "") throw invalidArgument(`${field}[${i}]`, "must not be blank");
    return key;
  });
}

/** Keywords trimmed, blanks refused, duplicates (ignoring case) dropped, order kept. */
export function keywords(field: string, values: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  values.forEach((v, i) => {
    const k = requiredText(`${field}[${i}]`, v);
    if (seen.has(k.toLowerCase())) return;
    seen.add(k.toLowerCase());
    out.push(k);
  });
  return out;
}

/** lat ∈ [-90, 90], lon ∈ [-180, 180], both finite (protovalidate checks the range too). */
export function geoPoint(field: string, p: { lat: number; lon: number }): { lat: number; lon: number } {
  const problems: string[] = [];
  if (!Number.isFinite(p.lat) || p.lat < -90 || p.lat > 90) problems.push(`${field}.lat: must be between -90 and 90`);
  if (!Number.isFinite(p.lon) || p.lon < -180 || p.lon > 180) problems.push(`${field}.lon: must be between -180 and 180`);
  if (problems.length) throw new AppError(Code.InvalidArgument, problems.join("; "));
  return { lat: p.lat, lon: p.lon };
}
