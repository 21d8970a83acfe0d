// Calls FindService from Node: node find.js HOST:PORT NAME [NAME...]
// One name: FindUser; several: BatchFindUsers. Prints the reply as JSON, or
// {"code": "NOT_FOUND", ...} and exits 1 on a gRPC error.
"use strict";

const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const PROTO_ROOT = path.join(__dirname, "..", "..", "protos");
// google/api/annotations.proto, imported for the REST mapping.
const GOOGLEAPIS = path.join(__dirname, "..", "..", "third_party", "googleapis");

function client(target) {
  const definition = protoLoader.loadSync("glarimy/ums/find/v1/find_service.proto", {
    includeDirs: [PROTO_ROOT, GOOGLEAPIS],
    longs: String, // int64 phone numbers exceed JavaScript's safe integers in general
    defaults: true,
  });
  const { FindService } = grpc.loadPackageDefinition(definition).glarimy.ums.find.v1;
  return new FindService(target, grpc.credentials.createInsecure());
}

function main() {
  const [target, ...names] = process.argv.slice(2);
  if (!target || names.length === 0) {
    console.error("usage: node find.js HOST:PORT NAME [NAME...]");
    process.exit(2);
  }
  const stub = client(target);
  const deadline = new Date(Date.now() + 5000);
  const done = (error, reply) => {
    if (error) {
      console.log(JSON.stringify({ code: grpc.status[error.code], details: error.details }));
      process.exit(1);
    }
    console.log(JSON.stringify(reply));
    stub.close();
  };
  if (names.length === 1) {
    stub.FindUser({ name: names[0] }, { deadline }, done);
  } else {
    stub.BatchFindUsers({ names }, { deadline }, done);
  }
}

main();
