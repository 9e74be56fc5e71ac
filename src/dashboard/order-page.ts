// One order in the dashboard: its lines, amounts, tax breakdown, payments, refunds and activity
// timeline, and the refund-by-line form. Amounts come from the same derivations as the API
// (orderNetAmounts, lineRefundable, refundableAmount) and are formatted like the API's summary (formatMoney).
// The sections marked data-live are swapped in place by the page script when an activity of the order
// is recorded (src/dashboard/assets.ts).
import type { Deps } from '../kernel/context.js';
import { lineRefundable, orderNetAmounts, storedTaxLines, takenDiscounts } from '../orders/order-model.js';
import { refundableAmount } from '../payments/common.js';
import type { UserError } from '../kernel/errors.js';
import type { RefundPreviewResult } from '../refunds/index.js';
import { formatDate, html, money, type Raw } from './html.js';
import type { DashboardSession } from './sessions.js';

export const REFUND_REASONS = [
  ['REFUND_REASON_REQUESTED_BY_CUSTOMER', 'Requested by the customer'],
  ['REFUND_REASON_DUPLICATE', 'Duplicate charge'],
  ['REFUND_REASON_FRAUDULENT', 'Fraudulent'],
  ['REFUND_REASON_OTHER', 'Other'],
] as const;
export type DashboardRefundReason = (typeof REFUND_REASONS)[number][0];

/** The refund-by-line request a form carries. */
export interface RefundRequest {
  paymentIntentId: string;
  lines: { lineItemId: string; quantity: number }[];
  reason: DashboardRefundReason;
}

/** What the page shows besides the order: a notice, errors, or a refund preview awaiting confirmation. */
export interface OrderPageState {
  notice?: string | null;
  errors?: UserError[];
  preview?: { request: RefundRequest; result: RefundPreviewResult; nonce: string } | null;
}

export async function loadOrder(deps: Deps, session: DashboardSession, orderId: string) {
  return deps.db.order.findFirst({
    where: { id: orderId, merchantId: session.merchantId, livemode: session.livemode },
    include: {
      lineItems: { orderBy: { position: 'asc' } },
      paymentIntents: { orderBy: { id: 'asc' } },
      refunds: { orderBy: { id: 'asc' }, include: { lineItems: { orderBy: { position: 'asc' }, include: { lineItem: { select: { name: true } } } } } },
      activity: { orderBy: { sequence: 'asc' } },
    },
  });
}

export type LoadedOrder = NonNullable<Awaited<ReturnType<typeof loadOrder>>>;

/** A short line about an activity entry, from the fields of its delta that a merchant looks for. */
function activityDetail(delta: unknown, currency: string): string {
  const after = ((delta as { after?: Record<string, unknown> | null } | null)?.after ?? {}) as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof after.status === 'string') parts.push(after.status);
  for (const key of ['amount', 'total', 'totalAmount']) {
    const v = after[key];
    if (typeof v === 'number' || (typeof v === 'string' && /^-?\d+$/.test(v))) {
      parts.push(money(BigInt(v), typeof after.currency === 'string' ? after.currency : currency));
      break;
    }
  }
  if (typeof after.id === 'string') parts.push(after.id);
  return parts.join(' · ');
}

/** A decimal rate as a percentage, by moving the decimal point (no float): "0.0725" → "7.25%". */
export function percentOf(rate: string): string {
  const [whole = '0', fraction = ''] = rate.split('.');
  const digits = fraction.padEnd(2, '0');
  const integer = `${whole}${digits.slice(0, 2)}`.replace(/^0+(?=\d)/, '');
  const rest = digits.slice(2).replace(/0+$/, '');
  return `${integer}${rest ? `.${rest}` : ''}%`;
}

const minus = (amount: bigint, currency: string) => (amount > 0n ? `−${money(amount, currency)}` : money(amount, currency));

