// Receipts delivered by SMTP to a real SMTP server running in this process (the smtp-server package):
// the message received (recipient, subject, items, discounts, tax, total, paid, text and HTML),
// receiptSentAt, retries with backoff after a temporary refusal, no retry after a permanent one, and at
// most one delivery per receipt however many workers run.
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { deliverOutbox } from '../../src/payments/receipts.js';
import { smtpMailer } from '../../src/kernel/mailer.js';
import { createPrisma } from '../../src/db/prisma.js';
import { testDatabaseUrl } from '../support/db.js';
import { until } from '../support/until.js';
import { systemClock, type Deps } from '../../src/kernel/context.js';
import type { Mailer } from '../../src/kernel/mailer.js';

interface Received {
  to: string[];
  raw: string;
}

const received: Received[] = [];
/** What the server answers to the next messages for a recipient (other test files' receipts may arrive too). */
const refusals = new Map<string, number[]>();
let smtp: SMTPServer;
let port = 0;

/** The mailer the server under test uses; pointed at the SMTP server once it listens. */
const lateMailer: Mailer & { inner: Mailer | null } = {
  inner: null,
  send(message) {
    if (!this.inner) throw new Error('SMTP not started');
    return this.inner.send(message);
  },
};

const api = useTestApi({ deps: { mailer: lateMailer, outboxBackoffMs: 50 } });

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        const refusal = to.map((address) => refusals.get(address)?.shift()).find((r) => r !== undefined) ?? null;
        if (refusal !== null) {
          const error = Object.assign(new Error(refusal >= 500 ? 'Mailbox unavailable' : 'Try again later'), { responseCode: refusal });
          return callback(error);
        }
        received.push({ to, raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  port = (smtp.server.address() as { port: number }).port;
  lateMailer.inner = smtpMailer(`smtp://127.0.0.1:${port}`);
});
afterAll(() => new Promise<void>((resolve) => smtp.close(() => resolve())));

const Setup = graphql(`
  mutation ReceiptsSetup {
    addTaxRegistration(input: { jurisdiction: "US-CA" }) { userErrors { code } }
    setTaxRate(input: { jurisdiction: "US-CA", name: "California sales tax", rate: "0.0725" }) { userErrors { code } }
    createCoupon(input: { code: "TENOFF", type: PERCENTAGE, percentOff: "10", stackable: true }) { userErrors { code message } }
  }
`);

const CreateOrder = graphql(`
  mutation ReceiptsCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id netAmounts { totalMoney { amount } discountMoney { amount } taxMoney { amount } } } userErrors { code message } }
  }
`);

const PayOrder = graphql(`
  mutation ReceiptsPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) { paymentIntent { id receiptEmail receiptSentAt } userErrors { code } }
  }
`);

const GetIntent = graphql(`
  query ReceiptsGetIntent($id: ID!) {
    paymentIntent(id: $id) { receiptEmail receiptSentAt }
  }
`);

