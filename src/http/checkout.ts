// The hosted checkout page (/checkout/<cs_...>) and the sandbox's 3-D Secure page (/sandbox/3ds/<id>).
//
// The page shows the order — line items, discounts, tax, total, balance due — and a card-token field
// (the sandbox takes Stripe's test tokens). Paying posts to /checkout/<id>/pay, which calls the same
// payOrder use case as the API (with an idempotency key per rendered form, so a double submit charges
// once) and then redirects to successUrl; a payment that needs authentication goes to the
// authentication page first and comes back here. A paid or expired session shows its state.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Actor, Deps } from '../kernel/context.js';
import { checkoutStatus, type CheckoutSessionRow } from '../payments/checkout.js';
import { scopeFor } from '../payments/common.js';
import { payOrder } from '../payments/pay-order.js';
import { refreshPaymentIntent } from '../payments/reconcile.js';
import { orderNetAmounts, storedTaxLines, takenDiscounts } from '../orders/order-model.js';
import { formatMoney } from '../pricing/index.js';
import { processorOf, SandboxProcessor, SANDBOX_TOKEN_NAMES } from '../payments/index.js';
import { readBody, type Route } from './route.js';
import { sqlPool } from '../db/prisma.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function sendHtml(res: ServerResponse, status: number, title: string, body: string): void {
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 34rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
  table { width: 100%; border-collapse: collapse; margin: 1rem 0; }
  td, th { padding: .35rem 0; border-bottom: 1px solid #e5e7eb; text-align: left; }
  td.amount, th.amount { text-align: right; font-variant-numeric: tabular-nums; }
  tr.total td { font-weight: 700; border-bottom: 2px solid #1f2328; }
  .error { background: #fde8e8; color: #8a1c1c; padding: .6rem .8rem; border-radius: .4rem; }
  .state { font-size: 1.2rem; padding: .8rem; border-radius: .4rem; background: #eef6ee; }
  label { display: block; margin: 1rem 0 .3rem; }
  input, select, button { font-size: 1rem; padding: .5rem; }
  button { background: #1f6feb; color: white; border: 0; border-radius: .4rem; padding: .6rem 1.2rem; cursor: pointer; }
  .muted { color: #6b7280; font-size: .9rem; }
</style></head>
<body>${body}</body></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...PAGE_HEADERS }).end(page);
}

/** A payment page is never framed (clickjacking), runs no script and loads nothing from elsewhere. */
export const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * A Location header value for `target` (absolute http(s), or a path of this server), percent-encoded so
 * that it is always a valid header: null when it cannot be one.
 */
export function safeLocation(target: string): string | null {
  try {
    const url = new URL(target, 'http://flint.invalid');
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    const href = url.origin === 'http://flint.invalid' ? `${url.pathname}${url.search}${url.hash}` : url.href;
    return /^[\x21-\x7E]+$/.test(href) ? href : null;
  } catch {
    return null;
  }
}

function redirect(res: ServerResponse, location: string, fallback = '/'): void {
  res.writeHead(303, { location: safeLocation(location) ?? fallback, ...PAGE_HEADERS }).end();
}

const customer = (session: CheckoutSessionRow): Actor => ({ type: 'CUSTOMER', id: session.id, name: 'hosted checkout' });


async function renderCheckout(res: ServerResponse, deps: Deps, session: CheckoutSessionRow, error: string | null): Promise<void> {
  const loaded = await deps.db.order.findUnique({
    where: { id: session.orderId },
    include: { lineItems: { orderBy: { position: 'asc' } }, paymentIntents: { orderBy: { id: 'asc' } } },
  });
  if (!loaded) return sendHtml(res, 404, 'Not found', '<h1>Checkout not found</h1>');
  const { lineItems: lines, paymentIntents, ...order } = loaded;
  const merchant = await deps.db.merchant.findUnique({ where: { id: session.merchantId }, select: { name: true } });
  const c = order.currency;
  const money = (amount: bigint) => formatMoney(amount, c);
  const net = orderNetAmounts(order, lines);
  const status = checkoutStatus(session, deps.clock.now());
  const title = `Pay ${merchant?.name ?? 'Flint'}`;

  const rows = lines
    .map(
      (l) =>
        `<tr class="line-item"><td>${escapeHtml(l.name)} × ${l.quantity}<div class="muted">${money(l.unitPriceAmount)} each</div></td><td class="amount">${money(l.grossAmount)}</td></tr>`,
    )
    .join('');
  const discounts = takenDiscounts(order)
    .map((d) => `<tr class="discount"><td>Discount ${escapeHtml(d.code ?? d.name ?? '')}</td><td class="amount">-${money(BigInt(d.amount ?? 0))}</td></tr>`)
    .join('');
  const taxes = storedTaxLines(order.taxes)
    .map(
      (t) =>
        `<tr class="tax"><td>${escapeHtml(t.name)}${t.inclusive ? ' (included)' : ''}</td><td class="amount">${money(BigInt(t.tax))}</td></tr>`,
    )
    .join('');
  const summary = `<table>
  <tr><th>Item</th><th class="amount">Amount</th></tr>
  ${rows}
  <tr><td>Subtotal</td><td class="amount" id="subtotal">${money(net.subtotal)}</td></tr>
  ${discounts}
  ${taxes}
  <tr class="total"><td>Total</td><td class="amount" id="total">${money(net.total)}</td></tr>
  ${net.paid > 0n ? `<tr><td>Paid</td><td class="amount" id="paid">${money(net.paid)}</td></tr>` : ''}
</table>`;

  const header = `<h1>${escapeHtml(title)}</h1><p class="muted">Order ${escapeHtml(order.id)}</p>`;
  if (status === 'COMPLETE' || order.status !== 'OPEN') {
    const done = session.successUrl ? `<p><a href="${escapeHtml(session.successUrl)}">Continue</a></p>` : '';
    const state = order.status === 'CANCELED' ? 'This order was canceled.' : `Paid: ${money(net.paid)}. Thank you!`;
    return sendHtml(res, 200, title, `${header}<p class="state" id="state" data-status="COMPLETE">${state}</p>${summary}${done}`);
  }
  if (status === 'EXPIRED') {
    return sendHtml(
      res,
      410,
      title,
      `${header}<p class="state" id="state" data-status="EXPIRED">This checkout expired on ${escapeHtml(session.expiresAt.toISOString())}. Ask the merchant for a new payment link.</p>${summary}`,
    );
  }
  const pending = paymentIntents.find((p) => p.status === 'REQUIRES_ACTION' && p.nextActionUrl);
  const sandbox = processorOf(deps) instanceof SandboxProcessor;
  const nonce = randomBytes(12).toString('hex');
  const tokenField = sandbox
    ? `<label for="token">Card (sandbox test token)</label>
  <input id="token" name="token" list="tokens" value="tok_visa" autocomplete="off" required>
  <datalist id="tokens">${SANDBOX_TOKEN_NAMES.map((t) => `<option value="${t}">`).join('')}</datalist>
  <p class="muted">Sandbox mode: no real card is charged. Try tok_visa, tok_chargeDeclined or tok_threeDSecure2Required.</p>`
    : `<label for="token">Card payment method (pm_... from Stripe Elements)</label>
  <input id="token" name="token" autocomplete="off" required>`;
  const body = `${header}
${error ? `<p class="error" id="error" role="alert">${escapeHtml(error)}</p>` : ''}
${pending ? `<p class="state">A payment is waiting for card authentication: <a href="${escapeHtml(pending.nextActionUrl!)}">authenticate it</a>, or pay again below.</p>` : ''}
${summary}
<form method="post" action="/checkout/${escapeHtml(session.id)}/pay" id="pay-form">
  ${tokenField}
  <input type="hidden" name="nonce" value="${nonce}">
  <p><button type="submit" id="pay">Pay ${money(net.balance)}</button></p>
</form>
${session.cancelUrl ? `<p><a href="${escapeHtml(session.cancelUrl)}">Cancel and return to the shop</a></p>` : ''}
<p class="muted">Expires ${escapeHtml(session.expiresAt.toISOString())}.</p>`;
  sendHtml(res, 200, title, body);
}

export const checkoutRoute: Route = async (req, res, deps, app) => {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const match = /^\/checkout\/(cs_[0-9A-Z]{26})(\/pay)?$/.exec(path);
  if (!match) return false;
  const session = await deps.db.checkoutSession.findUnique({ where: { id: match[1]! } });
  if (!session) {
    sendHtml(res, 404, 'Not found', '<h1>Checkout not found</h1><p>Check the link, or ask the merchant for a new one.</p>');
    return true;
  }
  if (!match[2]) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end();
      return true;
    }
    await renderCheckout(res, deps, session, null);
    return true;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST' }).end();
    return true;
  }
  const body = await readBody(req, 16 * 1024);
  const form = new URLSearchParams(body?.toString('utf8') ?? '');
  const token = (form.get('token') ?? '').trim();
  const nonce = (form.get('nonce') ?? '').replace(/[^0-9a-f]/g, '').slice(0, 32);
  if (checkoutStatus(session, deps.clock.now()) !== 'OPEN') {
    await renderCheckout(res, deps, session, null);
    return true;
  }
  if (!token) {
    await renderCheckout(res, deps, session, 'Enter a card token.');
    return true;
  }
  // Card testing: after too many declines on this order, the page takes no more attempts for a while.
  const declined = app?.rateLimits ? await app.rateLimits.payDeclined(sqlPool(deps.db), session.merchantId, session.orderId) : null;
  if (declined) {
    res.setHeader('retry-after', String(declined.retryAfterSeconds));
    sendHtml(res, 429, 'Too many attempts', `<h1>Too many declined attempts</h1><p class="error" id="error" role="alert">Too many cards were declined for this order. Try again in ${Math.ceil(declined.retryAfterSeconds / 60)} minutes.</p>`);
    return true;
  }
  const scope = scopeFor(deps, session, customer(session));
  const result = await payOrder(
    scope,
    { orderId: session.orderId, paymentSourceTokens: [token], idempotencyKey: nonce ? `checkout_${session.id}_${nonce}` : null },
    { checkoutSessionId: session.id },
  );
  const intent = result.paymentIntentId ? await deps.db.paymentIntent.findUnique({ where: { id: result.paymentIntentId } }) : null;
  if (intent?.status === 'REQUIRES_ACTION' && intent.nextActionUrl) {
    redirect(res, intent.nextActionUrl);
    return true;
  }
  if (result.userErrors.length === 0 && intent?.status === 'SUCCEEDED') {
    redirect(res, session.successUrl ?? `/checkout/${session.id}`, `/checkout/${session.id}`);
    return true;
  }
  const fresh = await deps.db.checkoutSession.findUniqueOrThrow({ where: { id: session.id } });
  // The buyer sees the processor's words (as Stripe's checkout does), not the developer-facing message.
  const buyerMessage =
    intent?.status === 'FAILED'
      ? `${intent.failureMessage ?? 'The payment failed.'} Nothing was charged; try another card.`
      : result.userErrors.map((e) => e.message).join(' ') || 'The payment did not complete.';
  await renderCheckout(res, deps, fresh, buyerMessage);
  return true;
};

/** The sandbox's stand-in for a bank's 3-D Secure page. */
export const sandboxAuthenticationRoute: Route = async (req, res, deps) => {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const match = /^\/sandbox\/3ds\/(sbch_[0-9A-Z]{26})$/.exec(path);
  if (!match) return false;
  const processor = processorOf(deps);
  if (!(processor instanceof SandboxProcessor)) {
    sendHtml(res, 404, 'Not found', '<h1>The sandbox processor is not in use on this server.</h1>');
    return true;
  }
  const chargeId = match[1]!;
  let charge = await processor.findCharge(chargeId);
  if (!charge) {
    sendHtml(res, 404, 'Not found', '<h1>No such sandbox payment</h1>');
    return true;
  }
  const metadata = charge.metadata as { flint_payment_intent_id?: string };
  if (req.method === 'POST') {
    const form = new URLSearchParams((await readBody(req, 4096))?.toString('utf8') ?? '');
    const outcome = form.get('action') === 'fail' ? 'fail' : 'complete';
    charge = (await processor.authenticate(chargeId, outcome))?.charge ?? charge;
    // The sandbox tells Flint at once (Stripe would send a webhook): the intent is refreshed from it.
    if (metadata.flint_payment_intent_id) {
      await refreshPaymentIntent(deps, metadata.flint_payment_intent_id, { type: 'CUSTOMER', id: null, name: 'sandbox 3-D Secure' });
    }
    if (charge.returnUrl) {
      redirect(res, charge.returnUrl);
      return true;
    }
  }
  const amount = formatMoney(BigInt(charge.amount), charge.currency);
  const body =
    charge.status === 'REQUIRES_ACTION'
      ? `<h1>Sandbox 3-D Secure</h1><p>Authenticate the payment of <strong>${amount}</strong>?</p>
<form method="post"><input type="hidden" name="action" value="complete"><button id="complete" type="submit">Complete authentication</button></form>
<form method="post"><input type="hidden" name="action" value="fail"><button id="fail" type="submit" style="background:#8a1c1c">Fail authentication</button></form>`
      : `<h1>Sandbox 3-D Secure</h1><p class="state" id="state" data-status="${escapeHtml(charge.status)}">Payment of ${amount}: ${escapeHtml(charge.status)}.</p>${
          charge.returnUrl ? `<p><a href="${escapeHtml(charge.returnUrl)}">Return to the shop</a></p>` : ''
        }`;
  sendHtml(res, 200, 'Sandbox 3-D Secure', body);
  return true;
};
