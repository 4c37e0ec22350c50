import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { Client } from 'pg';
import { parse } from 'yaml';
import { startTestApp, type TestApp } from './setup/test-app.js';

/**
 * Every operation of swagger.yaml, driven with generated input (valid,
 * boundary and hostile values) on both platforms. Each answer must be one the
 * document lists for that operation, with a body matching its schema, never a
 * 5xx; a refused request must store nothing. A fixed seed and a bounded
 * number of runs per operation in `npm test`; FUZZ_RUNS=N (and FUZZ_SEED=S)
 * for a longer or different search.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);

type Schema = Record<string, unknown> & {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  format?: string;
  enum?: unknown[];
  nullable?: boolean;
  allOf?: Schema[];
};

interface Operation {
  parameters?: Array<{ name: string; in: 'path' | 'query' | 'header'; schema: Schema }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

const document = parse(readFileSync('swagger.yaml', 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};
/** A schema with its references followed; `allOf: [one]` (how Nest documents a typed property) is that one. */
const resolve = (schema: Schema): Schema => {
  if (schema.$ref) return resolve(document.components.schemas[schema.$ref.split('/').pop()!]);
  if (schema.allOf?.length === 1) {
    const { allOf, ...rest } = schema;
    return { ...rest, ...resolve(allOf[0]) };
  }
  return schema;
};

