// The merchant dashboard end to end in headless Chromium (Debian's chromium + playwright-core): sign in
// through a one-time link from createDashboardLink; the order page shows lines, amounts and the tax
// breakdown; a payment made through the API appears on the open page within 2 s (the page's script
// subscribes over SSE with the session cookie); a line is refunded from the page after its preview,
// with the API's amounts; the chart shows the day's revenue and tax; sign-out ends the session. No
// secret reaches the browser and the page runs under its CSP without a violation. Screenshots go to
// artifacts/ (git-ignored).
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { ARTIFACTS, useChromium } from '../support/browser.js';
import { until } from '../support/until.js';
import { formatMoney } from '../../src/pricing/index.js';
import { createLink } from './support.js';

const api = useTestApi();
const browserOf = useChromium();

const Setup = graphql(`
  mutation DashboardBrowserSetup {
    addTaxRegistration(input: { jurisdiction: "US-CA" }) { userErrors { code } }
    setTaxRate(input: { jurisdiction: "US-CA", name: "California sales tax", rate: "0.0725" }) { userErrors { code } }
  }
`);

const CreateOrder = graphql(`
  mutation DashboardBrowserCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { id lineItems { id name } netAmounts { totalMoney { amount } taxMoney { amount } } }
      userErrors { code message }
    }
  }
`);

const PayOrder = graphql(`
  mutation DashboardBrowserPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) { paymentIntent { id status amountMoney { amount } } userErrors { code message } }
  }
`);

const Preview = graphql(`
  query DashboardBrowserPreview($input: RefundPreviewInput!) {
    refundPreview(input: $input) { amountMoney { amount currency } taxMoney { amount } resultingStatus userErrors { code } }
  }
`);

const OrderRefunds = graphql(`
  query DashboardBrowserOrder($id: ID!) {
    order(id: $id) {
      status
      netAmounts { paidMoney { amount } refundedMoney { amount } taxMoney { amount } }
      refunds { id status amountMoney { amount } lineItems { lineItem { id } quantity } }
    }
    activities(first: 100) { edges { node { type orderId actor { type id } } } }
  }
`);

