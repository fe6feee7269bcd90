/**
 * Writes the third-party .proto files that our contracts import into an ignored folder
 * (`.build/proto-vendor`), so buf can compile offline without a registry and nothing
 * vendored is ever committed:
 *  - google/api/annotations.proto and http.proto, copied from the npm package `google-proto-files`;
 *  - grpc/health/v1/health.proto, copied from the npm package `grpc-health-check`;
 *  - grpc/reflection/{v1,v1alpha}/reflection.proto, copied from the npm package `@grpc/reflection`;
 *  - buf/validate/validate.proto, printed from the compiled descriptor that ships in
 *    `@bufbuild/protovalidate` (the package has no .proto source).
 *
 * The printed validate.proto carries the structure buf needs to compile our imports (messages,
 * enums, fields, oneofs, extensions, extension ranges) but not validate.proto's own options
 * (its predefined CEL rules): those are evaluated at run time from the package's descriptor,
 * which the generated code imports (see `rewrite_imports` in buf.gen.yaml).
 */
import { mkdirSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type {
  DescriptorProto,
  EnumDescriptorProto,
  FieldDescriptorProto,
  FileDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { isFieldSet } from "@bufbuild/protobuf";
import {
  FieldDescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
} from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

const root = resolve(__dirname, "..");
const out = join(root, ".build", "proto-vendor");

const scalarNames: Partial<Record<FieldDescriptorProto_Type, string>> = {
  [FieldDescriptorProto_Type.DOUBLE]: "double",
  [FieldDescriptorProto_Type.FLOAT]: "float",
  [FieldDescriptorProto_Type.INT64]: "int64",
  [FieldDescriptorProto_Type.UINT64]: "uint64",
  [FieldDescriptorProto_Type.INT32]: "int32",
  [FieldDescriptorProto_Type.FIXED64]: "fixed64",
  [FieldDescriptorProto_Type.FIXED32]: "fixed32",
  [FieldDescriptorProto_Type.BOOL]: "bool",
  [FieldDescriptorProto_Type.STRING]: "string",
  [FieldDescriptorProto_Type.BYTES]: "bytes",
  [FieldDescriptorProto_Type.UINT32]: "uint32",
  [FieldDescriptorProto_Type.SFIXED32]: "sfixed32",
  [FieldDescriptorProto_Type.SFIXED64]: "sfixed64",
  [FieldDescriptorProto_Type.SINT32]: "sint32",
  [FieldDescriptorProto_Type.SINT64]: "sint64",
};

function typeOf(f: FieldDescriptorProto): string {
  return scalarNames[f.type] ?? f.typeName; // message and enum names are fully qualified (".pkg.Name")
}

function label(f: FieldDescriptorProto, inOneof: boolean): string {
  if (inOneof) return "";
  switch (f.label) {
    case FieldDescriptorProto_Label.REPEATED:
      return "repeated ";
    case FieldDescriptorProto_Label.REQUIRED:
      return "required ";
    default:
      return "optional ";
  }
}

function fieldLine(f: FieldDescriptorProto, inOneof: boolean): string {
  const opts: string[] = [];
  if (isFieldSet(f, FieldDescriptorProtoSchema.field.defaultValue)) {
    const quoted = f.type === FieldDescriptorProto_Type.STRING || f.type === FieldDescriptorProto_Type.BYTES;
    opts.push(`default = ${quoted ? JSON.stringify(f.defaultValue) : f.defaultValue}`);
  }
  const suffix = opts.length ? ` [${opts.join(", ")}]` : "";
  return `${label(f, inOneof)}${typeOf(f)} ${f.name} = ${f.number}${suffix};`;
}

function printEnum(e: EnumDescriptorProto, indent: string): string[] {
  const lines = [`${indent}enum ${e.name} {`];
  for (const v of e.value) lines.push(`${indent}  ${v.name} = ${v.number};`);
  lines.push(`${indent}}`);
  return lines;
}

function printMessage(m: DescriptorProto, indent: string): string[] {
  const lines = [`${indent}message ${m.name} {`];
  const inner = indent + "  ";
  for (const e of m.enumType) lines.push(...printEnum(e, inner));
  for (const n of m.nestedType) lines.push(...printMessage(n, inner));
  const oneofFields = new Map<number, FieldDescriptorProto[]>();
  for (const f of m.field) {
    // proto2 descriptors read unset fields as their default (0), so ask whether it is set.
    if (isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex)) {
      const list = oneofFields.get(f.oneofIndex) ?? [];
      list.push(f);
      oneofFields.set(f.oneofIndex, list);
    } else {
      lines.push(inner + fieldLine(f, false));
    }
  }
  m.oneofDecl.forEach((o, i) => {
    lines.push(`${inner}oneof ${o.name} {`);
    for (const f of oneofFields.get(i) ?? []) lines.push(`${inner}  ${fieldLine(f, true)}`);
    lines.push(`${inner}}`);
  });
  for (const r of m.extensionRange) {
    const end = r.end >= 536870912 ? "max" : String(r.end - 1);
    lines.push(`${inner}extensions ${r.start} to ${end};`);
  }
  for (const r of m.reservedRange) lines.push(`${inner}reserved ${r.start} to ${r.end - 1};`);
  if (m.reservedName.length) lines.push(`${inner}reserved ${m.reservedName.map((n) => JSON.stringify(n)).join(", ")};`);
  lines.push(`${indent}}`);
  return lines;
}

export function printProto2(file: FileDescriptorProto): string {
  const lines = [
    "// GENERATED at build time by scripts/vendor-protos.ts from the descriptor in @bufbuild/protovalidate.",
    "// Do not edit and do not commit: this folder is ignored.",
    'syntax = "proto2";',
    "",
    `package ${file.package};`,
    "",
    ...file.dependency.map((d) => `import "${d}";`),
    "",
  ];
  for (const e of file.enumType) lines.push(...printEnum(e, ""));
  for (const m of file.messageType) lines.push(...printMessage(m, ""));
  const byExtendee = new Map<string, FieldDescriptorProto[]>();
  for (const x of file.extension) {
    const list = byExtendee.get(x.extendee) ?? [];
    list.push(x);
    byExtendee.set(x.extendee, list);
  }
  for (const [extendee, fields] of byExtendee) {
    lines.push(`extend ${extendee} {`);
    for (const f of fields) lines.push("  " + fieldLine(f, false));
    lines.push("}");
  }
  return lines.join("\n") + "\n";
}

function writeIfChanged(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path) && readFileSync(path, "utf8") === content) return;
  writeFileSync(path, content);
}

