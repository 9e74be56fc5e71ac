// Coupons on orders through the public GraphQL API: the worked examples of pricing.md §4 (Shopify's 350 → 297,
// percentage before fixed, SKU-scoped first, a fixed coupon stopping at zero, 299 over 4300/1400/2300 →
// [161, 52, 86]), tax on discounted amounts, JPY; which coupons an order may carry: stacking refusals both
// ways, case-insensitive codes, unknown codes, currency mismatch.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, CreateOrder, GetOrder, coupon, pct, fixed, lineInput, order, apply, applyOk, remove } from '../support/coupons.js';

const AddRegistration = graphql(`
  mutation CouponsAddRegistration($input: AddTaxRegistrationInput!) {
    addTaxRegistration(input: $input) { userErrors { code message field } }
  }
`);

const SetRate = graphql(`
  mutation CouponsSetRate($input: SetTaxRateInput!) {
    setTaxRate(input: $input) { userErrors { code message field } }
  }
`);

const amounts = (o: { lineItems: { discountMoney: { amount: number } }[] }) => o.lineItems.map((l) => l.discountMoney.amount);

// --- pricing.md §4 through the API ------------------------------------------------------------------

describe('discounts through the API (pricing.md §4)', () => {
  it("Shopify's example: 20 off pants, then 10 % off the order: 350 → 297", async () => {
    const { key } = await api.signup();
    const pants = await coupon(key, fixed('PANTS20', 20, { appliesToSkus: ['PANTS'], stackable: true, name: '20 off pants' }));
    const tenOff = await coupon(key, pct('TEN', '10', { stackable: true, name: '10 % off' }));
    const lines = [{ amount: 100, sku: 'PANTS', name: 'Pants' }, { amount: 50, name: 'Socks' }, { amount: 200, name: 'Jacket' }];

    // At creation (listed order-wide first: the engine orders them)...
    const created = await order(key, lines, { couponCodes: ['ten', 'pants20'] });
    // ...and applied one by one.
    const o = await order(key, lines);
    await applyOk(key, o.id, 'TEN');
    const applied = await applyOk(key, o.id, 'Pants20');

    for (const x of [created, applied]) {
      expect(x.netAmounts.subtotalMoney.amount).toBe(350);
      expect(x.netAmounts.discountMoney.amount).toBe(53);
      expect(x.netAmounts.totalMoney.amount).toBe(297);
      expect(x.discounts).toEqual([
        { couponId: pants.id, code: 'PANTS20', name: '20 off pants', type: 'FIXED_AMOUNT', amountMoney: { amount: 20, currency: 'USD' } },
        { couponId: tenOff.id, code: 'TEN', name: '10 % off', type: 'PERCENTAGE', amountMoney: { amount: 33, currency: 'USD' } },
      ]);
      // 33 over what was left [80, 50, 200] → [8, 5, 20].
      expect(amounts(x)).toEqual([28, 5, 20]);
      expect(x.lineItems[0]!.discounts).toEqual([
        { code: 'PANTS20', amountMoney: { amount: 20, currency: 'USD' } },
        { code: 'TEN', amountMoney: { amount: 8, currency: 'USD' } },
      ]);
      expect(x.lineItems[1]!.discounts).toEqual([{ code: 'TEN', amountMoney: { amount: 5, currency: 'USD' } }]);
      expect(x.lineItems.map((l) => l.totalMoney.amount)).toEqual([72, 45, 180]);
    }
  });

  it('percentage coupons apply before fixed-amount ones, whatever their priority', async () => {
    const { key } = await api.signup();
    await coupon(key, fixed('FLAT10', 1000, { stackable: true, priority: -5 }));
    await coupon(key, pct('PCT10', '10', { stackable: true, priority: 5 }));
    const o = await order(key, [{ amount: 10000 }]);
    await applyOk(key, o.id, 'FLAT10');
    const x = await applyOk(key, o.id, 'PCT10');
    // 10 % of 10000 = 1000, then 1000 off → 8000 (fixed first would give 8100).
    expect(x.discounts.map((d) => [d.code, d.amountMoney.amount])).toEqual([['PCT10', 1000], ['FLAT10', 1000]]);
    expect(x.netAmounts.totalMoney.amount).toBe(8000);
  });

  it('SKU-scoped coupons apply before order-wide ones, whatever their type and priority', async () => {
    const { key } = await api.signup();
    await coupon(key, pct('ALL10', '10', { stackable: true, priority: -10 }));
    await coupon(key, fixed('HAT5', 500, { stackable: true, priority: 10, appliesToSkus: ['HAT'] }));
    const x = await order(key, [{ amount: 1000, sku: 'HAT' }, { amount: 1000, sku: 'SCARF' }], { couponCodes: ['ALL10', 'HAT5'] });
    // HAT 1000 → 500; then 10 % of (500 + 1000) = 150 → discount 650 (order-wide first would give 700).
    expect(x.discounts.map((d) => [d.code, d.amountMoney.amount])).toEqual([['HAT5', 500], ['ALL10', 150]]);
    expect(x.netAmounts.discountMoney.amount).toBe(650);
    expect(amounts(x)).toEqual([550, 100]);
  });

  it('a fixed coupon larger than the eligible amount stops at zero', async () => {
    const { key } = await api.signup();
    await coupon(key, fixed('BIG', 5000));
    await coupon(key, fixed('HATBIG', 1000, { appliesToSkus: ['HAT'] }));
    const whole = await order(key, [{ amount: 1200 }, { amount: 1800 }], { couponCodes: ['BIG'] });
    expect(whole.discounts[0]!.amountMoney.amount).toBe(3000);
    expect(whole.netAmounts.totalMoney.amount).toBe(0);
    expect(whole.lineItems.map((l) => l.totalMoney.amount)).toEqual([0, 0]);
    const scoped = await order(key, [{ amount: 300, sku: 'HAT' }, { amount: 700, sku: 'COAT' }], { couponCodes: ['HATBIG'] });
    expect(scoped.discounts[0]!.amountMoney.amount).toBe(300);
    expect(amounts(scoped)).toEqual([300, 0]);
    expect(scoped.netAmounts.totalMoney.amount).toBe(700);
  });

  it('an order-level fixed coupon of 299 over lines of 4300, 1400 and 2300 allocates [161, 52, 86]', async () => {
    const { key } = await api.signup();
    await coupon(key, fixed('V299', 299));
    const x = await order(key, [{ amount: 4300 }, { amount: 1400 }, { amount: 2300 }], { couponCodes: ['v299'] });
    expect(amounts(x)).toEqual([161, 52, 86]);
    expect(x.lineItems.map((l) => l.discounts.map((d) => d.amountMoney.amount))).toEqual([[161], [52], [86]]);
    expect(x.netAmounts.discountMoney.amount).toBe(299);
    expect(x.netAmounts.totalMoney.amount).toBe(8000 - 299);
  });

  it('tax is computed on the discounted amounts', async () => {
    const { key } = await api.signup();
    expect((await api.exec(AddRegistration, { input: { jurisdiction: 'US-CA' } }, key)).addTaxRegistration.userErrors).toEqual([]);
    expect((await api.exec(SetRate, { input: { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' } }, key)).setTaxRate.userErrors).toEqual([]);
    await coupon(key, pct('TENPCT', '10'));
    const shipping = { country: 'US', region: 'CA' };
    const o = await order(key, [{ amount: 1000 }, { amount: 2000 }], { shippingAddress: shipping });
    // Undiscounted: 3000 × 7.25 % = 217.5 → 218 (half to even).
    expect(o.netAmounts.taxMoney.amount).toBe(218);
    const x = await applyOk(key, o.id, 'TENPCT');
    // Discounted bases 900 + 1800 = 2700 × 7.25 % = 195.75 → 196, allocated [65, 131].
    expect(amounts(x)).toEqual([100, 200]);
    expect(x.netAmounts.taxMoney.amount).toBe(196);
    expect(x.lineItems.map((l) => l.taxMoney.amount)).toEqual([65, 131]);
    expect(x.netAmounts.totalMoney.amount).toBe(2700 + 196);
    // Removing the coupon puts the tax back on the full amounts.
    const back = (await remove(key, o.id, 'tenpct')).order!;
    expect(back.netAmounts.taxMoney.amount).toBe(218);
    expect(back.netAmounts.totalMoney.amount).toBe(3218);
  });

  it('a percentage coupon without a minimum applies to any currency; JPY amounts stay whole yen', async () => {
    const { key } = await api.signup();
    await coupon(key, pct('ANY15', '15'));
    const x = await order(key, [{ amount: 999, currency: 'JPY' }], { couponCodes: ['ANY15'] });
    // 999 × 15 % = 149.85 → 150.
    expect(x.discounts[0]!.amountMoney).toEqual({ amount: 150, currency: 'JPY' });
    expect(x.netAmounts.totalMoney).toEqual({ amount: 849, currency: 'JPY' });
  });
});

// --- stacking, currency, codes, not found -----------------------------------------------------------

describe('which coupons an order may carry', () => {
  it('a non-stackable coupon stands alone, refused either way round; stackable ones combine', async () => {
    const { key } = await api.signup();
    await coupon(key, pct('SOLO', '20'));
    await coupon(key, pct('STACK1', '5', { stackable: true }));
    await coupon(key, fixed('STACK2', 100, { stackable: true }));

    // Non-stackable first, then anything: refused.
    const a = await order(key, [{ amount: 10000 }], { couponCodes: ['SOLO'] });
    const r1 = await apply(key, a.id, 'STACK1');
    expect(r1.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_STACKABLE', field: ['input', 'code'] })]);
    expect(r1.userErrors[0]!.message).toContain('"SOLO"');
    expect(r1.userErrors[0]!.message).toContain('removeCoupon');

    // Stackable first, then the non-stackable one: refused too.
    const b = await order(key, [{ amount: 10000 }], { couponCodes: ['STACK1'] });
    const r2 = await apply(key, b.id, 'SOLO');
    expect(r2.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_STACKABLE', field: ['input', 'code'] })]);
    expect((await api.exec(GetOrder, { id: b.id }, key)).order?.discounts.map((d) => d.code)).toEqual(['STACK1']);

    // Alone, it applies; stackables combine.
    const c = await order(key, [{ amount: 10000 }]);
    expect((await applyOk(key, c.id, 'SOLO')).netAmounts.discountMoney.amount).toBe(2000);
    const both = await applyOk(key, b.id, 'STACK2');
    expect(both.discounts.map((d) => d.code)).toEqual(['STACK1', 'STACK2']);
    expect(both.netAmounts.discountMoney.amount).toBe(500 + 100);

    // In createOrder: the later code is refused, at its index, and nothing is created.
    for (const codes of [['SOLO', 'STACK1'], ['STACK1', 'SOLO']]) {
      const created = await api.exec(CreateOrder, { input: { lineItems: [lineInput({ amount: 10000 }, 0)], couponCodes: codes } }, key);
      expect(created.createOrder.order).toBeNull();
      expect(created.createOrder.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_STACKABLE', field: ['input', 'couponCodes', '1'] })]);
    }
  });

  it('codes match case-insensitively; the same coupon twice is COUPON_ALREADY_APPLIED', async () => {
    const { key } = await api.signup();
    const c = await coupon(key, pct('MixedCase_1', '10', { stackable: true }));
    const o = await order(key, [{ amount: 1000 }]);
    const x = await applyOk(key, o.id, 'mIXEDcASE_1');
    expect(x.discounts).toEqual([expect.objectContaining({ couponId: c.id, code: 'MixedCase_1' })]);
    const twice = await apply(key, o.id, 'MIXEDCASE_1');
    expect(twice.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_ALREADY_APPLIED', field: ['input', 'code'] })]);
    const dup = await api.exec(CreateOrder, { input: { lineItems: [lineInput({ amount: 1000 }, 0)], couponCodes: ['mixedcase_1', 'MIXEDCASE_1'] } }, key);
    expect(dup.createOrder.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_ALREADY_APPLIED', field: ['input', 'couponCodes', '1'] })]);
    const removed = await remove(key, o.id, 'mixedcase_1');
    expect(removed.userErrors).toEqual([]);
    expect(removed.order?.discounts).toEqual([]);
  });

  it('unknown codes are COUPON_NOT_FOUND, at their index in couponCodes, with nothing written', async () => {
    const { key, merchantId } = await api.signup();
    await coupon(key, pct('REAL', '10', { stackable: true }));
    const o = await order(key, [{ amount: 1000 }]);
    for (const code of ['FAKE', 'bad code!', '']) {
      const r = await apply(key, o.id, code);
      expect(r.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_FOUND', field: ['input', 'code'] })]);
    }
    const before = await api.db.order.count({ where: { merchantId } });
    const created = await api.exec(CreateOrder, { input: { lineItems: [lineInput({ amount: 1000 }, 0)], couponCodes: ['REAL', 'FAKE', 'ALSO_FAKE'] } }, key);
    expect(created.createOrder.userErrors).toEqual([
      expect.objectContaining({ code: 'COUPON_NOT_FOUND', field: ['input', 'couponCodes', '1'] }),
      expect.objectContaining({ code: 'COUPON_NOT_FOUND', field: ['input', 'couponCodes', '2'] }),
    ]);
    expect(await api.db.order.count({ where: { merchantId } })).toBe(before);
    const notApplied = await remove(key, o.id, 'REAL');
    expect(notApplied.userErrors.map((e) => e.code)).toEqual(['INVALID_INPUT']); // the order has no coupon at all
    await applyOk(key, o.id, 'REAL');
    const other = await remove(key, o.id, 'FAKE');
    expect(other.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_FOUND', field: ['input', 'code'] })]);
    expect(other.userErrors[0]!.message).toContain('"REAL"');
  });

  it('a coupon with a currency applies only to orders in that currency (CURRENCY_MISMATCH)', async () => {
    const { key } = await api.signup();
    await coupon(key, fixed('EURO5', 500, {}, 'EUR'));
    await coupon(key, pct('EUROMIN', '10', { minimumSubtotalMoney: { amount: 1000, currency: 'EUR' } }));
    const o = await order(key, [{ amount: 5000 }]);
    for (const code of ['EURO5', 'euromin']) {
      const r = await apply(key, o.id, code);
      expect(r.userErrors).toEqual([expect.objectContaining({ code: 'CURRENCY_MISMATCH', field: ['input', 'code'] })]);
      expect(r.userErrors[0]!.message).toContain('USD');
    }
    const eur = await order(key, [{ amount: 5000, currency: 'EUR' }], { couponCodes: ['EURO5'] });
    expect(eur.netAmounts.totalMoney).toEqual({ amount: 4500, currency: 'EUR' });
  });
});
