// Revenue and tax per day: sums computed by PostgreSQL over integer minor units (bigint end to end),
// drawn as an inline SVG bar chart. Floats appear only in drawing coordinates, never in money.
//
// An order counts on the UTC day it was placed, once it is settled (PAID, PARTIALLY_REFUNDED, REFUNDED
// or CLOSED): revenue is what was paid less what was refunded, tax is its tax less the tax refunded.
import type { Db } from '../kernel/context.js';
import { html, money, raw, type Raw } from './html.js';

export const CHART_DAYS = 30;

export interface DayTotals {
  /** YYYY-MM-DD (UTC). */
  day: string;
  revenue: bigint;
  tax: bigint;
  orders: number;
}

export interface CurrencySeries {
  currency: string;
  days: DayTotals[];
  revenue: bigint;
  tax: bigint;
}

const dayOf = (date: Date) => date.toISOString().slice(0, 10);

/** Per currency, one entry per day of the last CHART_DAYS days up to `now` (days without orders are 0). */
export async function revenueByDay(db: Db, chain: { merchantId: string; livemode: boolean }, now: Date): Promise<CurrencySeries[]> {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const since = new Date(today - (CHART_DAYS - 1) * 86_400_000);
  const rows = await db.$queryRaw<{ day: string; currency: string; revenue: bigint; tax: bigint; orders: bigint }[]>`
    SELECT to_char(("createdAt" AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS "day", "currency",
           SUM("paidAmount" - "refundedAmount")::bigint AS "revenue",
           SUM("taxAmount" - "refundedTaxAmount")::bigint AS "tax",
           COUNT(*)::bigint AS "orders"
      FROM "Order"
     WHERE "merchantId" = ${chain.merchantId} AND "livemode" = ${chain.livemode}
       AND "status" IN ('PAID', 'PARTIALLY_REFUNDED', 'REFUNDED', 'CLOSED')
       AND "createdAt" >= ${since}
     GROUP BY 1, 2`;
  const days = Array.from({ length: CHART_DAYS }, (_, i) => dayOf(new Date(since.getTime() + i * 86_400_000)));
  const byCurrency = new Map<string, Map<string, DayTotals>>();
  for (const r of rows) {
    let series = byCurrency.get(r.currency);
    if (!series) byCurrency.set(r.currency, (series = new Map()));
    series.set(r.day, { day: r.day, revenue: BigInt(r.revenue), tax: BigInt(r.tax), orders: Number(r.orders) });
  }
  return [...byCurrency.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, series]) => {
      const filled = days.map((day) => series.get(day) ?? { day, revenue: 0n, tax: 0n, orders: 0 });
      return {
        currency,
        days: filled,
        revenue: filled.reduce((s, d) => s + d.revenue, 0n),
        tax: filled.reduce((s, d) => s + d.tax, 0n),
      };
    });
}

const WIDTH = 720;
const HEIGHT = 180;
const PAD = 24;

/** Bar height in pixels for `value` of `max` (integer ratio first; the float is a coordinate only). */
function barHeight(value: bigint, max: bigint): number {
  if (max <= 0n || value <= 0n) return 0;
  return (Number((value * 10_000n) / max) / 10_000) * (HEIGHT - PAD * 2);
}

export function renderChart(series: CurrencySeries): Raw {
  const max = series.days.reduce((m, d) => (d.revenue > m ? d.revenue : m), 0n);
  const slot = (WIDTH - PAD * 2) / series.days.length;
  const bars = series.days.map((d, i) => {
    const x = PAD + i * slot;
    const revenueH = barHeight(d.revenue, max);
    const taxH = barHeight(d.tax, max);
    const label = `${d.day}: revenue ${money(d.revenue, series.currency)}, tax ${money(d.tax, series.currency)} (${d.orders} orders)`;
    return html`<g class="day" data-day="${d.day}" data-revenue="${d.revenue}" data-tax="${d.tax}"><title>${label}</title>
<rect class="revenue" x="${(x + 1).toFixed(1)}" y="${(HEIGHT - PAD - revenueH).toFixed(1)}" width="${Math.max(slot - 2, 1).toFixed(1)}" height="${revenueH.toFixed(1)}"></rect>
<rect class="tax" x="${(x + slot / 4).toFixed(1)}" y="${(HEIGHT - PAD - taxH).toFixed(1)}" width="${Math.max(slot / 2 - 1, 1).toFixed(1)}" height="${taxH.toFixed(1)}"></rect></g>`;
  });
  const first = series.days[0]!.day;
  const last = series.days.at(-1)!.day;
  return html`<figure class="chart" data-currency="${series.currency}">
<figcaption>Revenue and tax per day, ${series.currency}, last ${CHART_DAYS} days: revenue <strong class="chart-revenue">${money(series.revenue, series.currency)}</strong>, tax <strong class="chart-tax">${money(series.tax, series.currency)}</strong></figcaption>
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="Revenue and tax per day in ${series.currency}">
<line class="axis" x1="${PAD}" y1="${HEIGHT - PAD}" x2="${WIDTH - PAD}" y2="${HEIGHT - PAD}"></line>
${bars}
<text x="${PAD}" y="${HEIGHT - 6}">${first}</text><text x="${WIDTH - PAD}" y="${HEIGHT - 6}" text-anchor="end">${last}</text>
<text x="${PAD}" y="14">max ${money(max, series.currency)} per day</text>
</svg>
<p class="legend"><span class="swatch revenue"></span> revenue (paid − refunded) <span class="swatch tax"></span> tax (collected − refunded), by the day the order was placed</p>
</figure>`;
}

export function renderCharts(all: CurrencySeries[]): Raw {
  if (all.length === 0) return html`<p class="muted" id="chart-empty">No settled orders in the last ${CHART_DAYS} days yet.</p>`;
  return raw(all.map((s) => renderChart(s).html).join(''));
}
