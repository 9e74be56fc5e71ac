// A storefront's checkout: the cart becomes an order (Flint prices it: discounts, tax, total), then the
// buyer is sent to Flint's hosted checkout page. With a token argument it pays directly instead, as a
// storefront with its own card form would (sandbox tokens: docs/test-tokens.md).
//
//   KEY=sk_test_... npm run example:storefront                # prints the checkout page's URL
//   KEY=sk_test_... npm run example:storefront -- tok_visa    # pays with a sandbox token
//
// FLINT is the server (default http://localhost:4000).
import { Flint, FlintUserError } from '@flint/client';

const flint = new Flint({ apiKey: process.env.KEY, baseUrl: process.env.FLINT ?? 'http://localhost:4000' });

const cart = [
  { name: 'Organic Coffee Beans', sku: 'COFFEE-1', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } },
  { name: 'Ceramic Pour-Over Mug', sku: 'MUG-1', quantity: 1, unitPriceMoney: { amount: 2400, currency: 'USD' } },
];

const order = await flint.orders.create({
  buyerEmail: 'sarah@example.com',
  shippingAddress: { country: 'US', region: 'CA', postalCode: '94103' },
  lineItems: cart,
});
const { subtotalMoney, taxMoney, totalMoney } = order.netAmounts;
console.log(`order ${order.id}: subtotal ${subtotalMoney.amount}, tax ${taxMoney.amount}, total ${totalMoney.amount} ${totalMoney.currency}`);

const token = process.argv[2];
if (!token) {
  const session = await flint.checkoutSessions.create({ orderId: order.id, successUrl: 'https://shop.example/thanks', cancelUrl: 'https://shop.example/cart' });
  console.log(`checkout page: ${session.url}`);
} else {
  try {
    const { order: paid, paymentIntent } = await flint.orders.pay({ orderId: order.id, paymentSourceTokens: [token] });
    console.log(`paid: ${paid.status}, payment ${paymentIntent!.id} ${paymentIntent!.status}`);
  } catch (error) {
    if (!(error instanceof FlintUserError)) throw error;
    console.log(`not paid: ${error.code}: ${error.message}`);
    process.exitCode = 2;
  }
}
