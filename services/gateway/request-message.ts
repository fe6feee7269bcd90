import {
  create,
  fromJson,
  toJson,
  ScalarType,
  type DescEnum,
  type DescField,
  type DescMessage,
  type JsonObject,
  type JsonValue,
  type Message,
  type Registry,
} from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence, hasCustomJsonRepresentation, isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { badRequest, HttpError, isJsonMediaType, mediaType } from "./http-io.js";
import { findField, isScalarLike, isStructLike, type RestBinding } from "./http-rules.js";

/*
 * REST request → protobuf request message, following google.api.http:
 *   1. query parameters fill the fields neither the path nor the body carries (`a.b=1` for
 *      nested fields, `x=1&x=2` for repeated ones, by JSON or proto name);
 *   2. the body is the whole request (`body: "*"`) or one field of it (`body: "field"`);
 *   3. path variables are set last, so a path variable wins over the same field in the body.
 * The result is one proto3-JSON object parsed with fromJson (unknown fields rejected), so the
 * body, the query and the path follow exactly the proto3 JSON rules; on failure the error is
 * located and named by its JSON path (`seatLayout.sections[0].rows[1].seats[2].id: ...`).
 */

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Parses a JSON body; an empty (or all-whitespace) body is `undefined`. */
export function parseJsonBody(bytes: Uint8Array): JsonValue | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw badRequest("request body is not valid UTF-8");
  }
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw badRequest(`malformed JSON in request body: ${(err as Error).message}`);
  }
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function joinPath(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  if (typeof v === "string") return v.length > 30 ? "a string" : JSON.stringify(v);
  return String(v);
}

// ---------------------------------------------------------------------------------------------
// strings (path segments, query values) → proto3 JSON values
// ---------------------------------------------------------------------------------------------

function scalarFromString(scalar: ScalarType, raw: string): JsonValue {
  switch (scalar) {
    case ScalarType.BOOL: {
      const v = raw.toLowerCase();
      if (v === "true" || v === "1") return true;
      if (v === "false" || v === "0") return false;
      return raw; // fromJson names the field: expected boolean
    }
    default:
      // numbers (proto3 JSON accepts decimal strings for every numeric type, int64 included),
      // strings, bytes (base64)
      return raw;
  }
}

function enumFromString(e: DescEnum, raw: string): JsonValue {
  if (/^-?\d+$/.test(raw)) return Number(raw);
  if (e.values.some((v) => v.name === raw)) return raw;
  const upper = raw.toUpperCase();
  if (e.values.some((v) => v.name === upper)) return upper;
  return raw;
}

/** The JSON value a single string sets `field` to (field is scalar-like, see isScalarLike). */
function valueFromString(field: DescField, raw: string): JsonValue {
  const scalar = field.fieldKind === "scalar" || field.fieldKind === "list" ? field.scalar : undefined;
  if (scalar !== undefined) return scalarFromString(scalar, raw);
  const en = field.fieldKind === "enum" || field.fieldKind === "list" ? field.enum : undefined;
  if (en) return enumFromString(en, raw);
  const msg = field.fieldKind === "message" || field.fieldKind === "list" ? field.message : undefined;
  if (msg && isWrapperDesc(msg)) return scalarFromString(msg.fields[0].scalar, raw);
  return raw; // Timestamp, Duration, FieldMask, Value: their JSON form is a string
}

/** True when an empty query value means "not given" (a number, bool, enum or timestamp). */
function emptyMeansAbsent(field: DescField): boolean {
  const scalar = field.fieldKind === "scalar" || field.fieldKind === "list" ? field.scalar : undefined;
  if (scalar !== undefined) return scalar !== ScalarType.STRING && scalar !== ScalarType.BYTES;
  const msg = field.fieldKind === "message" || field.fieldKind === "list" ? field.message : undefined;
  if (msg && isWrapperDesc(msg)) return emptyMeansAbsent(msg.fields[0]);
  return true;
}

function queryListable(field: DescField): boolean {
  if (field.fieldKind !== "list") return false;
  if (field.listKind !== "message") return true;
  return hasCustomJsonRepresentation(field.message) && !isStructLike(field.message);
}

/**
 * Query parameters → a proto3-JSON object for `schema`. `carried(field)` tells which top-level
 * fields the body or the path carries (a query parameter naming a body field is refused; one
 * naming a path field is overridden by the path).
 */