/** OpenAPI 3.0's `nullable` as JSON Schema, for Ajv; component references resolved. */
function toJsonSchema(schema: Schema): Schema {
  const resolved = resolve(schema);
  const copy: Schema = { ...resolved };
  if (copy.properties) {
    copy.properties = Object.fromEntries(
      Object.entries(copy.properties).map(([name, value]) => [name, toJsonSchema(value)]),
    );
  }
  if (copy.items) copy.items = toJsonSchema(copy.items);
  if (copy.additionalProperties && typeof copy.additionalProperties === 'object') {
    copy.additionalProperties = toJsonSchema(copy.additionalProperties as Schema);
  }
  if (copy.nullable && copy.type) copy.type = [copy.type, 'null'] as never;
  delete copy.nullable;
  return copy;
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addFormat('int32', true);
ajv.addFormat('int64', true);

// --- Values -----------------------------------------------------------------

const nowSeconds = () => Math.floor(Date.now() / 1000);
/** encodeURIComponent, but an unpaired surrogate (which it refuses) goes out as the bytes of one. */
const encodePath = (text: string) =>
  [...text]
    .map((char) => (/[\uD800-\uDFFF]/u.test(char) ? '%ED%A0%80' : encodeURIComponent(char)))
    .join('');
const phones = fc.constantFrom('+12025550143', '(202) 555-0178', '2025550199', '72345', 'ACME');
const hostileStrings = fc.constantFrom(
  '',
  ' ',
  'nul\u0000here',
  'lone\ud800surrogate',
  '\udfff',
  '😀 emoji',
  'x'.repeat(2_000),
  '%00',
  '../../etc/passwd',
  "'; DROP TABLE messages; --",
  '<script>alert(1)</script>',
  '\u202e12025550143',
  'null',
  '1e308',
);
const hostileNumbers = fc.constantFrom(
  -1,
  1.5,
  1e20,
  -1e20,
  1e308,
  0,
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
);
const wrongTypes = fc.constantFrom<unknown>(null, true, [], {}, 'text', 42, [1, 2], { a: 1 });
const deep = (levels: number): unknown => {
  let value: unknown = 'bottom';
  for (let level = 0; level < levels; level += 1) value = [value];
  return value;
};

/** A value for `schema`: mostly valid, sometimes at a boundary, sometimes hostile. */
function valueFor(schema: Schema, name = '', depth = 0): fc.Arbitrary<unknown> {
  const resolved = resolve(schema);
  const hostile = fc.oneof(hostileStrings, hostileNumbers, wrongTypes, fc.constant(deep(40)));
  return fc.oneof(
    { weight: 6, arbitrary: validFor(resolved, name, depth) },
    { weight: 1, arbitrary: boundaryFor(resolved) },
    { weight: 2, arbitrary: hostile },
  );
}

function validFor(schema: Schema, name: string, depth: number): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'integer':
      if (/timestamp|since|until/i.test(name)) {
        return fc.integer({ min: nowSeconds() - 86_400 * 365, max: nowSeconds() });
      }
      return fc.integer({ min: schema.minimum ?? 0, max: Math.min(schema.maximum ?? 1000, 1000) });
    case 'number':
      return fc.double({ min: 0, max: 1e10, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return depth > 3
        ? fc.constant([])
        : fc.array(valueFor(schema.items ?? {}, name, depth + 1), {
            maxLength: Math.min(schema.maxItems ?? 5, 5),
          });
    case 'object': {
      if (depth > 3) return fc.constant({});
      const properties = Object.entries(schema.properties ?? {});
      const record = fc.record(
        Object.fromEntries(
          properties.map(([key, value]) => [key, valueFor(value, key, depth + 1)]),
        ),
        { requiredKeys: properties.map(([key]) => key).filter(() => true) },
      );
      // Sometimes a field missing, sometimes one the schema does not know.
      return fc.oneof(
        { weight: 4, arbitrary: record },
        {
          weight: 1,
          arbitrary: fc
            .tuple(record, fc.constantFrom(...properties.map(([key]) => key), 'unknown'))
            .map(([value, key]) => {
              const copy = { ...(value as object) } as Record<string, unknown>;
              if (key === 'unknown') copy.__proto__extra = { admin: true };
              else delete copy[key];
              return copy;
            }),
        },
      );
    }
    default:
      if (schema.format === 'uuid' || /uuid|^id$/i.test(name)) return fc.uuid();
      if (/phone|counterpart/i.test(name)) return phones;
      if (/type/i.test(name)) return fc.constantFrom('sent', 'received');
      return fc.string({
        minLength: schema.minLength ?? 0,
        maxLength: Math.min(schema.maxLength ?? 40, 40),
      });
  }
}

function boundaryFor(schema: Schema): fc.Arbitrary<unknown> {
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const { minimum = 0, maximum = 2 ** 31 } = schema;
      return fc.constantFrom(minimum, maximum, minimum - 1, maximum + 1);
    }
    case 'string': {
      const max = schema.maxLength ?? 64;
      return fc.constantFrom('a'.repeat(max), 'a'.repeat(max + 1), '😀'.repeat(max), '');
    }
    case 'array':
      return fc.constant(Array.from({ length: (schema.maxItems ?? 10) + 1 }, () => ({})));
    default:
      return fc.constant(undefined);
  }
}

/** A whole body that is not the schema's at all. */
const hostileBodies = fc.constantFrom<string | Buffer>(
  '',
  'null',
  '"text"',
  '[]',
  '{',
  '{"a":',
  JSON.stringify(deep(100)),
  `{"messageText":${JSON.stringify(deep(1_000))}}`,
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
  '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"x":1}}}',
);

// --- The test ---------------------------------------------------------------

