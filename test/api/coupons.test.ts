// Coupons through the public GraphQL API: createCoupon (validation, case-insensitive unique codes),
// coupon/coupons/node, deactivateCoupon, applyCoupon/removeCoupon and createOrder(couponCodes) with the
// worked examples of pricing.md §4 (Shopify's 350 → 297, percentage before fixed, SKU-scoped first,
// a fixed coupon stopping at zero, 299 over 4300/1400/2300 → [161, 52, 86]), tax on discounted
// amounts, stacking refusals both ways, expiry and startsAt under a test clock, minimum subtotal
// (refused at apply, kept but idle when lines change), usage limits, every error code, activity.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { systemClock, type Clock, type Scope } from '../../src/kernel/context.js';
import { redeemCoupons } from '../../src/coupons/apply.js';

/** Real time unless a test pins it. */
let pinnedNow: Date | null = null;
const clock: Clock = { now: () => pinnedNow ?? new Date() };
const api = useTestApi({ clock });

const CouponFields = graphql(`
  fragment CouponsCouponFields on Coupon {
    id
    code
    name
    type
    percentOff
    amountOffMoney { amount currency }
    stackable
    priority
    appliesToSkus
    minimumSubtotalMoney { amount currency }
    maxRedemptions
    maxRedemptionsPerCustomer
    timesRedeemed
    startsAt
    expiresAt
    active
    createdAt
  }
`);
void CouponFields;

const OrderFields = graphql(`
  fragment CouponsOrderFields on Order {
    id
    status
    version
    currency
    summary
    lineItems {
      id
      sku
      grossMoney { amount currency }
      discountMoney { amount currency }
      discounts { code amountMoney { amount currency } }
      taxMoney { amount }
      totalMoney { amount }
    }
    discounts { couponId code name type amountMoney { amount currency } }
    netAmounts {
      subtotalMoney { amount currency }
      discountMoney { amount currency }
      taxMoney { amount }
      totalMoney { amount currency }
      balanceMoney { amount }
    }
    availableActions { action mutation description }
    activity { type idempotencyKey delta }
  }
`);
void OrderFields;

const CreateCoupon = graphql(`
  mutation CouponsCreateCoupon($input: CreateCouponInput!) {
    createCoupon(input: $input) {
      coupon { ...CouponsCouponFields }
      userErrors { code message field }
    }
  }
`);

const DeactivateCoupon = graphql(`
  mutation CouponsDeactivate($input: DeactivateCouponInput!) {
    deactivateCoupon(input: $input) {
      coupon { ...CouponsCouponFields }
      userErrors { code message field }
    }
  }
`);

const GetCoupon = graphql(`
  query CouponsGet($code: String!) {
    coupon(code: $code) { ...CouponsCouponFields }
  }
`);

const ListCoupons = graphql(`
  query CouponsList {
    coupons { id code active }
  }
`);

const NodeCoupon = graphql(`
  query CouponsNode($id: ID!) {
    node(id: $id) { id ... on Coupon { code } }
  }
`);

const CreateOrder = graphql(`
  mutation CouponsCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { ...CouponsOrderFields }
      userErrors { code message field }
    }
  }
`);

const ApplyCoupon = graphql(`
  mutation CouponsApply($input: ApplyCouponInput!) {
    applyCoupon(input: $input) {
      order { ...CouponsOrderFields }
      userErrors { code message field }
    }
  }
`);

const RemoveCoupon = graphql(`
  mutation CouponsRemove($input: RemoveCouponInput!) {
    removeCoupon(input: $input) {
      order { ...CouponsOrderFields }
      userErrors { code message field }
    }
  }
`);

const UpdateLine = graphql(`
  mutation CouponsUpdateLine($input: UpdateLineItemInput!) {
    updateLineItem(input: $input) {
      order { ...CouponsOrderFields }
      userErrors { code message field }
    }
  }
`);