export function queryToJson(
  schema: DescMessage,
  params: Iterable<[string, string]>,
  carried: { body?: "*" | DescField } = {},
): JsonObject {
  const grouped = new Map<string, { fields: DescField[]; values: string[]; name: string }>();
  for (const [name, value] of params) {
    if (carried.body === "*") {
      throw badRequest(`query parameter "${name}" is not accepted: this route takes the whole request in the body`);
    }
    const parts = name.split(".");
    const fields: DescField[] = [];
    let message: DescMessage = schema;
    for (let i = 0; i < parts.length; i++) {
      const field = findField(message, parts[i]);
      if (!field) throw badRequest(`unknown query parameter "${name}"`);
      fields.push(field);
      if (i < parts.length - 1) {
        if (field.fieldKind !== "message" || hasCustomJsonRepresentation(field.message)) {
          throw badRequest(`query parameter "${name}": ${parts.slice(0, i + 1).join(".")} has no sub-fields`);
        }
        message = field.message;
      }
    }
    if (carried.body && fields[0] === carried.body) {
      throw badRequest(`query parameter "${name}": ${carried.body.jsonName} is carried by the request body`);
    }
    const last = fields[fields.length - 1];
    if (!isScalarLike(last) && !queryListable(last)) {
      throw badRequest(
        `query parameter "${name}": ${last.jsonName} is ${last.fieldKind === "map" ? "a map" : "an object"} and cannot be set from the query string` +
          (last.fieldKind === "message" ? `; set its fields instead (${name}.<field>=...)` : ""),
      );
    }
    const key = fields.map((f) => f.jsonName).join(".");
    const group = grouped.get(key) ?? { fields, values: [], name };
    group.values.push(value);
    grouped.set(key, group);
  }

  const out: JsonObject = {};
  for (const [key, { fields, values, name }] of grouped) {
    const last = fields[fields.length - 1];
    let value: JsonValue;
    if (last.fieldKind === "list") {
      value = values.filter((v) => v !== "" || !emptyMeansAbsent(last)).map((v) => valueFromString(last, v));
    } else {
      if (values.length > 1) throw badRequest(`query parameter "${name}" is given ${values.length} times but ${key} is not repeated`);
      if (values[0] === "" && emptyMeansAbsent(last)) continue;
      value = valueFromString(last, values[0]);
    }
    let obj = out;
    for (const f of fields.slice(0, -1)) {
      const child = obj[f.jsonName];
      obj = isObject(child) ? child : (obj[f.jsonName] = {});
    }
    obj[last.jsonName] = value;
  }
  return out;
}

/**
 * Sets the path variables into `json` (in place), overriding whatever the body said for the same
 * field, under its JSON or its proto name.
 */
