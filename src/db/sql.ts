// Helpers for the statements the app writes by hand (src/domain/chain-writer.ts).

/**
 * A row as JSON for `jsonb_populate_record(NULL::"Table", $n::jsonb)`: keys are the column names,
 * bigints become decimal strings (PostgreSQL reads them into bigint exactly), dates ISO strings.
 */
export function rowJson(row: unknown): string {
  return JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}
