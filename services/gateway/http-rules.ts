import { getOption, hasOption, type DescField, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { hasCustomJsonRepresentation } from "@bufbuild/protobuf/wkt";
import { http } from "../../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../../gen/google/api/http_pb.js";
import { http_success_status } from "../../gen/ticketing/common/v1/http_pb.js";
import { parsePathTemplate, type PathTemplate } from "./path-template.js";

/** One REST route: an HTTP method and path template bound to an RPC (a google.api.http rule). */
export interface RestBinding {
  service: DescService;
  method: DescMethod;
  /** Backend name (lib/services.ts) that serves the method. */
  backend: string;
  httpMethod: string;
  template: PathTemplate;
  /** "" (no body), "*" (the whole request) or the proto name of the field the body fills. */
  body: string;
  bodyField?: DescField;
  /** The response field sent as the REST response, when `response_body` is set. */
  responseField?: DescField;
  /** 200 unless the method declares (ticketing.common.v1.http_success_status). */
  successStatus: number;
  /** Path variables resolved to the fields they fill, outermost first. */
  pathFields: Map<string, DescField[]>;
}

export class RuleError extends Error {
  constructor(method: DescMethod, problem: string) {
    super(`google.api.http rule of ${method.parent.typeName}.${method.name}: ${problem}`);
    this.name = "RuleError";
  }
}

/** Finds a field by its proto name or its JSON name. */
export function findField(message: DescMessage, name: string): DescField | undefined {
  return message.fields.find((f) => f.name === name) ?? message.fields.find((f) => f.jsonName === name);
}

/** True for fields a single string (path segment, query value) can set. */
export function isScalarLike(field: DescField): boolean {
  if (field.fieldKind === "scalar" || field.fieldKind === "enum") return true;
  if (field.fieldKind === "message") return hasCustomJsonRepresentation(field.message) && !isStructLike(field.message);
  return false;
}

export function isStructLike(message: DescMessage): boolean {
  return (
    message.typeName === "google.protobuf.Struct" ||
    message.typeName === "google.protobuf.ListValue" ||
    message.typeName === "google.protobuf.Any"
  );
}

function resolvePathField(method: DescMethod, path: string[]): DescField[] {
  const out: DescField[] = [];
  let message: DescMessage | undefined = method.input;
  for (let i = 0; i < path.length; i++) {
    const field: DescField | undefined = message ? message.fields.find((f) => f.name === path[i]) : undefined;
    if (!field) throw new RuleError(method, `path variable ${path.join(".")}: no field ${path[i]} in ${message?.typeName}`);
    out.push(field);
    if (i < path.length - 1) {
      if (field.fieldKind !== "message" || hasCustomJsonRepresentation(field.message)) {
        throw new RuleError(method, `path variable ${path.join(".")}: ${field.name} is not a message`);
      }
      message = field.message;
    } else if (!isScalarLike(field)) {
      throw new RuleError(method, `path variable ${path.join(".")} must be a singular scalar field`);
    }
  }
  return out;
}

function patternOf(rule: HttpRule): { httpMethod: string; path: string } | undefined {
  const p = rule.pattern;
  switch (p.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      return { httpMethod: p.case.toUpperCase(), path: p.value };
    case "custom":
      return { httpMethod: p.value.kind.toUpperCase(), path: p.value.path };
    default:
      return undefined;
  }
}

function bindingOf(service: DescService, method: DescMethod, backend: string, rule: HttpRule, status: number): RestBinding {
  const pattern = patternOf(rule);
  if (!pattern) throw new RuleError(method, "no HTTP method/path pattern");
  let template: PathTemplate;
  try {
    template = parsePathTemplate(pattern.path);
  } catch (err) {
    throw new RuleError(method, (err as Error).message);
  }
  const pathFields = new Map<string, DescField[]>();
  for (const v of template.variables) pathFields.set(v.fieldPath.join("."), resolvePathField(method, v.fieldPath));

  let bodyField: DescField | undefined;
  if (rule.body !== "" && rule.body !== "*") {
    bodyField = method.input.fields.find((f) => f.name === rule.body);
    if (!bodyField) throw new RuleError(method, `body: no field ${rule.body} in ${method.input.typeName}`);
  }
  let responseField: DescField | undefined;
  if (rule.responseBody !== "") {
    responseField = method.output.fields.find((f) => f.name === rule.responseBody);
    if (!responseField) throw new RuleError(method, `response_body: no field ${rule.responseBody} in ${method.output.typeName}`);
  }
  return {
    service,
    method,
    backend,
    httpMethod: pattern.httpMethod,
    template,
    body: rule.body,
    bodyField,
    responseField,
    successStatus: status,
    pathFields,
  };
}

/**
 * The REST routes of a service, read from its descriptors: every unary method with a
 * google.api.http rule, plus its additional_bindings. Throws RuleError on a rule that cannot be
 * served (a contract bug that should fail start-up and CI, not a request); a rule on a
 * streaming method is reported through `warn` and skipped.
 */
export function restBindings(service: DescService, backend: string, warn: (message: string) => void = () => {}): RestBinding[] {
  const out: RestBinding[] = [];
  for (const method of service.methods) {
    if (!hasOption(method, http)) continue;
    if (method.methodKind !== "unary") {
      // streams are served over Connect/gRPC-Web only; the rule is ignored, not fatal
      warn(new RuleError(method, "ignored: only unary methods get a REST route").message);
      continue;
    }
    const rule = getOption(method, http);
    let status = 200;
    if (hasOption(method, http_success_status)) {
      status = getOption(method, http_success_status);
      if (status < 200 || status > 299) throw new RuleError(method, `http_success_status ${status} is not a 2xx status`);
    }
    out.push(bindingOf(service, method, backend, rule, status));
    for (const extra of rule.additionalBindings) {
      if (extra.additionalBindings.length > 0) throw new RuleError(method, "additional_bindings must not nest");
      out.push(bindingOf(service, method, backend, extra, status));
    }
  }
  return out;
}
