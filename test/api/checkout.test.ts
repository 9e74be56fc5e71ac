// Hosted checkout end to end in headless Chromium (Debian's chromium + playwright-core): the page shows
// the line items, discount, tax and total; a declined card shows the error; a good card pays through
// payOrder and lands on successUrl; 3-D Secure goes through the sandbox authentication page; a paid
// session shows its state; after 24 hours the session is EXPIRED and takes no payment. Screenshots are
// written to artifacts/ (git-ignored).
import { createServer, type Server } from 'node:http';
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { ARTIFACTS, launchChromium } from '../support/browser.js';


let offsetMs = 0;
const api = useTestApi({ clock: { now: () => new Date(Date.now() + offsetMs) } });
let browser: Browser;
let shop: Server;
let shopUrl = '';

beforeAll(async () => {
  browser = await launchChromium();
  // The merchant's shop, where successUrl and cancelUrl point.
  shop = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><h1 id="shop">Thanks for your order!</h1><p>${req.url}</p>`);
  });
  await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', () => resolve()));
  shopUrl = `http://127.0.0.1:${(shop.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => shop.close(() => resolve()));
});

const Setup = graphql(`
  mutation CheckoutSetup {
    addTaxRegistration(input: { jurisdiction: "US-CA" }) { userErrors { code } }
    setTaxRate(input: { jurisdiction: "US-CA", name: "California sales tax", rate: "0.0725" }) { userErrors { code } }
    createCoupon(input: { code: "WELCOME5", type: FIXED_AMOUNT, amountOffMoney: { amount: 500, currency: "USD" } }) { userErrors { code message } }
  }
`);

const CreateOrder = graphql(`
  mutation CheckoutCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id netAmounts { totalMoney { amount } } } userErrors { code message } }
  }
`);

const CreateSession = graphql(`
  mutation CheckoutCreateSession($input: CreateCheckoutSessionInput!) {
    createCheckoutSession(input: $input) {
      checkoutSession { id url status successUrl cancelUrl expiresAt order { id } }
      userErrors { code message field }
    }
  }
`);

const GetSession = graphql(`
  query CheckoutGetSession($id: ID!) {
    checkoutSession(id: $id) { id status order { id status netAmounts { paidMoney { amount } balanceMoney { amount } } paymentIntents { status } } }
    node(id: $id) { id }
  }
`);

const PayOrder = graphql(`
  mutation CheckoutPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) { userErrors { code } }
  }
`);

async function merchantWithOrder(options: { coupon?: boolean; free?: boolean } = {}) {
  const { key } = await api.signup({ name: 'Bean There', originAddress: { country: 'US', region: 'CA' } });
  const setup = await api.exec(Setup, {}, key);
  expect(setup.createCoupon.userErrors).toEqual([]);
  const order = await api.exec(
    CreateOrder,
    {
      input: {
        buyerEmail: 'sarah@example.com',
        couponCodes: options.coupon ? ['WELCOME5'] : [],
        lineItems: options.free
          ? [{ name: 'Free sample', quantity: 1, unitPriceMoney: { amount: 0, currency: 'USD' } }]
          : [
              { name: 'Organic Coffee Beans', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } },
              { name: 'Ceramic Pour-Over Mug', quantity: 1, unitPriceMoney: { amount: 2400, currency: 'USD' } },
            ],
      },
    },
    key,
  );
  expect(order.createOrder.userErrors).toEqual([]);
  return { key, order: order.createOrder.order! };
}

async function chargesOf(orderId: string) {
  const rows = await api.db.sandboxCharge.findMany();
  return rows.filter((r) => (r.metadata as { flint_order_id?: string }).flint_order_id === orderId);
}

