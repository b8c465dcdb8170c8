import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import type { MessageType } from './messages.js';

/**
 * The shape of each protocol message as the wire walker needs it (field number -> kind), read from the descriptor
 * that scripts/generate-proto.mjs writes beside the generated code, so proto/ddp.proto stays the one definition.
 */
export type FieldKind = 'varint' | 'fixed32' | 'fixed64' | 'string' | 'bytes' | 'message';

export interface FieldRule {
  /** `<Message>.<field>`, the key of the field's limits in WireLimits. */
  readonly key: string;
  readonly kind: FieldKind;
  readonly repeated: boolean;
  readonly message?: MessageRule;
}

export interface MessageRule {
  readonly name: string;
  readonly fields: ReadonlyMap<number, FieldRule>;
}

const FIXED32 = new Set(['fixed32', 'sfixed32', 'float']);
const FIXED64 = new Set(['fixed64', 'sfixed64', 'double']);

function kindOf(field: protobuf.Field): FieldKind {
  if (field.resolvedType instanceof protobuf.Type) return 'message';
  if (field.type === 'string') return 'string';
  if (field.type === 'bytes') return 'bytes';
  if (FIXED32.has(field.type)) return 'fixed32';
  if (FIXED64.has(field.type)) return 'fixed64';
  return 'varint';
}

function ruleOf(type: protobuf.Type, made: Map<string, MessageRule>): MessageRule {
  const known = made.get(type.fullName);
  if (known) return known;
  const fields = new Map<number, FieldRule>();
  const rule: MessageRule = { name: type.name, fields };
  made.set(type.fullName, rule);
  for (const field of type.fieldsArray) {
    const kind = kindOf(field);
    fields.set(field.id, { key: `${type.name}.${field.name}`, kind, repeated: field.repeated,
      ...(kind === 'message' ? { message: ruleOf(field.resolvedType as protobuf.Type, made) } : {}) });
  }
  return rule;
}

const root = protobuf.Root.fromJSON(JSON.parse(readFileSync(new URL('../../proto/generated/ddp.json', import.meta.url), 'utf8')) as protobuf.INamespace);
root.resolveAll();

/** The Envelope's rule; every other message is reached from it. */
export const ENVELOPE_RULE: MessageRule = ruleOf(root.lookupType('ddp.v1.Envelope'), new Map());

/** Field number -> the message type the Envelope's `body` oneof carries there (evalResult -> 'eval-result'). */
export const BODY_FIELDS: ReadonlyMap<number, MessageType> = new Map(root.lookupType('ddp.v1.Envelope').oneofs['body']!.fieldsArray
  .map((f) => [f.id, f.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`) as MessageType]));

/** Every repeated field of the protocol, by key: each needs a limit. */
export function repeatedFieldKeys(rule: MessageRule = ENVELOPE_RULE, seen = new Set<string>()): string[] {
  if (seen.has(rule.name)) return [];
  seen.add(rule.name);
  return [...rule.fields.values()].flatMap((f) => [...(f.repeated ? [f.key] : []),
    ...(f.message ? repeatedFieldKeys(f.message, seen) : [])]);
}
