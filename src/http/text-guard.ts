// Text that PostgreSQL, HTTP headers or JSON consumers cannot hold safely is refused where it enters:
// NUL characters and unpaired UTF-16 surrogates in any string, and structures nested too deeply or too
// large. One walker serves GraphQL arguments (src/graphql/armor.ts) and webhook payloads.

export interface TextProblem {
  /** Where the bad value is, e.g. ["input", "lineItems", "0", "name"]. */
  path: string[];
  message: string;
}

export interface ShapeLimits {
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
  /** Most values (strings, numbers, entries) in total. */
  maxNodes: number;
}

// A lone high surrogate (not followed by a low one) or a lone low surrogate (not preceded by a high one).
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What is wrong with one string, or null. */
export function badString(value: string): string | null {
  if (value.includes('\u0000')) return 'contains a NUL character (\\u0000)';
  if (UNPAIRED_SURROGATE.test(value)) return 'contains an unpaired UTF-16 surrogate (not valid Unicode text)';
  return null;
}

/** The first problem in a JSON-like value (strings, object keys, depth, size), or null. */
export function findBadText(value: unknown, path: string[], limits: ShapeLimits): TextProblem | null {
  let nodes = 0;
  const walk = (v: unknown, at: string[], depth: number): TextProblem | null => {
    nodes += 1;
    if (nodes > limits.maxNodes) return { path: at, message: `is too large (more than ${limits.maxNodes} values)` };
    if (typeof v === 'string') {
      const problem = badString(v);
      return problem ? { path: at, message: problem } : null;
    }
    if (v === null || typeof v !== 'object') return null;
    if (depth >= limits.maxDepth) return { path: at, message: `is nested too deeply (more than ${limits.maxDepth} levels)` };
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const found = walk(v[i], [...at, String(i)], depth + 1);
        if (found) return found;
      }
      return null;
    }
    for (const [key, child] of Object.entries(v as Record<string, unknown>)) {
      const keyProblem = badString(key);
      if (keyProblem) return { path: at, message: `has a key that ${keyProblem}` };
      const found = walk(child, [...at, key], depth + 1);
      if (found) return found;
    }
    return null;
  };
  return walk(value, path, 0);
}