describe('hosted checkout', () => {
  it('shows the order, refuses a declined card, pays with a good one and redirects to successUrl', async () => {
    const { key, order } = await merchantWithOrder({ coupon: true });
    // 6398 - 500 = 5898; tax 7.25 % = 427.605 → 428; total 6326.
    expect(order.netAmounts.totalMoney.amount).toBe(6326);
    const created = await api.exec(CreateSession, { input: { orderId: order.id, successUrl: `${shopUrl}/thanks`, cancelUrl: `${shopUrl}/cart` } }, key);
    expect(created.createCheckoutSession.userErrors).toEqual([]);
    const session = created.createCheckoutSession.checkoutSession!;
    expect(session.url).toBe(`${api.url}/checkout/${session.id}`);
    expect(session.status).toBe('OPEN');
    expect(session.order.id).toBe(order.id);
    expect(new Date(session.expiresAt).getTime() - Date.now()).toBeGreaterThan(24 * 3600_000 - 60_000);
    expect(new Date(session.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(24 * 3600_000);

    const page = await browser.newPage();
    try {
      await page.goto(session.url);
      expect(await page.title()).toBe('Pay Bean There');
      const items = await page.locator('tr.line-item').allTextContents();
      expect(items).toEqual([expect.stringContaining('Organic Coffee Beans × 2'), expect.stringContaining('Ceramic Pour-Over Mug × 1')]);
      expect(items[0]).toContain('39.98 USD');
      expect(await page.locator('tr.discount').textContent()).toMatch(/Discount WELCOME5\s*-5\.00 USD/);
      expect(await page.locator('tr.tax').textContent()).toMatch(/California sales tax\s*4\.28 USD/);
      expect(await page.locator('#total').textContent()).toBe('63.26 USD');
      expect(await page.locator('#pay').textContent()).toBe('Pay 63.26 USD');
      expect(await page.locator('a', { hasText: 'Cancel' }).getAttribute('href')).toBe(`${shopUrl}/cart`);
      await page.screenshot({ path: `${ARTIFACTS}checkout-open.png`, fullPage: true });

      await page.fill('#token', 'tok_chargeDeclined');
      await Promise.all([page.waitForLoadState('load'), page.click('#pay')]);
      expect(await page.locator('#error').textContent()).toContain('Your card was declined.');
      expect(await page.locator('#error').textContent()).toBe('Your card was declined. Nothing was charged; try another card.');
      await page.screenshot({ path: `${ARTIFACTS}checkout-declined.png`, fullPage: true });

      await page.fill('#token', 'tok_visa');
      await Promise.all([page.waitForURL(`${shopUrl}/thanks`), page.click('#pay')]);
      expect(await page.locator('#shop').textContent()).toBe('Thanks for your order!');
      await page.screenshot({ path: `${ARTIFACTS}checkout-success.png`, fullPage: true });

      const read = (await api.exec(GetSession, { id: session.id }, key)).checkoutSession!;
      expect(read.status).toBe('COMPLETE');
      expect(read.order.status).toBe('PAID');
      expect(read.order.netAmounts).toEqual({ paidMoney: { amount: 6326 }, balanceMoney: { amount: 0 } });
      expect(read.order.paymentIntents.map((p) => p.status)).toEqual(['FAILED', 'SUCCEEDED']);

      // A paid session shows its state.
      await page.goto(session.url);
      expect(await page.locator('#state').getAttribute('data-status')).toBe('COMPLETE');
      expect(await page.locator('#state').textContent()).toContain('Paid: 63.26 USD');
      expect(await page.locator('#pay').count()).toBe(0);
      await page.screenshot({ path: `${ARTIFACTS}checkout-paid.png`, fullPage: true });
    } finally {
      await page.close();
    }
    expect((await chargesOf(order.id)).map((c) => c.status).sort()).toEqual(['FAILED', 'SUCCEEDED']);
  }, 60_000);

  it('3-D Secure: the buyer authenticates on the sandbox page and comes back to a paid checkout', async () => {
    const { key, order } = await merchantWithOrder();
    const session = (await api.exec(CreateSession, { input: { orderId: order.id } }, key)).createCheckoutSession.checkoutSession!;
    const page = await browser.newPage();
    try {
      await page.goto(session.url);
      await page.fill('#token', 'tok_threeDSecure2Required');
      await Promise.all([page.waitForURL(/\/sandbox\/3ds\/sbch_/), page.click('#pay')]);
      expect(await page.locator('h1').textContent()).toBe('Sandbox 3-D Secure');
      await page.screenshot({ path: `${ARTIFACTS}checkout-3ds.png`, fullPage: true });
      await Promise.all([page.waitForURL(session.url), page.click('#complete')]);
      expect(await page.locator('#state').getAttribute('data-status')).toBe('COMPLETE');
    } finally {
      await page.close();
    }
    const read = (await api.exec(GetSession, { id: session.id }, key)).checkoutSession!;
    expect(read.status).toBe('COMPLETE');
    expect(read.order.status).toBe('PAID');
    expect(read.order.paymentIntents.map((p) => p.status)).toEqual(['SUCCEEDED']);
  }, 60_000);

  it('expires after 24 hours: EXPIRED in the API, the page says so and takes no payment', async () => {
    const { key, order } = await merchantWithOrder();
    const session = (await api.exec(CreateSession, { input: { orderId: order.id } }, key)).createCheckoutSession.checkoutSession!;
    offsetMs = 24 * 3600_000 - 60_000;
    try {
      expect((await api.exec(GetSession, { id: session.id }, key)).checkoutSession!.status).toBe('OPEN');
      offsetMs = 24 * 3600_000 + 1000;
      expect((await api.exec(GetSession, { id: session.id }, key)).checkoutSession!.status).toBe('EXPIRED');
      const page = await browser.newPage();
      try {
        const response = await page.goto(session.url);
        expect(response!.status()).toBe(410);
        expect(await page.locator('#state').getAttribute('data-status')).toBe('EXPIRED');
        expect(await page.locator('#pay').count()).toBe(0);
        await page.screenshot({ path: `${ARTIFACTS}checkout-expired.png`, fullPage: true });
      } finally {
        await page.close();
      }
      const posted = await fetch(`${session.url}/pay`, { method: 'POST', body: new URLSearchParams({ token: 'tok_visa', nonce: 'abc123' }) });
      expect(posted.status).toBe(410);
      expect(await chargesOf(order.id)).toHaveLength(0);
    } finally {
      offsetMs = 0;
    }
  }, 60_000);

  it('refuses sessions for orders that cannot be paid by card, bad URLs, and other merchants', async () => {
    const { key, order } = await merchantWithOrder();
    const bad = await api.exec(CreateSession, { input: { orderId: order.id, successUrl: 'javascript:alert(1)' } }, key);
    expect(bad.createCheckoutSession.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', ['input', 'successUrl']]]);

    const other = await api.signup();
    const stolen = await api.exec(CreateSession, { input: { orderId: order.id } }, other.key);
    expect(stolen.createCheckoutSession.userErrors.map((e) => e.code)).toEqual(['NOT_FOUND']);
    const session = (await api.exec(CreateSession, { input: { orderId: order.id } }, key)).createCheckoutSession.checkoutSession!;
    const peek = await api.exec(GetSession, { id: session.id }, other.key);
    expect(peek.checkoutSession).toBeNull();
    expect(peek.node).toBeNull();
    expect((await api.exec(GetSession, { id: session.id }, key)).node).toEqual({ id: session.id });

    await api.exec(PayOrder, { input: { orderId: order.id, paymentSourceTokens: ['tok_visa'] } }, key);
    const paid = await api.exec(CreateSession, { input: { orderId: order.id } }, key);
    expect(paid.createCheckoutSession.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE_TRANSITION']);

    const free = await merchantWithOrder({ free: true });
    const nothing = await api.exec(CreateSession, { input: { orderId: free.order.id } }, free.key);
    expect(nothing.createCheckoutSession.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_PAY']);
    expect((await fetch(`${api.url}/checkout/cs_01ARZ3NDEKTSV4RRFFQ69G5FAV`)).status).toBe(404);
  });

  it('the same idempotencyKey returns the same session', async () => {
    const { key, order } = await merchantWithOrder();
    const a = await api.exec(CreateSession, { input: { orderId: order.id, idempotencyKey: 'cs-once' } }, key);
    const b = await api.exec(CreateSession, { input: { orderId: order.id, idempotencyKey: 'cs-once' } }, key);
    expect(b).toEqual(a);
    expect(await api.db.checkoutSession.count({ where: { orderId: order.id } })).toBe(1);
  });
});
