// Receipts: written with the payment, delivered after commit, at most once.
//
// When a payment settles (src/payments/record-charge.ts), its receipt — items, discounts, tax, total,
// paid, as text and HTML — and an outbox message are rows of the same write (receiptOps). After commit
// (and on a timer, for retries and for messages left by a restart) the outbox worker delivers due
// messages, in plain SQL statements of their own (no transaction is held while a message is sent):
//   - it claims one message by moving it PENDING → SENDING in a single UPDATE (FOR UPDATE SKIP LOCKED),
//     so two workers never send the same receipt;
//   - after the SMTP server accepted the message it marks it SENT and sets PaymentIntent.receiptSentAt
//     (one statement); nothing is locked while the message is being sent;
//   - a failure that certainly delivered nothing (connection refused, a 4xx answer) puts it back to
//     PENDING with exponential backoff; anything else ends it FAILED. A message whose worker died while
//     SENDING stays SENDING: it may have gone out, and sending it again could duplicate it.
// Without SMTP_URL (no mailer) the messages wait in the outbox, PENDING.
import type { Deps, Scope } from '../kernel/context.js';
import type { LineRow, OrderRow } from '../orders/order-model.js';
import { orderNetAmounts, storedTaxLines, takenDiscounts } from '../orders/order-model.js';
import { formatMoney } from '../pricing/index.js';
import { newId } from '../ids.js';
import type { PaymentIntent as PaymentIntentRow } from '../generated/prisma/client.js';
import type { Op } from '../kernel/writer.js';
import { readRows } from '../kernel/rows.js';
import { sqlPool } from '../db/prisma.js';

// ---------------------------------------------------------------------------------------------
// The receipt

export interface ReceiptInput {
  merchantName: string;
  order: OrderRow;
  lines: LineRow[];
  intent: Pick<PaymentIntentRow, 'id' | 'amount' | 'currency' | 'processorReference' | 'updatedAt'>;
}



function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function percent(rate: string): string {
  // "0.0725" → "7.25 %": shift the decimal point by two places on the string, no float.
  const [whole = '0', frac = ''] = rate.split('.');
  const padded = frac.padEnd(2, '0');
  const intPart = String(Number.parseInt(whole + padded.slice(0, 2), 10));
  const rest = padded.slice(2).replace(/0+$/, '');
  return `${intPart}${rest ? `.${rest}` : ''} %`;
}