describe('merchant dashboard', () => {
  it('signs in by link, shows a payment made through the API within 2 s, refunds a line after its preview, and charts the day', async () => {
    const { key } = await api.signup({ name: 'Bean There', originAddress: { country: 'US', region: 'CA' } });
    await api.exec(Setup, {}, key);
    const created = await api.exec(
      CreateOrder,
      {
        input: {
          buyerEmail: 'sarah@example.com',
          customerId: 'cus_sarah',
          lineItems: [
            { name: 'Organic Coffee Beans', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } },
            { name: 'Ceramic Pour-Over Mug', quantity: 1, unitPriceMoney: { amount: 2400, currency: 'USD' } },
          ],
        },
      },
      key,
    );
    expect(created.createOrder.userErrors).toEqual([]);
    const order = created.createOrder.order!;
    const usd = (amount: number) => formatMoney(BigInt(amount), 'USD');

    const context = await browserOf().newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    try {
      // Sign in: the link shows a page; the button spends it and lands on the order list.
      const link = await createLink(api, key);
      await page.goto(link.url);
      expect(await page.locator('h1').textContent()).toBe('Sign in to Bean There');
      await Promise.all([page.waitForURL(`${api.url}/dashboard`), page.click('#sign-in')]);
      expect(await page.locator('#mode').textContent()).toBe('Test mode');
      expect(await page.locator(`tr.order-row[data-order-id="${order.id}"]`).count()).toBe(1);
      const cookies = await context.cookies();
      expect(cookies).toHaveLength(1);
      expect(cookies[0]).toMatchObject({ name: 'flint_dashboard', httpOnly: true, sameSite: 'Strict', path: '/dashboard' });
      expect(await page.evaluate(() => document.cookie)).toBe('');
      // The list is live too: an order created through the API appears without a reload.
      await page.locator('#live-status[data-state="live"]').waitFor({ timeout: 5_000 });
      await until('the list subscription', () => api.hub.size >= 1, 5_000);
      const another = await api.exec(
        CreateOrder,
        { input: { buyerEmail: 'tom@example.com', lineItems: [{ name: 'Gift card', quantity: 1, unitPriceMoney: { amount: 2500, currency: 'USD' } }] } },
        key,
      );
      await page.locator(`tr.order-row[data-order-id="${another.createOrder.order!.id}"]`).waitFor({ timeout: 2_000 });
      await page.screenshot({ path: `${ARTIFACTS}dashboard-orders.png`, fullPage: true });

      // The order page, live: wait until its subscription is open, then pay through the API.
      await page.click(`a[href="/dashboard/orders/${order.id}"]`);
      await page.waitForURL(`${api.url}/dashboard/orders/${order.id}`);
      expect(await page.locator('#order-status').textContent()).toBe('OPEN');
      expect(await page.locator('#total').textContent()).toBe(usd(order.netAmounts.totalMoney.amount));
      expect(await page.locator('#tax-breakdown tr.tax-line').textContent()).toContain('California sales tax');
      expect(await page.locator('#tax-breakdown tr.tax-line').textContent()).toContain(usd(order.netAmounts.taxMoney.amount));
      expect(await page.locator('tr.line-item').count()).toBe(2);
      expect(await page.locator('#no-payments').count()).toBe(1);
      // The SSE response starts once the subscription is open on the server (hub.open has resolved).
      await page.locator('#live-status[data-state="live"]').waitFor({ timeout: 5_000 });
      await until('the page subscription', () => api.hub.size >= 1, 5_000);

      const started = Date.now();
      const paid = (await api.exec(PayOrder, { input: { orderId: order.id, paymentSourceTokens: ['tok_visa'] } }, key)).payOrder;
      expect(paid.userErrors).toEqual([]);
      const payment = paid.paymentIntent!;
      await page.locator(`tr.payment[data-payment-id="${payment.id}"][data-status="SUCCEEDED"]`).waitFor({ timeout: 2_000 });
      const seenAfterMs = Date.now() - started;
      expect(seenAfterMs).toBeLessThan(2_000);
      await page.locator('#order-status', { hasText: 'PAID' }).waitFor({ timeout: 2_000 });
      expect(await page.locator('#paid').textContent()).toBe(usd(payment.amountMoney.amount));
      await page.locator('#refund-form').waitFor({ timeout: 2_000 });
      await page.screenshot({ path: `${ARTIFACTS}dashboard-order-paid.png`, fullPage: true });

      // Refund one unit of the coffee: the preview shows the API's numbers before anything is refunded.
      const coffee = order.lineItems.find((l) => l.name === 'Organic Coffee Beans')!;
      const expected = (
        await api.exec(Preview, { input: { paymentIntentId: payment.id, lineItems: [{ lineItemId: coffee.id, quantity: 1 }] } }, key)
      ).refundPreview;
      expect(expected.userErrors).toEqual([]);
      await page.fill(`#qty-${coffee.id}`, '1');
      await Promise.all([page.waitForURL(`${api.url}/dashboard/orders/${order.id}/refund-preview`), page.click('#preview-refund')]);
      expect(await page.locator('#preview-amount').textContent()).toBe(usd(expected.amountMoney!.amount));
      expect(await page.locator('#preview-tax').textContent()).toBe(usd(expected.taxMoney!.amount));
      expect(await page.locator('#preview-status').textContent()).toBe(expected.resultingStatus);
      expect(await api.db.refund.count({ where: { orderId: order.id } })).toBe(0);
      await page.screenshot({ path: `${ARTIFACTS}dashboard-refund-preview.png`, fullPage: true });

      await Promise.all([page.waitForURL(/\/dashboard\/orders\/ord_[0-9A-Z]+\?refund=re_/), page.click('#confirm-refund')]);
      expect(await page.locator('#notice').textContent()).toContain(`SUCCEEDED: ${usd(expected.amountMoney!.amount)}`);
      expect(await page.locator('#order-status').textContent()).toBe('PARTIALLY_REFUNDED');
      expect(await page.locator('tr.refund').count()).toBe(1);
      expect(await page.locator('#refunded').textContent()).toBe(usd(expected.amountMoney!.amount));
      expect(await page.locator('#refunded-tax').textContent()).toBe(`−${usd(expected.taxMoney!.amount)}`);
      expect(await page.locator('#net-tax').textContent()).toBe(usd(order.netAmounts.taxMoney.amount - expected.taxMoney!.amount));
      const after = await api.exec(OrderRefunds, { id: order.id }, key);
      expect(after.order!.status).toBe('PARTIALLY_REFUNDED');
      expect(after.order!.refunds).toMatchObject([
        { status: 'SUCCEEDED', amountMoney: { amount: expected.amountMoney!.amount }, lineItems: [{ lineItem: { id: coffee.id }, quantity: 1 }] },
      ]);
      // The audit trail records the refund as made by the key that made the link, through the same use case.
      const refundEntry = after.activities.edges.map((e) => e.node).find((n) => n.type === 'refund.created' && n.orderId === order.id);
      expect(refundEntry?.actor.type).toBe('API_KEY');
      await page.locator('li.activity[data-type="refund.succeeded"]').waitFor({ timeout: 2_000 });
      await page.screenshot({ path: `${ARTIFACTS}dashboard-order-refunded.png`, fullPage: true });

      // The chart: today's revenue is paid − refunded, and its tax is the tax kept.
      await page.goto(`${api.url}/dashboard`);
      const today = new Date().toISOString().slice(0, 10);
      const bar = page.locator(`figure.chart[data-currency="USD"] g.day[data-day="${today}"]`);
      const net = after.order!.netAmounts;
      expect(await bar.getAttribute('data-revenue')).toBe(String(net.paidMoney.amount - net.refundedMoney.amount));
      expect(await bar.getAttribute('data-tax')).toBe(String(net.taxMoney.amount));
      expect(await page.locator('figure.chart .chart-revenue').textContent()).toBe(usd(net.paidMoney.amount - net.refundedMoney.amount));
      await page.screenshot({ path: `${ARTIFACTS}dashboard-chart.png`, fullPage: true });

      // Nothing secret in the browser: no API key in any page, and no CSP violation or script error.
      expect(await page.content()).not.toContain(key);
      expect(problems).toEqual([]);

      await Promise.all([page.waitForURL(`${api.url}/dashboard/signed-out`), page.click('#sign-out')]);
      expect(await page.locator('#signed-out').count()).toBe(1);
      expect(await context.cookies()).toEqual([]);
      const response = await page.goto(`${api.url}/dashboard`);
      expect(response?.status()).toBe(401);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('tells the merchant to make a new link when the link was already used', async () => {
    const { key } = await api.signup();
    const link = await createLink(api, key);
    const context = await browserOf().newContext();
    const page = await context.newPage();
    try {
      await page.goto(link.url);
      await Promise.all([page.waitForURL(`${api.url}/dashboard`), page.click('#sign-in')]);
      const response = await page.goto(link.url);
      expect(response?.status()).toBe(410);
      expect(await page.locator('#link-problem').getAttribute('data-problem')).toBe('used');
      expect(await page.locator('main').textContent()).toContain('createDashboardLink');
      await page.screenshot({ path: `${ARTIFACTS}dashboard-link-used.png`, fullPage: true });
    } finally {
      await context.close();
    }
  }, 30_000);
});