function renderSummary(order: LoadedOrder): Raw {
  const c = order.currency;
  const net = orderNetAmounts(order, order.lineItems);
  const taxes = storedTaxLines(order.taxes).map(
    (t) => html`<tr class="tax-line"><td>${t.name} (${t.jurisdiction}, ${percentOf(t.rate)}${t.inclusive ? ', included' : ''})</td><td class="amount">${money(BigInt(t.taxable), c)}</td><td class="amount">${money(BigInt(t.tax), c)}</td></tr>`,
  );
  const discounts = takenDiscounts(order).map((d) => html`<tr><td>Discount ${d.code ?? d.name ?? ''}</td><td class="amount">${minus(BigInt(d.amount ?? 0), c)}</td></tr>`);
  return html`<p>Status <span class="status status-${order.status}" id="order-status">${order.status}</span>
  · placed ${formatDate(order.createdAt)}${order.buyerEmail ? html` · ${order.buyerEmail}` : ''}${order.customerId ? html` · customer ${order.customerId}` : ''}</p>
<div class="columns">
<table class="amounts" id="amounts">
  <tr><td>Subtotal</td><td class="amount" id="subtotal">${money(net.subtotal, c)}</td></tr>
  ${discounts}
  <tr><td>Tax</td><td class="amount" id="tax">${money(net.tax, c)}</td></tr>
  <tr class="total"><td>Total</td><td class="amount" id="total">${money(net.total, c)}</td></tr>
  <tr><td>Paid</td><td class="amount" id="paid">${money(net.paid, c)}</td></tr>
  <tr><td>Refunded</td><td class="amount" id="refunded">${money(net.refunded, c)}</td></tr>
  <tr><td>Balance due</td><td class="amount" id="balance">${money(net.balance, c)}</td></tr>
</table>
<table class="taxes" id="tax-breakdown">
  <thead><tr><th>Tax, as priced</th><th class="amount">Taxable</th><th class="amount">Tax</th></tr></thead>
  <tbody>${taxes.length > 0 ? taxes : html`<tr><td colspan="3" class="muted">No tax on this order.</td></tr>`}</tbody>
  ${order.refundedTaxAmount > 0n ? html`<tr><td>Refunded tax</td><td></td><td class="amount" id="refunded-tax">${minus(order.refundedTaxAmount, c)}</td></tr>
  <tr class="total"><td>Net tax</td><td></td><td class="amount" id="net-tax">${money(net.tax, c)}</td></tr>` : ''}
</table>
</div>`;
}