const RemoveLine = graphql(`
  mutation CouponsRemoveLine($input: RemoveLineItemInput!) {
    removeLineItem(input: $input) {
      order { ...CouponsOrderFields }
      userErrors { code message field }
    }
  }
`);

const CancelOrder = graphql(`
  mutation CouponsCancel($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { id status }
      userErrors { code message field }
    }
  }
`);

const GetOrder = graphql(`
  query CouponsGetOrder($id: ID!) {
    order(id: $id) { ...CouponsOrderFields }
  }
`);

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

// --- helpers ---------------------------------------------------------------------------------------

type CouponSpec = Record<string, unknown> & { code: string };

async function coupon(key: string, spec: CouponSpec) {
  const input = { type: 'PERCENTAGE', ...spec } as Record<string, unknown>;
  const data = await api.exec(CreateCoupon, { input: input as never }, key);
  expect(data.createCoupon.userErrors).toEqual([]);
  return data.createCoupon.coupon!;
}

const pct = (code: string, percentOff: string, extra: Record<string, unknown> = {}) => ({ code, type: 'PERCENTAGE', percentOff, ...extra });
const fixed = (code: string, amount: number, extra: Record<string, unknown> = {}, currency = 'USD') => ({
  code,
  type: 'FIXED_AMOUNT',
  amountOffMoney: { amount, currency },
  ...extra,
});

async function createCouponErrors(key: string, input: Record<string, unknown>) {
  const data = await api.exec(CreateCoupon, { input: { type: 'PERCENTAGE', ...input } as never }, key);
  expect(data.createCoupon.coupon).toBeNull();
  return data.createCoupon.userErrors;
}

type LineSpec = { amount: number; quantity?: number; sku?: string; name?: string; currency?: string };
const lineInput = (l: LineSpec, i: number) => ({
  name: l.name ?? `Line ${i + 1}`,
  quantity: l.quantity ?? 1,
  unitPriceMoney: { amount: l.amount, currency: l.currency ?? 'USD' },
  ...(l.sku ? { sku: l.sku } : {}),
});

async function order(key: string, lines: LineSpec[], extra: Record<string, unknown> = {}) {
  const data = await api.exec(CreateOrder, { input: { lineItems: lines.map(lineInput), ...extra } as never }, key);
  expect(data.createOrder.userErrors).toEqual([]);
  return data.createOrder.order!;
}

async function apply(key: string, orderId: string, code: string, extra: Record<string, unknown> = {}) {
  const data = await api.exec(ApplyCoupon, { input: { orderId, code, ...extra } }, key);
  return data.applyCoupon;
}

async function applyOk(key: string, orderId: string, code: string) {
  const r = await apply(key, orderId, code);
  expect(r.userErrors).toEqual([]);
  return r.order!;
}

async function remove(key: string, orderId: string, code: string, extra: Record<string, unknown> = {}) {
  const data = await api.exec(RemoveCoupon, { input: { orderId, code, ...extra } }, key);
  return data.removeCoupon;
}

function scopeOf(merchantId: string): Scope {
  return { deps: { db: api.db, clock: systemClock }, merchantId, livemode: false, actor: { type: 'SYSTEM', id: null, name: 'test' } };
}

/** The redemption step the payments feature runs in the write that reserves its payment. */
async function redeem(merchantId: string, orderId: string, at = new Date()) {
  return redeemCoupons(scopeOf(merchantId), orderId, at);
}

const amounts = (o: { lineItems: { discountMoney: { amount: number } }[] }) => o.lineItems.map((l) => l.discountMoney.amount);
type Delta = { before: Record<string, unknown> | null; after: Record<string, unknown> | null };
const net = (side: Record<string, unknown> | null | undefined) => side?.netAmounts as { subtotal: number; discount: number; total: number } | undefined;

// --- createCoupon, coupon, coupons, node ----------------------------------------------------------