/** Decodes a quoted-printable MIME body part into text. */
function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined[i] === '=' ? /^[0-9A-F]{2}/.exec(joined.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(Number.parseInt(hex[0], 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}


async function paidOrder(email: string, options: { coupon?: boolean } = {}) {
  const { key } = await api.signup({ name: 'Bean There', originAddress: { country: 'US', region: 'CA' } });
  const setup = await api.exec(Setup, {}, key);
  expect(setup.createCoupon.userErrors).toEqual([]);
  const created = await api.exec(
    CreateOrder,
    {
      input: {
        buyerEmail: email,
        couponCodes: options.coupon ? ['TENOFF'] : [],
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
  const paid = await api.exec(PayOrder, { input: { orderId: order.id, paymentSourceTokens: ['tok_visa'] } }, key);
  expect(paid.payOrder.userErrors).toEqual([]);
  return { key, order, intent: paid.payOrder.paymentIntent! };
}

describe('receipts by SMTP', () => {
  it('sends the receipt after the payment commits: items, discount, tax, total, paid, as text and HTML', async () => {
    const { key, order, intent } = await paidOrder('sarah.receipts@example.com', { coupon: true });
    // 6398 - 10 % (640) = 5758; tax 7.25 % of 5758 = 417.455 → 417; total 6175.
    expect(order.netAmounts).toEqual({ totalMoney: { amount: 6175 }, discountMoney: { amount: 640 }, taxMoney: { amount: 417 } });
    const message = await until('the receipt', () => received.find((m) => m.to.includes('sarah.receipts@example.com')));
    expect(message.to).toEqual(['sarah.receipts@example.com']);
    expect(message.raw).toMatch(/^To: sarah\.receipts@example\.com/m);
    expect(message.raw).toMatch(/^From: Flint receipts <receipts@flint\.local>/m);
    expect(message.raw).toMatch(new RegExp(`^Subject: Your receipt from Bean There: 61\\.75 USD paid \\(order\\s+${order.id}\\)`, 'm'));
    expect(message.raw).toContain('Content-Type: text/plain');
    expect(message.raw).toContain('Content-Type: text/html');
    const body = decodeQuotedPrintable(message.raw);
    expect(body).toContain('Organic Coffee Beans × 2');
    expect(body).toContain('Ceramic Pour-Over Mug × 1');
    expect(body).toMatch(/Subtotal\s+63\.98 USD/);
    expect(body).toMatch(/Discount TENOFF\s+-6\.40 USD/);
    expect(body).toMatch(/California sales tax 7\.25 %\s+4\.17 USD/);
    expect(body).toMatch(/Total\s+61\.75 USD/);
    expect(body).toMatch(/Paid\s+61\.75 USD/);
    expect(body).toMatch(/Balance due\s+0\.00 USD/);
    expect(body).toContain('<strong>Total</strong>');
    expect(body).toContain(intent.id);

    const read = await until('receiptSentAt', async () => {
      const r = (await api.exec(GetIntent, { id: intent.id }, key)).paymentIntent!;
      return r.receiptSentAt ? r : null;
    });
    expect(read.receiptEmail).toBe('sarah.receipts@example.com');
    expect(new Date(read.receiptSentAt!).getTime()).toBeGreaterThan(0);
    const outbox = await api.db.outboxMessage.findFirstOrThrow({ where: { refId: (await api.db.receipt.findUniqueOrThrow({ where: { paymentIntentId: intent.id } })).id } });
    expect(outbox).toMatchObject({ status: 'SENT', attempts: 1 });
  });

  it('retries with backoff after a temporary refusal (451) and delivers exactly once', async () => {
    refusals.set('retry.receipts@example.com', [451, 451]);
    const { key, intent } = await paidOrder('retry.receipts@example.com');
    await until('receiptSentAt after retries', async () => (await api.exec(GetIntent, { id: intent.id }, key)).paymentIntent!.receiptSentAt);
    expect(received.filter((m) => m.to.includes('retry.receipts@example.com'))).toHaveLength(1);
    const receipt = await api.db.receipt.findUniqueOrThrow({ where: { paymentIntentId: intent.id } });
    const outbox = await api.db.outboxMessage.findFirstOrThrow({ where: { refId: receipt.id } });
    expect(outbox).toMatchObject({ status: 'SENT', attempts: 3 });
    expect(outbox.lastError).toBeNull();
  });

  it('a permanent refusal (550) ends the message FAILED, without retrying; receiptSentAt stays null', async () => {
    refusals.set('bounce.receipts@example.com', [550]);
    const { key, intent } = await paidOrder('bounce.receipts@example.com');
    const receipt = await api.db.receipt.findUniqueOrThrow({ where: { paymentIntentId: intent.id } });
    const outbox = await until('the failure', async () => {
      const m = await api.db.outboxMessage.findFirstOrThrow({ where: { refId: receipt.id } });
      return m.status === 'FAILED' ? m : null;
    });
    expect(outbox.attempts).toBe(1);
    expect(outbox.lastError).toContain('Mailbox unavailable');
    expect(received.filter((m) => m.to.includes('bounce.receipts@example.com'))).toHaveLength(0);
    expect((await api.exec(GetIntent, { id: intent.id }, key)).paymentIntent!.receiptSentAt).toBeNull();
  });

  it('at most once per receipt: many workers racing over the same outbox send each message once', async () => {
    // Payments made while no mailer is configured wait in the outbox, PENDING.
    const db = createPrisma(testDatabaseUrl());
    try {
      const quiet: Deps = { db, clock: systemClock };
      const before = received.length;
      const saved = lateMailer.send;
      lateMailer.send = () => Promise.reject(Object.assign(new Error('offline'), { code: 'ECONNREFUSED' }));
      const { intent } = await paidOrder('race.receipts@example.com');
      const receipt = await db.receipt.findUniqueOrThrow({ where: { paymentIntentId: intent.id } });
      await until('the retry to be scheduled', async () => {
        const m = await db.outboxMessage.findFirstOrThrow({ where: { refId: receipt.id } });
        return m.status === 'PENDING' && m.attempts >= 1;
      });
      // Hold it back while the mailer comes back, then make it due for every worker at once.
      await db.outboxMessage.updateMany({ where: { refId: receipt.id }, data: { nextAttemptAt: new Date(Date.now() + 3_600_000) } });
      lateMailer.send = saved;
      await db.outboxMessage.updateMany({ where: { refId: receipt.id }, data: { nextAttemptAt: new Date(0) } });
      const workers = { ...quiet, mailer: lateMailer };
      await Promise.all(Array.from({ length: 8 }, () => deliverOutbox(workers)));
      await until('delivery', () => received.some((m) => m.to.includes('race.receipts@example.com')));
      await new Promise((r) => setTimeout(r, 300));
      expect(received.filter((m) => m.to.includes('race.receipts@example.com'))).toHaveLength(1);
      expect(received.length).toBeGreaterThan(before);
      const message = await db.outboxMessage.findFirstOrThrow({ where: { refId: receipt.id } });
      expect(message.status).toBe('SENT');
      // A message claimed by a worker that died mid-send (SENDING) is never sent again.
      await db.outboxMessage.update({ where: { id: message.id }, data: { status: 'SENDING' } });
      await deliverOutbox(workers);
      expect(received.filter((m) => m.to.includes('race.receipts@example.com'))).toHaveLength(1);
    } finally {
      await db.$disconnect();
    }
  });
});
