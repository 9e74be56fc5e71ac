// Helpers for the statements the app writes by hand (src/kernel/writer.ts, the plan reads of src/kernel/rows.ts).

/**
 * A row as JSON for `jsonb_populate_record(NULL::"Table", $n::jsonb)`: keys are the column names,
 * bigints become decimal strings (PostgreSQL reads them into bigint exactly), dates ISO strings.
 */
export function rowJson(row: unknown): string {
  return JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}