describe('createCoupon', () => {
  it('creates percentage and fixed-amount coupons with defaults, readable by code (any case), list and node', async () => {
    const { key, merchantId } = await api.signup();
    const p = await coupon(key, pct('Save10', '10'));
    expect(p).toMatchObject({
      code: 'Save10',
      name: 'Save10',
      type: 'PERCENTAGE',
      percentOff: '10',
      amountOffMoney: null,
      stackable: false,
      priority: 0,
      appliesToSkus: [],
      minimumSubtotalMoney: null,
      maxRedemptions: null,
      maxRedemptionsPerCustomer: null,
      timesRedeemed: 0,
      startsAt: null,
      expiresAt: null,
      active: true,
    });
    expect(p.id).toMatch(/^cpn_/);
    const f = await coupon(key, {
      ...fixed('FIVE_OFF', 500),
      name: 'Five off shirts',
      stackable: true,
      priority: 3,
      appliesToSkus: ['SHIRT', ' SHIRT ', 'HAT'],
      minimumSubtotalMoney: { amount: 2000, currency: 'USD' },
      maxRedemptions: 100,
      maxRedemptionsPerCustomer: 1,
      startsAt: '2020-01-01T00:00:00.000Z',
      expiresAt: '2999-01-01T00:00:00.000Z',
    });
    expect(f).toMatchObject({
      code: 'FIVE_OFF',
      name: 'Five off shirts',
      type: 'FIXED_AMOUNT',
      percentOff: null,
      amountOffMoney: { amount: 500, currency: 'USD' },
      stackable: true,
      priority: 3,
      appliesToSkus: ['SHIRT', 'HAT'],
      minimumSubtotalMoney: { amount: 2000, currency: 'USD' },
      maxRedemptions: 100,
      maxRedemptionsPerCustomer: 1,
      startsAt: '2020-01-01T00:00:00.000Z',
      expiresAt: '2999-01-01T00:00:00.000Z',
    });

    expect((await api.exec(GetCoupon, { code: 'sAvE10' }, key)).coupon?.id).toBe(p.id);
    expect((await api.exec(GetCoupon, { code: 'five_off' }, key)).coupon?.id).toBe(f.id);
    expect((await api.exec(GetCoupon, { code: 'NOPE' }, key)).coupon).toBeNull();
    expect((await api.exec(ListCoupons, {}, key)).coupons.map((c) => c.code)).toEqual(['FIVE_OFF', 'Save10']);
    expect((await api.exec(NodeCoupon, { id: p.id }, key)).node).toEqual({ id: p.id, code: 'Save10' });

    const created = await api.db.activity.findMany({ where: { merchantId, type: 'coupon.created' }, orderBy: { id: 'asc' } });
    expect(created.map((a) => (a.delta as Delta).after?.code)).toEqual(['Save10', 'FIVE_OFF']);
    expect(created.every((a) => a.orderId === null && (a.delta as Delta).before === null)).toBe(true);
  });

  it('codes are unique per merchant case-insensitively; another merchant or mode can reuse them and cannot see them', async () => {
    const a = await api.signup();
    const b = await api.signup();
    const mine = await coupon(a.key, pct('WELCOME', '5'));
    const dup = await createCouponErrors(a.key, pct('welcome', '7'));
    expect(dup).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'code'] })]);
    expect(dup[0]!.message).toContain('already exists');
    // Another merchant: its own WELCOME, and mine is invisible.
    const theirs = await coupon(b.key, pct('Welcome', '50'));
    expect((await api.exec(GetCoupon, { code: 'welcome' }, b.key)).coupon?.id).toBe(theirs.id);
    expect((await api.exec(NodeCoupon, { id: mine.id }, b.key)).node).toBeNull();
    expect((await api.exec(ListCoupons, {}, b.key)).coupons.map((c) => c.id)).toEqual([theirs.id]);
    const o = await order(b.key, [{ amount: 1000 }]);
    const applied = await applyOk(b.key, o.id, 'WELCOME');
    expect(applied.discounts.map((d) => d.couponId)).toEqual([theirs.id]);
  });

  it('refuses invalid coupons field by field and writes nothing', async () => {
    const { key, merchantId } = await api.signup();
    const cases: [Record<string, unknown>, string, string[]][] = [
      [pct('', '10'), 'INVALID_INPUT', ['input', 'code']],
      [pct('HAS SPACE', '10'), 'INVALID_INPUT', ['input', 'code']],
      [pct('X'.repeat(65), '10'), 'INVALID_INPUT', ['input', 'code']],
      [pct('ÄPFEL', '10'), 'INVALID_INPUT', ['input', 'code']],
      [{ code: 'P1', type: 'PERCENTAGE' }, 'INVALID_INPUT', ['input', 'percentOff']],
      [pct('P2', '0'), 'INVALID_INPUT', ['input', 'percentOff']],
      [pct('P3', '100.01'), 'INVALID_INPUT', ['input', 'percentOff']],
      [pct('P4', '-5'), 'INVALID_INPUT', ['input', 'percentOff']],
      [pct('P5', '1e1'), 'INVALID_INPUT', ['input', 'percentOff']],
      [{ ...pct('P6', '10'), amountOffMoney: { amount: 5, currency: 'USD' } }, 'INVALID_INPUT', ['input', 'amountOffMoney']],
      [{ code: 'F1', type: 'FIXED_AMOUNT' }, 'INVALID_INPUT', ['input', 'amountOffMoney']],
      [fixed('F2', 0), 'INVALID_INPUT', ['input', 'amountOffMoney', 'amount']],
      [fixed('F3', -100), 'INVALID_INPUT', ['input', 'amountOffMoney', 'amount']],
      [fixed('F4', 100, {}, 'XYZ'), 'INVALID_INPUT', ['input', 'amountOffMoney', 'currency']],
      [{ ...fixed('F5', 100), percentOff: '10' }, 'INVALID_INPUT', ['input', 'percentOff']],
      [fixed('F6', 100, { minimumSubtotalMoney: { amount: 1000, currency: 'EUR' } }), 'CURRENCY_MISMATCH', ['input', 'minimumSubtotalMoney', 'currency']],
      [pct('M1', '10', { minimumSubtotalMoney: { amount: -1, currency: 'USD' } }), 'INVALID_INPUT', ['input', 'minimumSubtotalMoney', 'amount']],
      [pct('L1', '10', { maxRedemptions: 0 }), 'INVALID_INPUT', ['input', 'maxRedemptions']],
      [pct('L2', '10', { maxRedemptionsPerCustomer: -1 }), 'INVALID_INPUT', ['input', 'maxRedemptionsPerCustomer']],
      [pct('T1', '10', { expiresAt: '2001-01-01T00:00:00Z' }), 'INVALID_INPUT', ['input', 'expiresAt']],
      [pct('T2', '10', { startsAt: '2999-06-01T00:00:00Z', expiresAt: '2999-01-01T00:00:00Z' }), 'INVALID_INPUT', ['input', 'startsAt']],
      [pct('S1', '10', { appliesToSkus: ['  '] }), 'INVALID_INPUT', ['input', 'appliesToSkus', '0']],
      [pct('N1', '10', { name: 'n'.repeat(201) }), 'INVALID_INPUT', ['input', 'name']],
    ];
    for (const [input, code, field] of cases) {
      const errors = await createCouponErrors(key, input);
      expect(errors, JSON.stringify(input)).toEqual([expect.objectContaining({ code, field })]);
      expect(errors[0]!.message.length).toBeGreaterThan(20);
    }
    expect(await api.db.coupon.count({ where: { merchantId } })).toBe(0);
    expect(await api.db.activity.count({ where: { merchantId, type: 'coupon.created' } })).toBe(0);
  });

  it('replays createCoupon with the same idempotency key without creating a second coupon', async () => {
    const { key, merchantId } = await api.signup();
    const input = { ...pct('ONCE', '10'), idempotencyKey: 'coupon-once' };
    const first = await api.exec(CreateCoupon, { input: input as never }, key);
    const second = await api.exec(CreateCoupon, { input: input as never }, key);
    expect(second.createCoupon.coupon?.id).toBe(first.createCoupon.coupon?.id);
    expect(await api.db.coupon.count({ where: { merchantId } })).toBe(1);
    const reused = await api.exec(CreateCoupon, { input: { ...input, percentOff: '20' } as never }, key);
    expect(reused.createCoupon.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });
});

