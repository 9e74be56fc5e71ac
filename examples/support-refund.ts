// A support agent's refund: "refund one coffee from Sarah's last order". Find the order, preview the
// refund (what it returns, tax included, and what the order looks like afterwards), then refund it with
// an idempotency key tied to the request, so running this twice refunds once.
//
//   KEY=sk_test_... npm run example:refund                        # sarah@example.com, sku COFFEE-1
//   KEY=sk_test_... npm run example:refund -- buyer@example.com MUG-1
//
// FLINT is the server (default http://localhost:4000).
import { Flint } from '@flint/client';

const flint = new Flint({ apiKey: process.env.KEY, baseUrl: process.env.FLINT ?? 'http://localhost:4000' });
const [email = 'sarah@example.com', sku = 'COFFEE-1'] = process.argv.slice(2);

const { nodes } = await flint.orders.list({ first: 1, filter: { buyerEmail: email, status: ['PAID', 'PARTIALLY_REFUNDED'] } });
const order = nodes[0];
if (!order) {
  console.log(`${email} has no paid order`);
  process.exit(1);
}
const line = order.lineItems.find((l) => l.sku === sku && l.refundableQuantity > 0);
const payment = order.paymentIntents.find((p) => p.status === 'SUCCEEDED');
if (!line || !payment) {
  console.log(`nothing of ${sku} left to refund on ${order.id}: ${order.summary}`);
  process.exit(1);
}

const request = { paymentIntentId: payment.id, lineItems: [{ lineItemId: line.id, quantity: 1 }] };
const preview = await flint.refunds.preview(request);
console.log(`refunding 1 × ${line.name} returns ${preview.amountMoney!.amount} (tax ${preview.taxMoney!.amount}); the order becomes ${preview.resultingStatus}`);

const refund = await flint.refunds.create({
  ...request,
  reason: 'requested_by_customer',
  idempotencyKey: `support-${order.id}-${line.id}-${line.refundedQuantity + 1}`,
});
console.log(`refund ${refund.id}: ${refund.status}, ${refund.amountMoney.amount} ${refund.amountMoney.currency}; ${refund.order!.summary}`);
