/**
 * google.api.http path templates (https://github.com/googleapis/googleapis/blob/master/google/api/http.proto):
 *
 *     Template = "/" Segments [ Verb ] ;
 *     Segments = Segment { "/" Segment } ;
 *     Segment  = "*" | "**" | LITERAL | Variable ;
 *     Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *     FieldPath = IDENT { "." IDENT } ;
 *     Verb     = ":" LITERAL ;
 *
 * `{venue_id}` is `{venue_id=*}`: one path segment. `**` matches any number of segments and
 * must be the last one. Matching is exact (no trailing-slash tolerance) and case-sensitive.
 */

export type Segment = { kind: "literal"; value: string } | { kind: "wild" } | { kind: "deep" };

export interface PathVariable {
  /** Proto field names, e.g. ["venue", "id"] for `{venue.id}`. */
  fieldPath: string[];
  /** The template segments [start, end) this variable captures. */
  start: number;
  end: number;
}

export interface PathTemplate {
  source: string;
  segments: Segment[];
  variables: PathVariable[];
  verb?: string;
}

export class TemplateError extends Error {
  constructor(template: string, problem: string) {
    super(`invalid path template "${template}": ${problem}`);
    this.name = "TemplateError";
  }
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parseSegment(template: string, text: string): Segment {
  if (text === "*") return { kind: "wild" };
  if (text === "**") return { kind: "deep" };
  if (text === "") throw new TemplateError(template, "empty segment");
  if (/[{}*=]/.test(text)) throw new TemplateError(template, `unexpected characters in segment "${text}"`);
  return { kind: "literal", value: text };
}

export function parsePathTemplate(template: string): PathTemplate {
  if (!template.startsWith("/")) throw new TemplateError(template, "must start with /");
  let body = template;
  let verb: string | undefined;
  const colon = template.lastIndexOf(":");
  if (colon > template.lastIndexOf("/") && colon > template.lastIndexOf("}")) {
    verb = template.slice(colon + 1);
    body = template.slice(0, colon);
    if (!verb || /[/{}*=]/.test(verb)) throw new TemplateError(template, "invalid verb");
  }

  const segments: Segment[] = [];
  const variables: PathVariable[] = [];
  let i = 1;
  while (i <= body.length) {
    if (body[i] === "{") {
      const close = body.indexOf("}", i);
      if (close < 0) throw new TemplateError(template, "unclosed {");
      const inner = body.slice(i + 1, close);
      if (inner.includes("{")) throw new TemplateError(template, "nested variables");
      const eq = inner.indexOf("=");
      const path = eq < 0 ? inner : inner.slice(0, eq);
      const fieldPath = path.split(".");
      if (!fieldPath.every((p) => IDENT.test(p))) throw new TemplateError(template, `invalid field path "${path}"`);
      if (variables.some((v) => v.fieldPath.join(".") === path)) {
        throw new TemplateError(template, `field ${path} bound twice`);
      }
      const start = segments.length;
      const sub = eq < 0 ? "*" : inner.slice(eq + 1);
      for (const s of sub.split("/")) segments.push(parseSegment(template, s));
      variables.push({ fieldPath, start, end: segments.length });
      i = close + 1;
    } else {
      let next = body.indexOf("/", i);
      if (next < 0) next = body.length;
      const text = body.slice(i, next);
      if (text.includes("{") || text.includes("}")) throw new TemplateError(template, `unexpected brace in "${text}"`);
      segments.push(parseSegment(template, text));
      i = next;
    }
    if (i === body.length) break;
    if (body[i] !== "/") throw new TemplateError(template, `expected / at position ${i}`);
    i++;
    if (i === body.length) throw new TemplateError(template, "trailing /");
  }
  const deep = segments.findIndex((s) => s.kind === "deep");
  if (deep >= 0 && deep !== segments.length - 1) throw new TemplateError(template, "** must be the last segment");
  return { source: template, segments, variables, verb };
}

function decodeSegment(raw: string, keepSlash: boolean): string {
  // multi-segment variables keep an encoded "/" encoded (RFC 6570 reserved expansion)
  return decodeURIComponent(keepSlash ? raw.replace(/%2F/gi, "%252F") : raw);
}

/**
 * Matches a request path (the raw, still percent-encoded pathname) against a template.
 * Returns the variable bindings ("venue.id" → decoded value) or undefined.
 */
export function matchPath(t: PathTemplate, pathname: string): Map<string, string> | undefined {
  let path = pathname;
  if (t.verb !== undefined) {
    if (!path.endsWith(`:${t.verb}`)) return undefined;
    path = path.slice(0, path.length - t.verb.length - 1);
  }
  if (!path.startsWith("/")) return undefined;
  const raw = path.slice(1).split("/");
  const segs = t.segments;
  const deep = segs.length > 0 && segs[segs.length - 1].kind === "deep";
  if (deep ? raw.length < segs.length - 1 : raw.length !== segs.length) return undefined;
  try {
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i];
      if (s.kind === "deep") break;
      if (raw[i] === "") return undefined;
      if (s.kind === "literal" && decodeSegment(raw[i], false) !== s.value) return undefined;
    }
    const bindings = new Map<string, string>();
    for (const v of t.variables) {
      const end = v.end === segs.length && deep ? raw.length : v.end;
      const parts = raw.slice(v.start, end);
      const multi = end - v.start !== 1;
      bindings.set(v.fieldPath.join("."), parts.map((p) => decodeSegment(p, multi)).join("/"));
    }
    return bindings;
  } catch {
    return undefined; // malformed percent-encoding: no route matches it
  }
}

/**
 * Orders templates from most to least specific, segment by segment: a literal beats `*`, which
 * beats `**`; so `/api/v1/me/bookings` wins over `/api/v1/me/{x}` for the same path.
 */
export function compareSpecificity(a: PathTemplate, b: PathTemplate): number {
  const rank = (s: Segment | undefined) => (s === undefined ? 3 : s.kind === "literal" ? 0 : s.kind === "wild" ? 1 : 2);
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const d = rank(a.segments[i]) - rank(b.segments[i]);
    if (d !== 0) return d;
  }
  return (a.verb ? 0 : 1) - (b.verb ? 0 : 1);
}

/** A canonical shape (variables and wildcards erased) for detecting two routes that collide. */
export function templateShape(t: PathTemplate): string {
  return (
    "/" +
    t.segments.map((s) => (s.kind === "literal" ? s.value : s.kind === "wild" ? "*" : "**")).join("/") +
    (t.verb ? `:${t.verb}` : "")
  );
}