// --- deactivateCoupon -------------------------------------------------------------------------------

describe('deactivateCoupon', () => {
  it('deactivates once (activity once), refuses new applications, keeps attached ones priced and removable', async () => {
    const { key, merchantId } = await api.signup();
    await coupon(key, pct('GONE', '10', { stackable: true }));
    const o = await order(key, [{ amount: 1000 }], { couponCodes: ['gone'] });
    expect(o.netAmounts.discountMoney.amount).toBe(100);

    const d = await api.exec(DeactivateCoupon, { input: { code: 'Gone' } }, key);
    expect(d.deactivateCoupon.userErrors).toEqual([]);
    expect(d.deactivateCoupon.coupon).toMatchObject({ code: 'GONE', active: false });
    const again = await api.exec(DeactivateCoupon, { input: { code: 'GONE' } }, key);
    expect(again.deactivateCoupon.coupon?.active).toBe(false);
    const acts = await api.db.activity.findMany({ where: { merchantId, type: 'coupon.deactivated' } });
    expect(acts).toHaveLength(1);
    expect(acts[0]!.delta).toMatchObject({ before: { active: true }, after: { active: false, code: 'GONE' } });
    expect((await api.exec(GetCoupon, { code: 'gone' }, key)).coupon?.active).toBe(false);

    const unknown = await api.exec(DeactivateCoupon, { input: { code: 'NEVER' } }, key);
    expect(unknown.deactivateCoupon.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_FOUND', field: ['input', 'code'] })]);

    // New orders cannot use it...
    const o2 = await order(key, [{ amount: 1000 }]);
    const refused = await apply(key, o2.id, 'GONE');
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_FOUND', field: ['input', 'code'] })]);
    expect(refused.userErrors[0]!.message).toContain('deactivated');
    const created = await api.exec(CreateOrder, { input: { lineItems: [lineInput({ amount: 1000 }, 0)], couponCodes: ['GONE'] } }, key);
    expect(created.createOrder.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_FOUND', field: ['input', 'couponCodes', '0'] })]);

    // ...the order that has it keeps its price, and the payment step refuses it until removed.
    expect((await api.exec(GetOrder, { id: o.id }, key)).order?.netAmounts.discountMoney.amount).toBe(100);
    const paid = await redeem(merchantId, o.id);
    expect(paid.ok).toBe(false);
    if (!paid.ok) expect(paid.errors.map((e) => e.code)).toEqual(['COUPON_NOT_FOUND']);
    const removed = await remove(key, o.id, 'gone');
    expect(removed.userErrors).toEqual([]);
    expect(removed.order?.discounts).toEqual([]);
    expect(removed.order?.netAmounts.totalMoney.amount).toBe(1000);
  });
});

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

// --- time, minimum, usage limits --------------------------------------------------------------------

describe('validity over time, minimum subtotal and usage limits', () => {
  it('startsAt and expiresAt with an injected clock: not yet active, active (startsAt inclusive), expired (expiresAt exclusive)', async () => {
    const { key } = await api.signup();
    const t0 = new Date('2031-03-01T12:00:00.000Z');
    const day = 24 * 60 * 60 * 1000;
    pinnedNow = t0;
    try {
      await coupon(key, pct('SPRING', '10', { startsAt: new Date(t0.getTime() + day).toISOString(), expiresAt: new Date(t0.getTime() + 2 * day).toISOString() }));
      const o = await order(key, [{ amount: 1000 }]);
      const early = await apply(key, o.id, 'spring');
      expect(early.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_YET_ACTIVE', field: ['input', 'code'] })]);
      expect(early.userErrors[0]!.message).toContain('2031-03-02T12:00:00.000Z');
      const created = await api.exec(CreateOrder, { input: { lineItems: [lineInput({ amount: 1000 }, 0)], couponCodes: ['SPRING'] } }, key);
      expect(created.createOrder.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_YET_ACTIVE', field: ['input', 'couponCodes', '0'] })]);

      pinnedNow = new Date(t0.getTime() + day);
      expect((await applyOk(key, o.id, 'SPRING')).netAmounts.discountMoney.amount).toBe(100);
      expect((await remove(key, o.id, 'SPRING')).userErrors).toEqual([]);

      pinnedNow = new Date(t0.getTime() + 2 * day - 1);
      expect((await applyOk(key, o.id, 'SPRING')).netAmounts.discountMoney.amount).toBe(100);
      expect((await remove(key, o.id, 'SPRING')).userErrors).toEqual([]);

      pinnedNow = new Date(t0.getTime() + 2 * day);
      const late = await apply(key, o.id, 'SPRING');
      expect(late.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_EXPIRED', field: ['input', 'code'] })]);
      expect(late.userErrors[0]!.message).toContain('2031-03-03T12:00:00.000Z');
      const createdLate = await api.exec(CreateOrder, { input: { lineItems: [lineInput({ amount: 1000 }, 0)], couponCodes: ['SPRING'] } }, key);
      expect(createdLate.createOrder.userErrors.map((e) => e.code)).toEqual(['COUPON_EXPIRED']);
    } finally {
      pinnedNow = null;
    }
  });

  it('minimum subtotal: refused when applied; once attached it stays when lines change, takes nothing and says so, then applies again', async () => {
    const { key } = await api.signup();
    await coupon(key, pct('SAVE10', '10', { minimumSubtotalMoney: { amount: 5000, currency: 'USD' } }));
    const small = await order(key, [{ amount: 3800 }]);
    const refused = await apply(key, small.id, 'save10');
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_MINIMUM_NOT_MET', field: ['input', 'code'] })]);
    expect(refused.userErrors[0]!.message).toContain('add 12.00 USD more to reach the 50.00 USD minimum');
    const createdSmall = await api.exec(CreateOrder, { input: { lineItems: [lineInput({ amount: 3800 }, 0)], couponCodes: ['SAVE10'] } }, key);
    expect(createdSmall.createOrder.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_MINIMUM_NOT_MET', field: ['input', 'couponCodes', '0'] })]);

    // Exactly the minimum qualifies.
    const o = await order(key, [{ amount: 3000 }, { amount: 2000 }], { couponCodes: ['SAVE10'] });
    expect(o.netAmounts.discountMoney.amount).toBe(500);
    expect(o.summary).not.toContain('needs');

    // Dropping below the minimum: still attached, takes nothing, the order says what is missing.
    const dropped = (await api.exec(RemoveLine, { input: { orderId: o.id, lineItemId: o.lineItems[1]!.id } }, key)).removeLineItem.order!;
    expect(dropped.discounts).toEqual([expect.objectContaining({ code: 'SAVE10', amountMoney: { amount: 0, currency: 'USD' } })]);
    expect(dropped.netAmounts.discountMoney.amount).toBe(0);
    expect(dropped.netAmounts.totalMoney.amount).toBe(3000);
    expect(dropped.summary).toContain('coupon SAVE10 needs 20.00 USD more');
    const add = dropped.availableActions.find((a) => a.action === 'ADD_LINE_ITEMS');
    expect(add?.description).toContain('coupon SAVE10 needs 20.00 USD more');
    expect(dropped.availableActions.map((a) => a.action)).toContain('REMOVE_COUPON');

    // Back above the minimum: it applies again by itself.
    const again = (await api.exec(UpdateLine, { input: { orderId: o.id, lineItemId: o.lineItems[0]!.id, quantity: 2 } }, key)).updateLineItem.order!;
    expect(again.discounts).toEqual([expect.objectContaining({ code: 'SAVE10', amountMoney: { amount: 600, currency: 'USD' } })]);
    expect(again.summary).not.toContain('needs');
    expect(again.availableActions.find((a) => a.action === 'ADD_LINE_ITEMS')?.description).not.toContain('needs');
  });

  it('usage limit: a coupon used up (and one used up by this customer) is COUPON_USAGE_LIMIT_REACHED', async () => {
    const { key, merchantId } = await api.signup();
    const once = await coupon(key, pct('ONCE', '10', { maxRedemptions: 1 }));
    const first = await order(key, [{ amount: 1000 }], { couponCodes: ['ONCE'] });
    // Before the first order is paid, others may still apply it (the count is taken at payment).
    const second = await order(key, [{ amount: 1000 }], { couponCodes: ['ONCE'] });
    expect((await redeem(merchantId, first.id)).ok).toBe(true);
    expect((await api.exec(GetCoupon, { code: 'once' }, key)).coupon?.timesRedeemed).toBe(1);
    const o = await order(key, [{ amount: 1000 }]);
    const r = await apply(key, o.id, 'once');
    expect(r.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_USAGE_LIMIT_REACHED', field: ['input', 'code'] })]);
    // The second order can no longer be paid with it.
    const late = await redeem(merchantId, second.id);
    expect(late.ok).toBe(false);
    if (!late.ok) expect(late.errors.map((e) => e.code)).toEqual(['COUPON_USAGE_LIMIT_REACHED']);
    expect((await api.db.coupon.findUniqueOrThrow({ where: { id: once.id } })).timesRedeemed).toBe(1);

    await coupon(key, pct('PERCUST', '10', { maxRedemptionsPerCustomer: 1 }));
    const sarah = await order(key, [{ amount: 1000 }], { buyerEmail: 'Sarah@Example.com', couponCodes: ['PERCUST'] });
    expect((await redeem(merchantId, sarah.id)).ok).toBe(true);
    const sarahAgain = await order(key, [{ amount: 1000 }], { buyerEmail: 'sarah@example.COM' });
    const refused = await apply(key, sarahAgain.id, 'PERCUST');
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_USAGE_LIMIT_REACHED' })]);
    expect(refused.userErrors[0]!.message).toContain('per customer');
    const bob = await order(key, [{ amount: 1000 }], { buyerEmail: 'bob@example.com' });
    expect((await apply(key, bob.id, 'PERCUST')).userErrors).toEqual([]);
    const byId = await order(key, [{ amount: 1000 }], { customerId: 'cus_42', buyerEmail: 'sarah@example.com' });
    expect((await apply(key, byId.id, 'PERCUST')).userErrors).toEqual([]); // the customerId is who the customer is
  });
});

// --- the order edit machinery: activity, version, idempotency, lifecycle ----------------------------

describe('applyCoupon and removeCoupon as order edits', () => {
  it('record coupon.applied and coupon.removed with the netAmounts delta, bump the version, offer REMOVE_COUPON', async () => {
    const { key } = await api.signup();
    const c = await coupon(key, fixed('TAKE5', 500, { stackable: true }));
    const o = await order(key, [{ amount: 2000 }]);
    expect(o.availableActions.map((a) => a.action)).toContain('APPLY_COUPON');
    expect(o.availableActions.map((a) => a.action)).not.toContain('REMOVE_COUPON');
    const x = await applyOk(key, o.id, 'take5');
    expect(x.version).toBe(o.version + 1);
    expect(x.availableActions.map((a) => a.action)).toEqual(expect.arrayContaining(['APPLY_COUPON', 'REMOVE_COUPON']));
    const applied = x.activity.filter((a) => a.type === 'coupon.applied');
    expect(applied).toHaveLength(1);
    const d = applied[0]!.delta as Delta;
    expect(net(d.before)).toMatchObject({ subtotal: 2000, discount: 0, total: 2000 });
    expect(net(d.after)).toMatchObject({ subtotal: 2000, discount: 500, total: 1500 });
    expect(d.after?.coupon).toMatchObject({ id: c.id, code: 'TAKE5', discount: 500 });

    const y = (await remove(key, o.id, 'TAKE5')).order!;
    expect(y.version).toBe(x.version + 1);
    const removed = y.activity.filter((a) => a.type === 'coupon.removed');
    expect(removed).toHaveLength(1);
    const rd = removed[0]!.delta as Delta;
    expect(net(rd.before)).toMatchObject({ discount: 500, total: 1500 });
    expect(net(rd.after)).toMatchObject({ discount: 0, total: 2000 });
    expect(rd.before?.coupon).toMatchObject({ code: 'TAKE5', discount: 500 });
    expect(y.availableActions.map((a) => a.action)).not.toContain('REMOVE_COUPON');

    // createOrder(couponCodes) records the coupons on order.created.
    const z = await order(key, [{ amount: 2000 }], { couponCodes: ['TAKE5'] });
    expect((z.activity.find((a) => a.type === 'order.created')!.delta as Delta).after?.coupons).toEqual(['TAKE5']);
  });

  it('honour expectedVersion and idempotency keys, and only while the order is OPEN', async () => {
    const { key } = await api.signup();
    await coupon(key, pct('V1', '10', { stackable: true }));
    await coupon(key, pct('V2', '20', { stackable: true }));
    const o = await order(key, [{ amount: 1000 }]);
    const stale = await apply(key, o.id, 'V1', { expectedVersion: o.version + 5 });
    expect(stale.userErrors).toEqual([expect.objectContaining({ code: 'VERSION_CONFLICT' })]);

    const once = await apply(key, o.id, 'V1', { expectedVersion: o.version, idempotencyKey: 'apply-v1' });
    expect(once.userErrors).toEqual([]);
    const replay = await apply(key, o.id, 'V1', { expectedVersion: o.version, idempotencyKey: 'apply-v1' });
    expect(replay.userErrors).toEqual([]);
    expect(replay.order?.version).toBe(once.order?.version);
    expect(replay.order?.activity.filter((a) => a.type === 'coupon.applied')).toHaveLength(1);

    const canceled = await api.exec(CancelOrder, { input: { orderId: o.id } }, key);
    expect(canceled.cancelOrder.userErrors).toEqual([]);
    expect((await apply(key, o.id, 'V2')).userErrors).toEqual([expect.objectContaining({ code: 'ORDER_NOT_EDITABLE' })]);
    expect((await remove(key, o.id, 'V1')).userErrors).toEqual([expect.objectContaining({ code: 'ORDER_NOT_EDITABLE' })]);

    // Another merchant's order reads as not found.
    const other = await api.signup();
    expect((await apply(other.key, o.id, 'V1')).userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'orderId'] })]);
  });

  it('applying the same coupon concurrently to one order attaches it once', async () => {
    const { key } = await api.signup();
    await coupon(key, pct('RACE', '10', { stackable: true }));
    const o = await order(key, [{ amount: 1000 }]);
    const results = await Promise.all(Array.from({ length: 8 }, () => apply(key, o.id, 'RACE')));
    expect(results.filter((r) => r.userErrors.length === 0)).toHaveLength(1);
    expect(results.filter((r) => r.userErrors[0]?.code === 'COUPON_ALREADY_APPLIED')).toHaveLength(7);
    const final = (await api.exec(GetOrder, { id: o.id }, key)).order!;
    expect(final.discounts).toHaveLength(1);
    expect(final.netAmounts.discountMoney.amount).toBe(100);
  });
});
