/**
 * The Cloud Tasks v2 service definitions, read from Google's own package rather than retyped:
 * `@google-cloud/tasks` ships every message and the `google.cloud.tasks.v2.CloudTasks` service as
 * a protobufjs JSON descriptor (build/protos/protos.json), and google-gax, which it depends on,
 * ships `google/rpc/error_details.proto` (BadRequest, ErrorInfo: the details of an error status).
 *
 * Neither file is an export of its package, so each is found beside the package's entry point.
 * They are read once, at the first gRPC start.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

export const SERVICE_NAME = 'google.cloud.tasks.v2.CloudTasks';

/** The directory of the installed package `name` (the one holding its package.json), found from `from`. */
function packageRoot(name: string, from: string): string {
  let dir = dirname(createRequire(from).resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === name) return dir;
    } catch {
      // not a package root: look further up
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the package root of ${name}`);
    dir = up;
  }
}

export interface CloudTasksProtos {
  root: protobuf.Root;
  service: protobuf.Service;
  status: protobuf.Type;
  any: protobuf.Type;
  badRequest: protobuf.Type;
  errorInfo: protobuf.Type;
}

let loaded: CloudTasksProtos | undefined;

export function cloudTasksProtos(): CloudTasksProtos {
  if (loaded !== undefined) return loaded;
  const tasks = packageRoot('@google-cloud/tasks', import.meta.url);
  const root = protobuf.Root.fromJSON(JSON.parse(readFileSync(join(tasks, 'build', 'protos', 'protos.json'), 'utf8')) as protobuf.INamespace);
  const gax = packageRoot('google-gax', join(tasks, 'package.json'));
  root.resolveAll();
  // A root of its own: error_details.proto imports google/protobuf/duration.proto (protobufjs has
  // it built in), which the tasks descriptor defines too.
  const details = new protobuf.Root().loadSync(join(gax, 'build', 'protos', 'google', 'rpc', 'error_details.proto'), { keepCase: false });
  loaded = {
    root,
    service: root.lookupService(SERVICE_NAME),
    status: root.lookupType('google.rpc.Status'),
    any: root.lookupType('google.protobuf.Any'),
    badRequest: details.lookupType('google.rpc.BadRequest'),
    errorInfo: details.lookupType('google.rpc.ErrorInfo'),
  };
  return loaded;
}
