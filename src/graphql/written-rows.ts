// Serving a mutation's payload from the rows it just wrote, instead of reading them back.
//
// A `t.prismaField` resolver receives the Prisma query that the client's selection needs (relations
// to include, nested selects). When the rows a use case wrote in memory already hold every relation
// that query asks for, they answer the selection as they are; the plugin then resolves nested fields
// from them without a query. Anything we cannot vouch for (a relation we do not hold, a filtered or
// paginated relation, a `_count`) means the rows do not serve, and the caller reads the order.

type Query = { include?: Record<string, unknown>; select?: Record<string, unknown> };

/** Relation arguments that keep a relation complete (our lists are in the one order the schema asks for). */
const HARMLESS = new Set(['include', 'select', 'orderBy']);

export function rowsServe(row: unknown, query: Query): boolean {
  if (row === null || typeof row !== 'object') return false;
  const wanted = { ...(query.include ?? {}), ...(query.select ?? {}) };
  for (const [key, sub] of Object.entries(wanted)) {
    if (!sub) continue;
    const value = (row as Record<string, unknown>)[key];
    if (value === undefined) return false;
    if (sub === true || value === null) continue;
    if (typeof sub !== 'object') return false;
    if (Object.keys(sub).some((k) => !HARMLESS.has(k))) return false;
    const nested = sub as Query;
    if (!nested.include && !nested.select) continue;
    const items = Array.isArray(value) ? value : [value];
    if (!items.every((item) => rowsServe(item, nested))) return false;
  }
  return true;
}
