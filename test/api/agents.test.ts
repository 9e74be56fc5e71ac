import { describe, expect, it } from 'vitest';
import { getIntrospectionQuery, buildClientSchema, isEnumType, isInputObjectType, isInterfaceType, isObjectType, isScalarType, type IntrospectionQuery } from 'graphql';
import { useTestApi } from '../support/api.js';

const api = useTestApi();

async function introspect(key: string): Promise<IntrospectionQuery> {
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }) }),
  });
  const body = (await response.json()) as { data: IntrospectionQuery; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data;
}

const BUILT_IN_SCALARS = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);

describe('introspection for agents', () => {
  it('describes every type, field, argument, input field and enum value', async () => {
    const { key } = await api.signup();
    const schema = buildClientSchema(await introspect(key));
    const missing: string[] = [];
    const need = (where: string, description: string | null | undefined) => {
      if (!description || description.trim().length < 3) missing.push(where);
    };
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || BUILT_IN_SCALARS.has(type.name)) continue;
      need(type.name, type.description);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          need(`${type.name}.${field.name}`, field.description);
          for (const arg of field.args) need(`${type.name}.${field.name}(${arg.name})`, arg.description);
        }
      } else if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) need(`${type.name}.${field.name}`, field.description);
      } else if (isEnumType(type)) {
        for (const value of type.getValues()) need(`${type.name}.${value.name}`, value.description);
      } else if (isScalarType(type)) {
        // described above
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('/SKILL.md and /llms.txt', () => {
  it('serves an Agent Skills file that names every mutation and error code of the live schema', async () => {
    const { key } = await api.signup();
    const schema = buildClientSchema(await introspect(key));
    const response = await fetch(`${api.url}/SKILL.md`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/markdown');
    const text = await response.text();

    // Agent Skills rules: front matter with name (1-64 of a-z, 0-9, -) and description (<= 1024 chars); body < 500 lines.
    const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
    expect(match).not.toBeNull();
    const front = match![1]!;
    const body = match![2]!;
    const name = /^name: (.+)$/m.exec(front)?.[1];
    expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(name!.length).toBeLessThanOrEqual(64);
    const description = JSON.parse(/^description: (.+)$/m.exec(front)![1]!) as string;
    expect(description.length).toBeGreaterThan(50);
    expect(description.length).toBeLessThanOrEqual(1024);
    expect(description).toMatch(/refund/i);
    expect(body.split('\n').length).toBeLessThan(500);

    for (const mutation of Object.keys(schema.getMutationType()!.getFields())) expect(text).toContain(`\`${mutation}(`);
    const codes = schema.getType('ErrorCode');
    if (!isEnumType(codes)) throw new Error('ErrorCode is not an enum');
    for (const value of codes.getValues()) expect(text).toContain(`\`${value.name}\``);
    for (const status of ['OPEN', 'PAID', 'PARTIALLY_REFUNDED', 'REFUNDED', 'CLOSED', 'CANCELED']) expect(text).toContain(`\`${status}\``);
    expect(text).toContain('idempotencyKey');
    expect(text).toContain('minor unit');
  });

  it('names no operation the schema does not serve', async () => {
    const { key } = await api.signup();
    const schema = buildClientSchema(await introspect(key));
    const served = new Set([
      ...Object.keys(schema.getMutationType()!.getFields()),
      ...Object.keys(schema.getQueryType()!.getFields()),
      ...Object.keys(schema.getSubscriptionType()?.getFields() ?? {}),
    ]);
    const text = await (await fetch(`${api.url}/SKILL.md`)).text();
    const named = [...text.matchAll(/`([a-z][A-Za-z]+)\(/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((name) => !served.has(name))).toEqual([]);
  });

  it('serves llms.txt linking to SKILL.md', async () => {
    const response = await fetch(`${api.url}/llms.txt`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/^# Flint/);
    expect(text).toContain(`${new URL(api.url).host}/SKILL.md`);
  });
});