/** The receipt as text and HTML. Pure. */
export function buildReceipt(input: ReceiptInput): { subject: string; text: string; html: string } {
  const { order, lines, intent } = input;
  const c = order.currency;
  const money = (amount: bigint) => formatMoney(amount, c);
  const net = orderNetAmounts(order, lines);
  const discounts = takenDiscounts(order);
  const taxes = storedTaxLines(order.taxes);
  const subject = `Your receipt from ${input.merchantName}: ${money(intent.amount)} paid (order ${order.id})`;

  const rows: [string, string][] = lines.map((l) => [`${l.name} × ${l.quantity}`, money(l.grossAmount)]);
  const totals: [string, string][] = [['Subtotal', money(net.subtotal)]];
  for (const d of discounts) totals.push([`Discount ${d.code ?? d.name ?? ''}`.trim(), `-${money(BigInt(d.amount ?? 0))}`]);
  for (const t of taxes) totals.push([`${t.name} ${percent(t.rate)}${t.inclusive ? ' (included)' : ''}`, money(BigInt(t.tax))]);
  totals.push(['Total', money(net.total)], ['Paid', money(intent.amount)], ['Balance due', money(net.balance)]);

  const width = Math.max(...[...rows, ...totals].map(([label]) => label.length), 10) + 2;
  const text = [
    `Receipt from ${input.merchantName}`,
    `Order ${order.id}, payment ${intent.id}${intent.processorReference ? ` (${intent.processorReference})` : ''}`,
    `Paid on ${intent.updatedAt.toISOString()}`,
    '',
    ...rows.map(([label, amount]) => `${label.padEnd(width)}${amount}`),
    '',
    ...totals.map(([label, amount]) => `${label.padEnd(width)}${amount}`),
    '',
    'Thank you for your purchase.',
    '',
  ].join('\n');

  const tr = ([label, amount]: [string, string], strong = false) =>
    `<tr><td>${strong ? '<strong>' : ''}${escapeHtml(label)}${strong ? '</strong>' : ''}</td><td style="text-align:right">${strong ? '<strong>' : ''}${escapeHtml(amount)}${strong ? '</strong>' : ''}</td></tr>`;
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<h1>Receipt from ${escapeHtml(input.merchantName)}</h1>`,
    `<p>Order ${escapeHtml(order.id)}, payment ${escapeHtml(intent.id)}. Paid on ${escapeHtml(intent.updatedAt.toISOString())}.</p>`,
    '<table cellpadding="4">',
    '<tr><th style="text-align:left">Item</th><th style="text-align:right">Amount</th></tr>',
    ...rows.map((r) => tr(r)),
    ...totals.map((r) => tr(r, r[0] === 'Total' || r[0] === 'Paid')),
    '</table>',
    '<p>Thank you for your purchase.</p>',
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

/** The rows of a settled payment's receipt and its outbox message, written in the payment's write. */
export function receiptOps(args: {
  scope: Pick<Scope, 'merchantId' | 'livemode'>;
  at: Date;
  merchantName: string;
  order: OrderRow;
  lines: LineRow[];
  intent: PaymentIntentRow;
}): Op[] {
  const { scope, at, order, lines, intent } = args;
  if (!intent.receiptEmail) return [];
  const content = buildReceipt({ merchantName: args.merchantName, order, lines, intent });
  const id = newId('Receipt');
  return [
    {
      kind: 'insert',
      table: 'Receipt',
      rows: [{ id, merchantId: scope.merchantId, livemode: scope.livemode, orderId: order.id, paymentIntentId: intent.id, toEmail: intent.receiptEmail, ...content, createdAt: at }],
    },
    {
      kind: 'insert',
      table: 'OutboxMessage',
      rows: [{ id: newId('OutboxMessage'), kind: RECEIPT_KIND, refId: id, status: 'PENDING', attempts: 0, nextAttemptAt: at, createdAt: at }],
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// The outbox worker

export const RECEIPT_KIND = 'receipt.email';
export const OUTBOX_MAX_ATTEMPTS = 6;

/** Delay before attempt n+1 after n failed attempts: 1 s, 2 s, 4 s, ... capped at 5 minutes. */
export function outboxBackoffMs(attempts: number, baseMs = 1000): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempts - 1), 5 * 60_000);
}

/** True when the error proves the message was not delivered (so sending it again cannot duplicate it). */
export function certainlyUndelivered(error: unknown): boolean {
  const e = error as { responseCode?: number; code?: string };
  if (typeof e?.responseCode === 'number') return e.responseCode >= 400 && e.responseCode < 500;
  return e?.code === 'ECONNECTION' || e?.code === 'ECONNREFUSED' || e?.code === 'EDNS';
}

interface ClaimedMessage {
  id: string;
  refId: string;
  attempts: number;
}

const CLAIM_SQL = `UPDATE "OutboxMessage" SET "status" = 'SENDING', "attempts" = "attempts" + 1
  WHERE "id" = (
    SELECT "id" FROM "OutboxMessage"
    WHERE "status" = 'PENDING' AND "kind" = $1 AND "nextAttemptAt" <= $2
    ORDER BY "nextAttemptAt", "id"
    LIMIT 1
    FOR UPDATE SKIP LOCKED)
  AND "status" = 'PENDING'
  RETURNING "id", "refId", "attempts"`;
const RECEIPT_SQL = 'SELECT "toEmail", "subject", "text", "html", "paymentIntentId" FROM "Receipt" WHERE "id" = $1';
const GIVE_UP_SQL = `UPDATE "OutboxMessage" SET "status" = 'FAILED', "lastError" = $2 WHERE "id" = $1 AND "status" = 'SENDING'`;
const RETRY_SQL = `UPDATE "OutboxMessage" SET "status" = 'PENDING', "lastError" = $2, "nextAttemptAt" = $3 WHERE "id" = $1 AND "status" = 'SENDING'`;
/** SENT and the intent's receiptSentAt in one statement (one transaction). */
const SENT_SQL = `WITH sent AS (
    UPDATE "OutboxMessage" SET "status" = 'SENT', "sentAt" = $2, "lastError" = NULL WHERE "id" = $1 AND "status" = 'SENDING' RETURNING "id")
  UPDATE "PaymentIntent" SET "receiptSentAt" = $2 WHERE "id" = $3 AND "receiptSentAt" IS NULL AND EXISTS (SELECT 1 FROM sent)`;
const NEXT_DUE_SQL = `SELECT "nextAttemptAt" FROM "OutboxMessage" WHERE "status" = 'PENDING' AND "kind" = $1 ORDER BY "nextAttemptAt" LIMIT 1`;

async function claimDue(deps: Deps, now: Date): Promise<ClaimedMessage | null> {
  const rows = await readRows<ClaimedMessage>(sqlPool(deps.db), 'flint_outbox_claim', CLAIM_SQL, [RECEIPT_KIND, now]);
  return rows[0] ?? null;
}

export interface OutboxRun {
  sent: number;
  retried: number;
  failed: number;
}

/** Delivers every due message once. Safe to run concurrently (each message is claimed atomically). */
export async function deliverOutbox(deps: Deps): Promise<OutboxRun> {
  const run: OutboxRun = { sent: 0, retried: 0, failed: 0 };
  const mailer = deps.mailer;
  if (!mailer) return run;
  for (;;) {
    const message = await claimDue(deps, deps.clock.now());
    if (!message) break;
    const pool = sqlPool(deps.db);
    const [receipt] = await readRows<{ toEmail: string; subject: string; text: string; html: string; paymentIntentId: string }>(pool, 'flint_outbox_receipt', RECEIPT_SQL, [
      message.refId,
    ]);
    if (!receipt) {
      await pool.query(GIVE_UP_SQL, [message.id, 'receipt not found']);
      run.failed += 1;
      continue;
    }
    try {
      await mailer.send({ to: receipt.toEmail, subject: receipt.subject, text: receipt.text, html: receipt.html });
    } catch (error) {
      const reason = String((error as Error)?.message ?? error).slice(0, 1000);
      const retry = certainlyUndelivered(error) && message.attempts < OUTBOX_MAX_ATTEMPTS;
      if (retry) await pool.query(RETRY_SQL, [message.id, reason, new Date(deps.clock.now().getTime() + outboxBackoffMs(message.attempts, deps.outboxBackoffMs))]);
      else await pool.query(GIVE_UP_SQL, [message.id, reason]);
      if (retry) run.retried += 1;
      else run.failed += 1;
      continue;
    }
    await pool.query(SENT_SQL, [message.id, deps.clock.now(), receipt.paymentIntentId]);
    run.sent += 1;
  }
  return run;
}

const timers = new WeakMap<Deps, NodeJS.Timeout>();
const running = new WeakMap<Deps, Promise<void>>();

/** Runs the worker now (after a commit) and again when the next retry is due. Never throws. */
export function kickOutbox(deps: Deps): void {
  if (!deps.mailer) return;
  const previous = running.get(deps) ?? Promise.resolve();
  const next = previous
    .then(async () => {
      await deliverOutbox(deps);
      const [due] = await readRows<{ nextAttemptAt: Date }>(sqlPool(deps.db), 'flint_outbox_next_due', NEXT_DUE_SQL, [RECEIPT_KIND]);
      if (due) {
        clearTimeout(timers.get(deps));
        const delay = Math.max(10, due.nextAttemptAt.getTime() - deps.clock.now().getTime());
        const timer = setTimeout(() => kickOutbox(deps), delay);
        timer.unref();
        timers.set(deps, timer);
      }
    })
    .catch((error: unknown) => console.error('receipt delivery failed', error));
  running.set(deps, next);
}

/** Periodic delivery (after restarts, and for messages whose retry timer belonged to another process). */
export function startOutboxWorker(deps: Deps, intervalMs = 5000): () => void {
  kickOutbox(deps);
  const timer = setInterval(() => kickOutbox(deps), intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    clearTimeout(timers.get(deps));
  };
}
