// The dashboard's home: the revenue/tax chart and the order list, newest first, searchable by buyer
// email, customer id or order id, and filterable by status. Reads only the session's merchant and mode.
import type { Prisma } from '../generated/prisma/client.js';
import type { Deps } from '../kernel/context.js';
import type { OrderStatus } from '../pricing/index.js';
import { orderNetAmounts } from '../orders/order-model.js';
import { formatDate, html, money, type Raw } from './html.js';
import { renderCharts, revenueByDay } from './chart.js';
import type { DashboardSession } from './sessions.js';

export const ORDER_STATUSES: OrderStatus[] = ['OPEN', 'PAID', 'PARTIALLY_REFUNDED', 'REFUNDED', 'CLOSED', 'CANCELED'];
const PAGE_SIZE = 50;

export interface OrderSearch {
  q: string;
  status: OrderStatus | null;
  /** Id of the last order of the previous page. */
  before: string | null;
}

export function parseSearch(params: URLSearchParams): OrderSearch {
  const status = params.get('status') ?? '';
  const before = params.get('before') ?? '';
  return {
    q: (params.get('q') ?? '').trim().slice(0, 320),
    status: (ORDER_STATUSES as string[]).includes(status) ? (status as OrderStatus) : null,
    before: /^ord_[0-9A-Z]{26}$/.test(before) ? before : null,
  };
}

function whereOf(session: DashboardSession, search: OrderSearch): Prisma.OrderWhereInput {
  const q = search.q;
  return {
    merchantId: session.merchantId,
    livemode: session.livemode,
    ...(search.status ? { status: search.status } : {}),
    ...(search.before ? { id: { lt: search.before } } : {}),
    ...(q
      ? {
          OR: [
            { buyerEmail: { contains: q, mode: 'insensitive' } },
            { customerId: { contains: q, mode: 'insensitive' } },
            ...(/^ord_/i.test(q) ? [{ id: `ord_${q.slice(4).toUpperCase()}` }] : []),
          ],
        }
      : {}),
  };
}

export async function renderOrdersPage(deps: Deps, session: DashboardSession, search: OrderSearch): Promise<Raw> {
  const [rows, charts] = await Promise.all([
    deps.db.order.findMany({ where: whereOf(session, search), orderBy: { id: 'desc' }, take: PAGE_SIZE + 1 }),
    revenueByDay(deps.db, session, deps.clock.now()),
  ]);
  const page = rows.slice(0, PAGE_SIZE);
  const statusOptions = ORDER_STATUSES.map((s) => html`<option value="${s}"${search.status === s ? ' selected' : ''}>${s}</option>`);
  const list = page.map((o) => {
    const net = orderNetAmounts(o, []);
    return html`<tr class="order-row" data-order-id="${o.id}" data-status="${o.status}">
  <td><a href="/dashboard/orders/${o.id}">${o.id}</a></td>
  <td class="date">${formatDate(o.createdAt)}</td>
  <td>${o.buyerEmail ?? ''}${o.customerId ? html`<div class="muted">${o.customerId}</div>` : ''}</td>
  <td><span class="status status-${o.status}">${o.status}</span></td>
  <td class="amount">${money(net.total, o.currency)}</td>
  <td class="amount">${money(net.paid, o.currency)}</td>
  <td class="amount">${money(net.refunded, o.currency)}</td>
</tr>`;
  });
  const next = rows.length > PAGE_SIZE ? new URLSearchParams({ ...(search.q ? { q: search.q } : {}), ...(search.status ? { status: search.status } : {}), before: page.at(-1)!.id }) : null;
  return html`<h1>Orders</h1>
<section id="charts" data-live>${renderCharts(charts)}</section>
<form method="get" action="/dashboard" class="search" id="search">
  <input type="search" name="q" id="q" value="${search.q}" placeholder="Buyer email, customer id or order id" aria-label="Search">
  <select name="status" id="status" aria-label="Status"><option value="">Any status</option>${statusOptions}</select>
  <button type="submit">Search</button>
</form>
<section id="orders" data-live>
<table class="orders">
  <thead><tr><th>Order</th><th>Placed</th><th>Buyer</th><th>Status</th><th class="amount">Total</th><th class="amount">Paid</th><th class="amount">Refunded</th></tr></thead>
  <tbody>${list}</tbody>
</table>
${page.length === 0 ? html`<p class="muted" id="no-orders">No orders${search.q || search.status ? ' match this search' : ' yet'}.</p>` : ''}
${next ? html`<p><a href="/dashboard?${next.toString()}" id="older">Older orders</a></p>` : ''}
</section>`;
}
