// Input rules of createOrder through the public API: every bad value is a userError with the exact `field`
// path, and nothing is persisted (orders, line items, activity, idempotency keys of the merchant are counted
// before and after). Values GraphQL itself cannot coerce are GraphQL errors.
import { describe, expect, it } from 'vitest';
import { api, CreateOrder, AddLines, line, counts, expectCreated, Q } from '../support/order-validation.js';

/** A document codegen would refuse (a float literal for an Int), sent as raw text. */
const FLOAT_QUANTITY_LITERAL = `mutation ValidationCreateFloatLiteral {
  createOrder(input: { lineItems: [{ name: "Half", quantity: 1.5, unitPriceMoney: { amount: 100, currency: "USD" } }] }) {
    order { id }
    userErrors { code message field }
  }
}`;

async function rawRequest(query: string, key: string): Promise<{ errors?: readonly unknown[]; data?: unknown }> {
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { errors?: readonly unknown[]; data?: unknown };
}

/** createOrder must answer with exactly these [code, field] userErrors, no order, and persist nothing. */
async function expectRefused(key: string, merchantId: string, input: Record<string, unknown>, expected: [string, string[]][]) {
  const before = await counts(merchantId);
  const result = await api.request(CreateOrder, { input: { idempotencyKey: `v-${Math.random()}`, ...input } as never }, key);
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  const payload = result.data!.createOrder;
  expect(payload.order).toBeNull();
  expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual(expected);
  for (const e of payload.userErrors) expect(e.message.length).toBeGreaterThan(10);
  expect(await counts(merchantId)).toEqual(before);
  return payload.userErrors;
}

/** A GraphQL error (the value cannot be coerced) and nothing persisted. */
async function expectGraphQLError(key: string, merchantId: string, run: () => Promise<{ errors?: readonly unknown[]; data?: unknown }>) {
  const before = await counts(merchantId);
  const result = await run();
  expect(result.errors?.length ?? 0).toBeGreaterThan(0);
  expect((result.data as { createOrder?: unknown } | null | undefined)?.createOrder ?? null).toBeNull();
  expect(await counts(merchantId)).toEqual(before);
}

// --- createOrder ------------------------------------------------------------------------------------------