function renderLines(order: LoadedOrder): Raw {
  const c = order.currency;
  const rows = order.lineItems.map(
    (l) => html`<tr class="line-item" data-line-id="${l.id}">
  <td>${l.name}${l.sku ? html`<div class="muted">${l.sku}</div>` : ''}</td>
  <td class="amount">${l.quantity}</td><td class="amount">${money(l.unitPriceAmount, c)}</td>
  <td class="amount">${money(l.grossAmount, c)}</td><td class="amount">${minus(l.discountAmount, c)}</td>
  <td class="amount">${money(l.taxAmount, c)}</td><td class="amount">${money(l.totalAmount, c)}</td>
  <td class="amount refunded-quantity">${l.refundedQuantity}${l.pendingRefundQuantity > 0 ? ` (+${l.pendingRefundQuantity} pending)` : ''}</td>
</tr>`,
  );
  return html`<h2>Line items</h2>
<table class="lines"><thead><tr><th>Item</th><th class="amount">Qty</th><th class="amount">Unit</th><th class="amount">Gross</th><th class="amount">Discount</th><th class="amount">Tax</th><th class="amount">Total</th><th class="amount">Refunded</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function renderPayments(order: LoadedOrder): Raw {
  const rows = order.paymentIntents.map(
    (p) => html`<tr class="payment" data-payment-id="${p.id}" data-status="${p.status}">
  <td>${p.id}</td><td><span class="status">${p.status}</span>${p.failureMessage ? html`<div class="muted">${p.failureMessage}</div>` : ''}</td>
  <td class="amount">${money(p.amount, p.currency)}</td><td class="amount">${money(p.refundedAmount, p.currency)}</td><td>${formatDate(p.createdAt)}</td>
</tr>`,
  );
  return html`<h2>Payments</h2>
${rows.length > 0 ? html`<table class="payments"><thead><tr><th>Payment</th><th>Status</th><th class="amount">Amount</th><th class="amount">Refunded</th><th>Created</th></tr></thead><tbody>${rows}</tbody></table>` : html`<p class="muted" id="no-payments">No payments yet.</p>`}`;
}

function renderRefunds(order: LoadedOrder): Raw {
  const rows = order.refunds.map(
    (r) => html`<tr class="refund" data-refund-id="${r.id}" data-status="${r.status}">
  <td>${r.id}</td><td>${r.status}${r.failureReason ? html`<div class="muted">${r.failureReason}</div>` : ''}</td>
  <td>${r.lineItems.map((l) => html`<div>${l.lineItem.name} × ${l.quantity}</div>`)}${r.byLineItems ? '' : 'amount'}</td>
  <td class="amount">${money(r.amount, r.currency)}</td><td class="amount">${money(r.taxAmount, r.currency)}</td><td>${formatDate(r.createdAt)}</td>
</tr>`,
  );
  return html`<h2>Refunds</h2>
${rows.length > 0 ? html`<table class="refunds"><thead><tr><th>Refund</th><th>Status</th><th>Lines</th><th class="amount">Amount</th><th class="amount">Tax</th><th>Created</th></tr></thead><tbody>${rows}</tbody></table>` : html`<p class="muted" id="no-refunds">No refunds.</p>`}`;
}

function renderTimeline(order: LoadedOrder): Raw {
  const items = order.activity.map(
    (a) => html`<li class="activity" data-activity-id="${a.id}" data-type="${a.type}"><time>${formatDate(a.occurredAt)}</time> <strong>${a.type}</strong>
  <span class="muted">by ${a.actorName ?? a.actorType}</span> ${activityDetail(a.delta, order.currency)}</li>`,
  );
  return html`<h2>Activity</h2><ol class="timeline" id="timeline">${items}</ol>`;
}

function errorList(errors: UserError[]): Raw {
  if (errors.length === 0) return html``;
  return html`<div class="error" id="refund-errors" role="alert">${errors.map((e) => html`<p><code>${e.code}</code> ${e.message}</p>`)}</div>`;
}

function refundForm(order: LoadedOrder, session: DashboardSession, state: OrderPageState): Raw {
  const payments = order.paymentIntents.filter((p) => refundableAmount(p) > 0n);
  const lines = order.lineItems.map((l) => ({ line: l, refundable: lineRefundable(order, l) })).filter((l) => l.refundable.quantity > 0);
  if (payments.length === 0 || lines.length === 0) return html`<h2>Refund</h2><p class="muted" id="nothing-refundable">Nothing left to refund by line.</p>`;
  const chosen = state.preview?.request;
  const rows = lines.map(
    ({ line, refundable }) => html`<tr><td><label for="qty-${line.id}">${line.name}</label></td><td class="amount">${refundable.quantity} of ${line.quantity}</td>
  <td class="amount">${money(refundable.amount, order.currency)}</td>
  <td class="amount"><input type="number" class="qty" id="qty-${line.id}" name="qty:${line.id}" min="0" max="${refundable.quantity}" step="1" value="${chosen?.lines.find((x) => x.lineItemId === line.id)?.quantity ?? 0}"></td></tr>`,
  );
  return html`<h2>Refund by line</h2>
${errorList(state.errors ?? [])}
<form method="post" action="/dashboard/orders/${order.id}/refund-preview" id="refund-form">
  <input type="hidden" name="csrf" value="${session.csrfToken}">
  <label>Payment <select name="paymentIntentId" id="refund-payment">${payments.map(
    (p) => html`<option value="${p.id}"${chosen?.paymentIntentId === p.id ? ' selected' : ''}>${p.id} (${money(refundableAmount(p), p.currency)} refundable)</option>`,
  )}</select></label>
  <table class="refund-lines"><thead><tr><th>Item</th><th class="amount">Refundable units</th><th class="amount">Refundable</th><th class="amount">Units to refund</th></tr></thead><tbody>${rows}</tbody></table>
  <label>Reason <select name="reason" id="refund-reason">${REFUND_REASONS.map(([value, label]) => html`<option value="${value}"${chosen?.reason === value ? ' selected' : ''}>${label}</option>`)}</select></label>
  <p><button type="submit" id="preview-refund">Preview refund</button></p>
</form>`;
}

function previewPanel(order: LoadedOrder, session: DashboardSession, preview: NonNullable<OrderPageState['preview']>): Raw {
  const { result, request, nonce } = preview;
  if (!result.plan || !result.currency) return html``;
  const c = result.currency;
  const names = new Map(order.lineItems.map((l) => [l.id, l.name]));
  const lines = result.plan.lines.map(
    (l) => html`<tr><td>${names.get(l.lineItemId) ?? l.lineItemId} × ${l.quantity}</td><td class="amount">${money(l.gross, c)}</td><td class="amount">${minus(l.discount, c)}</td><td class="amount">${money(l.tax, c)}</td><td class="amount">${money(l.amount, c)}</td></tr>`,
  );
  const net = result.resultingNetAmounts;
  return html`<section class="preview" id="refund-preview">
<h2>Refund preview</h2>
<p>This refund returns <strong id="preview-amount">${money(result.plan.amount, c)}</strong>, of which tax <strong id="preview-tax">${money(result.plan.tax, c)}</strong>, from payment ${request.paymentIntentId}.</p>
<table><thead><tr><th>Units</th><th class="amount">Gross</th><th class="amount">Discount</th><th class="amount">Tax</th><th class="amount">Returns</th></tr></thead><tbody>${lines}</tbody></table>
<p>Afterwards the order is <strong id="preview-status">${result.resultingStatus ?? order.status}</strong>${net ? html`, total ${money(net.total, c)}, refunded ${money(net.refunded, c)}` : ''}.</p>
<form method="post" action="/dashboard/orders/${order.id}/refunds" id="confirm-form">
  <input type="hidden" name="csrf" value="${session.csrfToken}">
  <input type="hidden" name="nonce" value="${nonce}">
  <input type="hidden" name="paymentIntentId" value="${request.paymentIntentId}">
  <input type="hidden" name="reason" value="${request.reason}">
  ${request.lines.map((l) => html`<input type="hidden" name="qty:${l.lineItemId}" value="${l.quantity}">`)}
  <button type="submit" id="confirm-refund">Confirm refund of ${money(result.plan.amount, c)}</button>
  <a href="/dashboard/orders/${order.id}" id="cancel-refund">Cancel</a>
</form>
</section>`;
}

export function renderOrderPage(order: LoadedOrder, session: DashboardSession, state: OrderPageState = {}): Raw {
  return html`<p><a href="/dashboard">← Orders</a></p>
<h1>Order <span id="order-id">${order.id}</span></h1>
${state.notice ? html`<p class="notice" id="notice" role="status">${state.notice}</p>` : ''}
<section id="summary" data-live>${renderSummary(order)}</section>
<section id="lines" data-live>${renderLines(order)}</section>
<section id="payments" data-live>${renderPayments(order)}</section>
<section id="refunds" data-live>${renderRefunds(order)}</section>
${state.preview ? previewPanel(order, session, state.preview) : ''}
<section id="refund" data-live data-keep-when-edited>${refundForm(order, session, state)}</section>
<section id="activity" data-live>${renderTimeline(order)}</section>`;
}