export function applyPathVariables(json: JsonObject, bindings: Map<string, string>, pathFields: Map<string, DescField[]>): void {
  for (const [path, raw] of bindings) {
    const fields = pathFields.get(path);
    if (!fields) continue;
    let obj = json;
    fields.forEach((f, i) => {
      const existing = obj[f.jsonName] !== undefined ? obj[f.jsonName] : obj[f.name];
      if (f.name !== f.jsonName) delete obj[f.name];
      if (i < fields.length - 1) {
        obj = obj[f.jsonName] = isObject(existing) ? existing : {};
      } else {
        obj[f.jsonName] = valueFromString(f, raw);
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// proto3 JSON → message, with errors that name the field
// ---------------------------------------------------------------------------------------------

function tryParse(schema: DescMessage, json: JsonValue, registry?: Registry): unknown {
  try {
    fromJson(schema, json, { ignoreUnknownFields: false, registry });
    return undefined;
  } catch (err) {
    return err ?? new Error("invalid");
  }
}

function rawReason(err: unknown): string {
  const e = err as Error & { cause?: unknown };
  const msg = e.cause instanceof Error && typeof (e.cause as { field?: unknown }).field === "function" ? e.cause.message : String(e.message);
  return msg.replace(/^cannot decode (field|message|enum) [\w.]+ from JSON:? ?/, "");
}

function enumOf(field: DescField): DescEnum | undefined {
  if (field.fieldKind === "enum") return field.enum;
  if (field.fieldKind === "list" && field.listKind === "enum") return field.enum;
  if (field.fieldKind === "map" && field.mapKind === "enum") return field.enum;
  return undefined;
}

function messageOf(field: DescField): DescMessage | undefined {
  if (field.fieldKind === "message") return field.message;
  if (field.fieldKind === "list" && field.listKind === "message") return field.message;
  if (field.fieldKind === "map" && field.mapKind === "message") return field.message;
  return undefined;
}

/** Rewords a protobuf-es reason for an API user, given the field and the value at fault. */
function reasonFor(field: DescField | undefined, value: JsonValue, err: unknown): string {
  const en = field && enumOf(field);
  if (en) return `expected one of ${en.values.map((v) => v.name).join(", ")}, got ${describe(value)}`;
  const msg = field && messageOf(field);
  if (msg?.typeName === "google.protobuf.Timestamp") {
    return `expected an RFC 3339 timestamp such as "2025-06-01T19:30:00Z", got ${describe(value)}`;
  }
  if (msg?.typeName === "google.protobuf.Duration") return `expected a duration such as "3.5s", got ${describe(value)}`;
  return rawReason(err).replace(/^expected Array\b/, "expected array");
}

/** Finds the first problem in `json` for `schema`, as `jsonPath: reason`; undefined if none. */
export function locateJsonError(schema: DescMessage, json: JsonValue, path: string, registry?: Registry): string | undefined {
  const where = path || "request";
  if (hasCustomJsonRepresentation(schema)) {
    const err = tryParse(schema, json, registry);
    return err ? `${where}: ${rawReason(err)}` : undefined;
  }
  if (!isObject(json)) return `${path || "request body"}: expected object, got ${describe(json)}`;
  const seen = new Map<DescField, string>();
  for (const [key, value] of Object.entries(json)) {
    const field = findField(schema, key);
    if (!field) return `${joinPath(path, key)}: unknown field`;
    const fieldPath = joinPath(path, field.jsonName);
    const other = seen.get(field);
    if (other !== undefined) return `${fieldPath}: given twice (as "${other}" and "${key}")`;
    seen.set(field, key);
    const err = tryParse(schema, { [key]: value }, registry);
    if (!err) continue;
    const sub = messageOf(field);
    if (sub && !hasCustomJsonRepresentation(sub) && value !== null) {
      let found: string | undefined;
      if (field.fieldKind === "message") {
        found = locateJsonError(sub, value, fieldPath, registry);
      } else if (field.fieldKind === "list" && Array.isArray(value)) {
        for (let i = 0; i < value.length && !found; i++) {
          found = value[i] === null ? `${fieldPath}[${i}]: must not be null` : locateJsonError(sub, value[i], `${fieldPath}[${i}]`, registry);
        }
      } else if (field.fieldKind === "map" && isObject(value)) {
        for (const [k, v] of Object.entries(value)) {
          found = v === null ? `${fieldPath}[${JSON.stringify(k)}]: must not be null` : locateJsonError(sub, v, `${fieldPath}[${JSON.stringify(k)}]`, registry);
          if (found) break;
        }
      }
      if (found) return found;
    }
    if (field.fieldKind === "list" && Array.isArray(value)) {
      // name the item at fault: seatIds[2]
      for (let i = 0; i < value.length; i++) {
        const itemErr = tryParse(schema, { [key]: [value[i]] }, registry);
        if (itemErr) {
          const reason = value[i] === null ? "must not be null" : reasonFor(field, value[i], itemErr).replace(/^list item #\d+: /, "");
          return `${fieldPath}[${i}]: ${reason}`;
        }
      }
    }
    return `${fieldPath}: ${reasonFor(field, value, err)}`;
  }
  const err = tryParse(schema, json, registry);
  return err ? `${where}: ${rawReason(err)}` : undefined;
}

/** fromJson with unknown fields refused; any failure is a 400 that names the field. */
export function decodeRequest(schema: DescMessage, json: JsonValue, registry?: Registry): Message {
  try {
    return fromJson(schema, json, { ignoreUnknownFields: false, registry });
  } catch (err) {
    throw badRequest(locateJsonError(schema, json, "", registry) ?? `invalid request: ${rawReason(err)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// the whole request
// ---------------------------------------------------------------------------------------------

export interface RestRequestParts {
  pathVariables: Map<string, string>;
  query: URLSearchParams;
  /** Raw body bytes (empty when none). */
  body: Uint8Array;
  contentType: string | undefined;
}

/** Builds the request message of `binding` from a REST request. Throws HttpError (400/415). */
export function buildRequestMessage(binding: RestBinding, parts: RestRequestParts, registry?: Registry): Message {
  const schema = binding.method.input;
  const hasBody = parts.body.length > 0 && parts.body.some((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  let bodyJson: JsonValue | undefined;
  if (hasBody) {
    if (binding.body === "") {
      throw badRequest(`${binding.httpMethod} ${binding.template.source} takes no request body; send parameters in the query string`);
    }
    const type = mediaType(parts.contentType);
    if (type !== undefined && !isJsonMediaType(type)) {
      throw new HttpError(415, "invalid_argument", `unsupported content type ${type}; send application/json`);
    }
    bodyJson = parseJsonBody(parts.body);
  }

  let json: JsonObject;
  if (binding.body === "*") {
    queryToJson(schema, parts.query, { body: "*" }); // refuses any query parameter
    if (bodyJson !== undefined && !isObject(bodyJson)) {
      throw badRequest(`request body must be a JSON object, got ${describe(bodyJson)}`);
    }
    json = bodyJson ?? {};
  } else {
    json = queryToJson(schema, parts.query, { body: binding.bodyField });
    if (binding.bodyField && bodyJson !== undefined) json[binding.bodyField.jsonName] = bodyJson;
  }
  applyPathVariables(json, parts.pathVariables, binding.pathFields);
  return decodeRequest(schema, json, registry);
}

/** What withExplicitNulls does for one message type, worked out once per type. */
interface NullPlan {
  /** JSON names of the fields shown as null when unset, in field order. */
  nullable: string[];
  /** Fields holding messages (not well-known types) to enter. */
  nested: Array<{ jsonName: string; kind: "message" | "list" | "map"; desc: DescMessage }>;
}

const nullPlans = new WeakMap<DescMessage, NullPlan>();

function nullPlanOf(desc: DescMessage): NullPlan {
  let plan = nullPlans.get(desc);
  if (plan) return plan;
  const isWkt = (m: DescMessage) => m.typeName.startsWith("google.protobuf.");
  plan = { nullable: [], nested: [] };
  for (const field of desc.fields) {
    if (field.oneof) continue;
    if (field.fieldKind === "message" || (field.fieldKind !== "list" && field.fieldKind !== "map" && field.presence === FeatureSet_FieldPresence.EXPLICIT)) {
      plan.nullable.push(field.jsonName);
    }
    if (field.fieldKind === "message" && !isWkt(field.message)) plan.nested.push({ jsonName: field.jsonName, kind: "message", desc: field.message });
    if (field.fieldKind === "list" && field.listKind === "message" && !isWkt(field.message)) plan.nested.push({ jsonName: field.jsonName, kind: "list", desc: field.message });
    if (field.fieldKind === "map" && field.mapKind === "message" && !isWkt(field.message)) plan.nested.push({ jsonName: field.jsonName, kind: "map", desc: field.message });
  }
  nullPlans.set(desc, plan);
  return plan;
}

/**
 * proto3 JSON leaves out unset fields with explicit presence (`optional` scalars, messages); the
 * REST contract shows them as `null` (another user's hold: `"holderId": null`). Fills them in,
 * recursively, in place; members of real oneofs stay absent, and well-known types are not
 * entered. The fields to look at are worked out once per message type: a 1,000-seat map spent
 * most of its REST answer's CPU here when every field of every seat was inspected.
 */
export function withExplicitNulls(desc: DescMessage, json: JsonValue): JsonValue {
  if (!isObject(json)) return json;
  const plan = nullPlanOf(desc);
  for (const name of plan.nullable) if (json[name] === undefined) json[name] = null;
  for (const { jsonName, kind, desc: sub } of plan.nested) {
    const value = json[jsonName];
    if (value === null || value === undefined) continue;
    if (kind === "message") {
      withExplicitNulls(sub, value);
    } else if (kind === "list") {
      if (Array.isArray(value)) for (const item of value) withExplicitNulls(sub, item);
    } else if (isObject(value)) {
      for (const k in value) withExplicitNulls(sub, value[k]);
    }
  }
  return json;
}

/** The REST response body: the whole response, or its `response_body` field. */
export function responseJson(binding: RestBinding, message: Message, registry?: Registry): JsonValue {
  const opts = { alwaysEmitImplicit: true, useProtoFieldName: false, registry };
  const whole = withExplicitNulls(binding.method.output, toJson(binding.method.output, message, opts));
  const field = binding.responseField;
  if (!field) return whole;
  const value = isObject(whole) ? whole[field.jsonName] : undefined;
  if (value !== undefined && !(value === null && field.fieldKind === "message")) return value;
  if (field.fieldKind === "message") return toJson(field.message, create(field.message), opts);
  return null;
}