describe('createOrder input rules', () => {
  it('quantity must be a whole number from 1 to 100000', async () => {
    const { key, merchantId } = await api.signup();
    for (const quantity of [0, -1, 100001]) {
      await expectRefused(key, merchantId, { lineItems: [line({ quantity })] }, [['INVALID_INPUT', Q(0, 'quantity')]]);
    }
    // The path names the offending line.
    await expectRefused(key, merchantId, { lineItems: [line(), line(), line({ quantity: 0 })] }, [['INVALID_INPUT', Q(2, 'quantity')]]);
    const max = await expectCreated(key, { lineItems: [line({ quantity: 100000, unitPriceMoney: { amount: 1, currency: 'USD' } })] });
    expect(max.netAmounts.subtotalMoney.amount).toBe(100000);
  });

  it('a non-integer quantity is not an Int: a GraphQL error, nothing persisted', async () => {
    const { key, merchantId } = await api.signup();
    await expectGraphQLError(key, merchantId, () => api.request(CreateOrder, { input: { lineItems: [line({ quantity: 1.5 })] } }, key));
    await expectGraphQLError(key, merchantId, () => rawRequest(FLOAT_QUANTITY_LITERAL, key));
    // Beyond 32-bit Int: also refused by GraphQL.
    await expectGraphQLError(key, merchantId, () => api.request(CreateOrder, { input: { lineItems: [line({ quantity: 2 ** 31 })] } }, key));
  });

  it('unit price must be 0 to 10^12 minor units', async () => {
    const { key, merchantId } = await api.signup();
    for (const amount of [-1, 1_000_000_000_001]) {
      await expectRefused(key, merchantId, { lineItems: [line({ unitPriceMoney: { amount, currency: 'USD' } })] }, [
        ['INVALID_INPUT', Q(0, 'unitPriceMoney', 'amount')],
      ]);
    }
    // Not an integer / not a SafeInt: GraphQL refuses the value.
    for (const amount of [10.5, 2 ** 53]) {
      await expectGraphQLError(key, merchantId, () => api.request(CreateOrder, { input: { lineItems: [line({ unitPriceMoney: { amount, currency: 'USD' } })] } }, key));
    }
    const free = await expectCreated(key, { lineItems: [line({ unitPriceMoney: { amount: 0, currency: 'USD' } })] });
    expect(free.netAmounts.totalMoney.amount).toBe(0);
    const top = await expectCreated(key, { lineItems: [line({ unitPriceMoney: { amount: 1_000_000_000_000, currency: 'USD' } })] });
    expect(top.netAmounts.totalMoney.amount).toBe(1_000_000_000_000);
  });

  it('refuses a line whose amount would leave the SafeInt range (100000 × 10^12) with a userError, nothing persisted', async () => {
    const { key, merchantId } = await api.signup();
    const before = await counts(merchantId);
    const result = await api.request(CreateOrder, { input: { lineItems: [line({ quantity: 100000, unitPriceMoney: { amount: 1_000_000_000_000, currency: 'USD' } })] } }, key);
    expect(await counts(merchantId)).toEqual(before);
    // Expected: an INVALID_INPUT userError pointing into the line items — not an opaque "Unexpected error.".
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    const errors = result.data!.createOrder.userErrors;
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]!.code).toBe('INVALID_INPUT');
    expect(errors[0]!.field?.slice(0, 2)).toEqual(['input', 'lineItems']);
  });

  it('refuses an order whose total would leave the SafeInt range with a userError, nothing persisted', async () => {
    const { key, merchantId } = await api.signup();
    // Each line: 100000 × 10^10 = 10^15 (fine); ten of them: 10^16 > 2^53 − 1.
    const lineItems = Array.from({ length: 10 }, (_, i) => line({ name: `Big ${i}`, quantity: 100000, unitPriceMoney: { amount: 10_000_000_000, currency: 'USD' } }));
    const before = await counts(merchantId);
    const result = await api.request(CreateOrder, { input: { lineItems } }, key);
    expect(await counts(merchantId)).toEqual(before);
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    const errors = result.data!.createOrder.userErrors;
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]!.code).toBe('INVALID_INPUT');
    expect(errors[0]!.field?.slice(0, 2)).toEqual(['input', 'lineItems']);
  });

  it('an order holds at most 500 line items', async () => {
    const { key, merchantId } = await api.signup();
    const many = (n: number) => Array.from({ length: n }, (_, i) => line({ name: `Item ${i}`, unitPriceMoney: { amount: 1, currency: 'USD' } }));
    await expectRefused(key, merchantId, { lineItems: many(501) }, [['INVALID_INPUT', ['input', 'lineItems']]]);
    const full = await expectCreated(key, { lineItems: many(500) });
    expect(full.lineItems).toHaveLength(500);
    expect(full.netAmounts.totalMoney.amount).toBe(500);
    // Adding one more to a full order is refused and changes nothing.
    const before = await counts(merchantId);
    const add = await api.exec(AddLines, { input: { orderId: full.id, lineItems: [line()] } }, key);
    expect(add.addLineItems.order).toBeNull();
    expect(add.addLineItems.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', ['input', 'lineItems']]]);
    expect(await counts(merchantId)).toEqual(before);
  });

  it('name must be 1 to 500 characters', async () => {
    const { key, merchantId } = await api.signup();
    for (const name of ['', '   ', 'n'.repeat(501)]) {
      await expectRefused(key, merchantId, { lineItems: [line({ name })] }, [['INVALID_INPUT', Q(0, 'name')]]);
    }
    const long = await expectCreated(key, { lineItems: [line({ name: 'n'.repeat(500) })] });
    expect(long.lineItems).toHaveLength(1);
  });

  it('sku and customerId may not be empty', async () => {
    const { key, merchantId } = await api.signup();
    await expectRefused(key, merchantId, { lineItems: [line({ sku: '' })] }, [['INVALID_INPUT', Q(0, 'sku')]]);
    await expectRefused(key, merchantId, { customerId: '', lineItems: [line()] }, [['INVALID_INPUT', ['input', 'customerId']]]);
  });

  it('currency must be an upper-case ISO 4217 code Flint knows', async () => {
    const { key, merchantId } = await api.signup();
    for (const currency of ['usd', 'ABC', 'XXX', 'US', 'USDX', '']) {
      await expectRefused(key, merchantId, { lineItems: [line({ unitPriceMoney: { amount: 100, currency } })] }, [['INVALID_INPUT', Q(0, 'unitPriceMoney', 'currency')]]);
    }
    await expectRefused(key, merchantId, { currency: 'usd', lineItems: [] }, [['INVALID_INPUT', ['input', 'currency']]]);
    // Neither lines nor a currency: nothing to price.
    await expectRefused(key, merchantId, { lineItems: [] }, [['INVALID_INPUT', ['input', 'lineItems']]]);
  });

  it('every amount is in the order currency: mixed currencies are CURRENCY_MISMATCH', async () => {
    const { key, merchantId } = await api.signup();
    await expectRefused(
      key,
      merchantId,
      { lineItems: [line(), line({ unitPriceMoney: { amount: 100, currency: 'EUR' } }), line()] },
      [['CURRENCY_MISMATCH', Q(1, 'unitPriceMoney', 'currency')]],
    );
    // An explicit order currency that the lines do not share.
    await expectRefused(key, merchantId, { currency: 'EUR', lineItems: [line()] }, [['CURRENCY_MISMATCH', Q(0, 'unitPriceMoney', 'currency')]]);
    const eur = await expectCreated(key, { currency: 'EUR', lineItems: [line({ unitPriceMoney: { amount: 100, currency: 'EUR' } })] });
    expect(eur.currency).toBe('EUR');
  });

  it('metadata must be a JSON object of at most 50 keys and 16 KB', async () => {
    const { key, merchantId } = await api.signup();
    for (const metadata of [['a', 'b'], 'text', 42, true, Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])), { big: 'x'.repeat(17_000) }]) {
      await expectRefused(key, merchantId, { metadata, lineItems: [line()] }, [['INVALID_INPUT', ['input', 'metadata']]]);
    }
    await expectRefused(key, merchantId, { lineItems: [line(), line({ metadata: [1, 2] })] }, [['INVALID_INPUT', Q(1, 'metadata')]]);
    const ok = await expectCreated(key, { metadata: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])), lineItems: [line({ metadata: { a: 1 } })] });
    expect(ok.id).toMatch(/^ord_/);
  });

  it('buyerEmail must be an email address', async () => {
    const { key, merchantId } = await api.signup();
    for (const buyerEmail of ['not-an-email', 'a@b', '@example.com', 'sarah @example.com', '']) {
      await expectRefused(key, merchantId, { buyerEmail, lineItems: [line()] }, [['INVALID_INPUT', ['input', 'buyerEmail']]]);
    }
    await expectCreated(key, { buyerEmail: 'sarah@example.com', lineItems: [line()] });
  });

  it('taxCategory must be 1 to 64 of a-z, 0-9, _ and -', async () => {
    const { key, merchantId } = await api.signup();
    for (const taxCategory of ['Food', 'food stuff', 'café', 'x'.repeat(65)]) {
      await expectRefused(key, merchantId, { lineItems: [line({ taxCategory })] }, [['INVALID_INPUT', Q(0, 'taxCategory')]]);
    }
    await expectCreated(key, { lineItems: [line({ taxCategory: 'reduced_rate-2' })] });
  });

  it('shippingAddress needs an ISO country and a subdivision code as region', async () => {
    const { key, merchantId } = await api.signup();
    for (const country of ['USA', 'XX', 'U', '']) {
      await expectRefused(key, merchantId, { shippingAddress: { country }, lineItems: [line()] }, [['INVALID_INPUT', ['input', 'shippingAddress', 'country']]]);
    }
    await expectRefused(key, merchantId, { shippingAddress: { country: 'US', region: 'California' }, lineItems: [line()] }, [
      ['INVALID_INPUT', ['input', 'shippingAddress', 'region']],
    ]);
  });

  it('reports every problem at once, each with its own path', async () => {
    const { key, merchantId } = await api.signup();
    const before = await counts(merchantId);
    const input = {
      buyerEmail: 'nope',
      metadata: [],
      lineItems: [line({ quantity: 0 }), line(), line({ name: '', unitPriceMoney: { amount: -5, currency: 'USD' } })],
    };
    const result = await api.request(CreateOrder, { input }, key);
    expect(result.errors).toBeUndefined();
    expect(result.data!.createOrder.order).toBeNull();
    // The order of the errors is not part of the contract: compare as a set.
    const got = result.data!.createOrder.userErrors.map((e) => JSON.stringify([e.code, e.field])).sort();
    const expected = [
      ['INVALID_INPUT', Q(0, 'quantity')],
      ['INVALID_INPUT', Q(2, 'name')],
      ['INVALID_INPUT', Q(2, 'unitPriceMoney', 'amount')],
      ['INVALID_INPUT', ['input', 'buyerEmail']],
      ['INVALID_INPUT', ['input', 'metadata']],
    ]
      .map((x) => JSON.stringify(x))
      .sort();
    expect(got).toEqual(expected);
    expect(await counts(merchantId)).toEqual(before);
  });
});