describe.each(['express', 'fastify'])(
  'Fuzzing every documented operation on %s (e2e)',
  (platform) => {
    let testApp: TestApp;
    let db: Client;
    const validators = new Map<Schema, ValidateFunction>();
    const validatorFor = (schema: Schema) => {
      if (!validators.has(schema)) validators.set(schema, ajv.compile(toJsonSchema(schema)));
      return validators.get(schema)!;
    };

    beforeAll(async () => {
      testApp = await startTestApp({ HTTP_ADAPTER: platform });
      db = new Client({ connectionString: testApp.databaseUrl });
      await db.connect();
    });

    afterAll(async () => {
      await db?.end();
      await testApp?.close();
    });

    const snapshot = async () =>
      (
        await db.query<{ state: string }>(
          `SELECT (SELECT count(*) FROM messages) || '/' || (SELECT coalesce(sum(message_count), 0) FROM conversations)
           || '/' || (SELECT count(*) FROM api_keys) || '/' || (SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL) AS state`,
        )
      ).rows[0].state;

    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
    );

    it.each(
      operations.map((entry) => [`${entry.method.toUpperCase()} ${entry.path}`, entry] as const),
    )(
      '%s answers only as documented, never 5xx, and a refusal stores nothing',
      async (_, { path, method, operation }) => {
        const parameters = operation.parameters ?? [];
        const bodySchema = operation.requestBody?.content['application/json']?.schema;
        const request = fc.record({
          params: fc.record(
            Object.fromEntries(
              parameters.map((p) => [`${p.in}:${p.name}`, valueFor(p.schema, p.name)]),
            ),
          ),
          body: bodySchema
            ? fc.oneof(
                {
                  weight: 5,
                  arbitrary: valueFor(bodySchema).map((value) => JSON.stringify(value)),
                },
                { weight: 1, arbitrary: hostileBodies },
              )
            : fc.constant(undefined),
        });

        await fc.assert(
          fc.asyncProperty(request, async ({ params, body }) => {
            let url = path;
            const query = new URLSearchParams();
            const headers: Record<string, string> = { Authorization: `Bearer ${testApp.adminKey}` };
            for (const parameter of parameters) {
              const value = params[`${parameter.in}:${parameter.name}`];
              if (value === undefined) continue;
              const text = typeof value === 'string' ? value : JSON.stringify(value);
              if (parameter.in === 'path')
                url = url.replace(`{${parameter.name}}`, encodePath(text) || '%20');
              else if (parameter.in === 'query') query.set(parameter.name, text);
              else if (/^[\x20-\x7e]*$/.test(text)) headers[parameter.name] = text;
            }
            if (body !== undefined) headers['Content-Type'] = 'application/json';
            const before = await snapshot();
            const controller = new AbortController();
            const response = await fetch(
              `${testApp.baseUrl}${url}${query.size ? `?${query}` : ''}`,
              {
                method: method.toUpperCase(),
                headers,
                body:
                  body === undefined
                    ? undefined
                    : typeof body === 'string'
                      ? body
                      : new Uint8Array(body),
                signal: controller.signal,
              },
            );
            const status = String(response.status);
            const documented = operation.responses[status];
            const contentType = response.headers.get('content-type') ?? '';
            let text = '';
            if (contentType.startsWith('text/event-stream')) controller.abort();
            else text = await response.text();
            const context = `${method.toUpperCase()} ${url}?${query} ${typeof body === 'string' ? body.slice(0, 200) : String(body)} → ${status} ${text.slice(0, 300)}`;

            expect(response.status, context).toBeLessThan(500);
            expect(documented, `undocumented status: ${context}`).toBeDefined();
            const schema = documented?.content?.['application/json']?.schema;
            if (schema && text !== '') {
              const validate = validatorFor(schema);
              const valid = validate(JSON.parse(text));
              expect(valid, `${context}\n${ajv.errorsText(validate.errors)}`).toBe(true);
            }
            if (response.status >= 400)
              expect(await snapshot(), `stored on refusal: ${context}`).toBe(before);
          }),
          { numRuns: RUNS, seed: SEED, endOnFailure: true },
        );
      },
    );

    it('reaches the stores: a valid send is stored (the property above also sees successes)', async () => {
      const before = await snapshot();
      const response = await fetch(`${testApp.baseUrl}/api/send-sms`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${testApp.adminKey}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({
          senderPhone: '+12025550143',
          receiverPhone: '+12025550178',
          messageText: 'fuzz baseline',
          timestamp: nowSeconds(),
          uuid: randomUUID(),
        }),
      });
      expect(response.status).toBe(201);
      expect(await snapshot()).not.toBe(before);
    });
  },
);
