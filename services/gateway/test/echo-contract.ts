import { create, createFileRegistry, fromJson, setExtension, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import {
  file_google_protobuf_timestamp,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
  MethodOptionsSchema,
  MessageOptionsSchema,
} from "@bufbuild/protobuf/wkt";
import { file_google_api_annotations, http } from "../../../gen/google/api/annotations_pb.js";
import { HttpRuleSchema, type HttpRuleJson } from "../../../gen/google/api/http_pb.js";
import { file_ticketing_common_v1_http, http_success_status } from "../../../gen/ticketing/common/v1/http_pb.js";

/*
 * A small contract built at run time for the transcoder's unit tests: nested messages, repeated
 * scalars and messages, an enum, int64, a Timestamp, a map, optional presence, and REST rules
 * with every binding form (nested path variable, `**`, a verb, body "*", body "field",
 * response_body, additional_bindings, http_success_status). The real contracts change; this one
 * pins the rules under test. Its google.api.http options are real extensions, read the same way.
 */

type F = { name: string; number: number; type: Type; typeName?: string; repeated?: boolean; optional?: boolean };

function field(f: F, oneofIndex?: number) {
  return {
    name: f.name,
    jsonName: f.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
    number: f.number,
    type: f.type,
    typeName: f.typeName,
    label: f.repeated ? Label.REPEATED : Label.OPTIONAL,
    proto3Optional: f.optional,
    oneofIndex,
  };
}

function method(name: string, rule: HttpRuleJson | undefined, status?: number, streaming = false) {
  const options = create(MethodOptionsSchema);
  if (rule) setExtension(options, http, fromJson(HttpRuleSchema, rule));
  if (status) setExtension(options, http_success_status, status);
  return {
    name,
    inputType: ".test.gw.v1.EchoRequest",
    outputType: ".test.gw.v1.EchoResponse",
    options,
    serverStreaming: streaming,
  };
}

const S = Type.STRING;

export const echoFile: DescFile = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "test/gw/v1/echo.proto",
    package: "test.gw.v1",
    syntax: "proto3",
    dependency: ["google/protobuf/timestamp.proto", "google/api/annotations.proto", "ticketing/common/v1/http.proto"],
    enumType: [
      {
        name: "Color",
        value: [
          { name: "COLOR_UNSPECIFIED", number: 0 },
          { name: "COLOR_RED", number: 1 },
          { name: "COLOR_GREEN", number: 2 },
        ],
      },
    ],
    messageType: [
      {
        name: "Inner",
        field: [field({ name: "id", number: 1, type: S }), field({ name: "count", number: 2, type: Type.INT32 })],
      },
      {
        name: "Filter",
        field: [
          field({ name: "name", number: 1, type: S }),
          field({ name: "inner", number: 2, type: Type.MESSAGE, typeName: ".test.gw.v1.Inner" }),
        ],
      },
      {
        name: "EchoRequest",
        field: [
          field({ name: "shelf_id", number: 1, type: S }),
          field({ name: "item", number: 2, type: Type.MESSAGE, typeName: ".test.gw.v1.Inner" }),
          field({ name: "tags", number: 3, type: S, repeated: true }),
          field({ name: "nums", number: 4, type: Type.INT32, repeated: true }),
          field({ name: "color", number: 5, type: Type.ENUM, typeName: ".test.gw.v1.Color" }),
          field({ name: "big", number: 6, type: Type.INT64 }),
          field({ name: "at", number: 7, type: Type.MESSAGE, typeName: ".google.protobuf.Timestamp" }),
          field({ name: "flag", number: 8, type: Type.BOOL }),
          field({ name: "lat", number: 9, type: Type.DOUBLE, optional: true }, 0),
          field({ name: "filter", number: 10, type: Type.MESSAGE, typeName: ".test.gw.v1.Filter" }),
          field({ name: "labels", number: 11, type: Type.MESSAGE, typeName: ".test.gw.v1.EchoRequest.LabelsEntry", repeated: true }),
          field({ name: "items", number: 12, type: Type.MESSAGE, typeName: ".test.gw.v1.Inner", repeated: true }),
          field({ name: "path", number: 13, type: S }),
        ],
        oneofDecl: [{ name: "_lat" }],
        nestedType: [
          {
            name: "LabelsEntry",
            field: [field({ name: "key", number: 1, type: S }), field({ name: "value", number: 2, type: S })],
            options: create(MessageOptionsSchema, { mapEntry: true }),
          },
        ],
      },
      {
        name: "EchoResponse",
        field: [
          field({ name: "echo", number: 1, type: Type.MESSAGE, typeName: ".test.gw.v1.EchoRequest" }),
          field({ name: "note", number: 2, type: S }),
        ],
      },
    ],
    service: [
      {
        name: "EchoService",
        method: [
          method("Get", { get: "/v1/shelves/{shelf_id}/items/{item.id}", responseBody: "echo" }),
          method(
            "Create",
            {
              post: "/v1/shelves/{shelf_id}/items",
              body: "item",
              additionalBindings: [{ put: "/v1/shelves/{shelf_id}/item", body: "item" }],
            },
            201,
          ),
          method("Replace", { put: "/v1/shelves/{shelf_id}", body: "*" }),
          method("Files", { get: "/v1/files/{path=**}" }),
          method("Archive", { post: "/v1/shelves/{shelf_id}:archive", body: "*" }, 202),
          method("List", { get: "/v1/shelves" }),
          method("Internal", undefined),
          method("Watch", { get: "/v1/watch" }, undefined, true),
        ],
      },
    ],
  }),
  (name) =>
    ({
      "google/protobuf/timestamp.proto": file_google_protobuf_timestamp,
      "google/api/annotations.proto": file_google_api_annotations,
      "ticketing/common/v1/http.proto": file_ticketing_common_v1_http,
    })[name],
).getFile("test/gw/v1/echo.proto")!;

export const EchoService: DescService = echoFile.services[0];
export const EchoRequestSchema: DescMessage = echoFile.messages.find((m) => m.name === "EchoRequest")!;
export const EchoResponseSchema: DescMessage = echoFile.messages.find((m) => m.name === "EchoResponse")!;
