import protobuf from 'protobufjs';

/**
 * The few messages of TensorBoard's event files that scalars need, with the field numbers of TensorFlow's
 * event.proto and summary.proto (other fields are left out; readers skip what they do not know).
 */
const PROTO = `
syntax = "proto3";
package tensorboard;
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}
message Summary {
  message Value {
    string tag = 1;
    float simple_value = 2;
  }
  repeated Value value = 1;
}
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const EventType = root.lookupType('tensorboard.Event');

export interface ScalarValue {
  readonly tag: string;
  readonly value: number;
}

/** An `Event` with the file version: the first record of every event file. */
export function fileVersionEvent(wallTimeSeconds: number): Uint8Array {
  return EventType.encode(EventType.fromObject({ wall_time: wallTimeSeconds, step: 0, file_version: 'brain.Event:2' })).finish();
}

/** An `Event` holding scalar summaries at one step. */
export function scalarEvent(wallTimeSeconds: number, step: number, values: readonly ScalarValue[]): Uint8Array {
  return EventType.encode(EventType.fromObject({ wall_time: wallTimeSeconds, step,
    summary: { value: values.map((v) => ({ tag: v.tag, simple_value: v.value })) } })).finish();
}