export function vendorProtos(): string {
  const googleApi = dirname(require.resolve("google-proto-files/google/api/annotations.proto"));
  for (const name of ["annotations.proto", "http.proto"]) {
    writeIfChanged(join(out, "google", "api", name), readFileSync(join(googleApi, name), "utf8"));
  }
  const health = require.resolve("grpc-health-check/proto/health/v1/health.proto");
  writeIfChanged(join(out, "grpc", "health", "v1", "health.proto"), readFileSync(health, "utf8"));
  const reflection = join(dirname(require.resolve("@grpc/reflection")), "..", "proto", "grpc", "reflection");
  for (const version of ["v1", "v1alpha"]) {
    const file = join(reflection, version, "reflection.proto");
    writeIfChanged(join(out, "grpc", "reflection", version, "reflection.proto"), readFileSync(file, "utf8"));
  }
  const validate = file_buf_validate_validate.proto;
  if (validate.syntax !== "" && validate.syntax !== "proto2") {
    throw new Error(`validate.proto has syntax "${validate.syntax}"; the printer only handles proto2`);
  }
  writeIfChanged(join(out, "buf", "validate", "validate.proto"), printProto2(validate));
  return out;
}

if (require.main === module) {
  console.log(`vendored protos written to ${vendorProtos()}`);
}
