// Plays the agent: a real MCP client (the SDK's, over Streamable HTTP) is asked to "refund the coffee
// from Sarah's last order". It uses only what the tools and /SKILL.md return: no ids are hard-coded.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';

const api = useTestApi();

const SetupTax = graphql(`
  mutation McpSetupTax {
    addTaxRegistration(input: { jurisdiction: "US-CA" }) { userErrors { code } }
    setTaxRate(input: { jurisdiction: "US-CA", name: "California sales tax", rate: "0.0725" }) { userErrors { code } }
  }
`);

async function connect(key: string | null): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${api.url}/mcp`), {
    requestInit: key ? { headers: { authorization: `Bearer ${key}` } } : {},
  });
  const client = new Client({ name: 'flint-test-agent', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

type Structured = Record<string, any>;

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<{ isError: boolean; data: Structured; text: string }> {
  const result = (await client.callTool({ name, arguments: args })) as { isError?: boolean; structuredContent?: Structured; content: { type: string; text?: string }[] };
  return { isError: result.isError === true, data: result.structuredContent ?? {}, text: result.content.map((c) => c.text ?? '').join('\n') };
}

describe('MCP endpoint', () => {
  it('refuses a connection without an API key at the transport level (401)', async () => {
    const response = await fetch(`${api.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(401);
    await expect(connect(null)).rejects.toThrow();
  });

  it('lists honest tools: reads are read-only, refunds destructive and idempotent, money-moving tools require a key', async () => {
    const { key } = await api.signup();
    const client = await connect(key);
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of ['find_orders', 'get_order', 'create_order', 'apply_coupon', 'pay_order', 'preview_refund', 'create_refund', 'cancel_order', 'close_order']) {
      expect(byName.has(name), name).toBe(true);
      expect(byName.get(name)!.outputSchema, name).toBeDefined();
    }
    for (const name of ['find_orders', 'get_order', 'preview_refund']) expect(byName.get(name)!.annotations?.readOnlyHint).toBe(true);
    expect(byName.get('create_refund')!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: true });
    for (const name of ['create_order', 'apply_coupon', 'pay_order', 'create_refund', 'cancel_order', 'close_order']) {
      expect((byName.get(name)!.inputSchema as { required?: string[] }).required, name).toContain('idempotencyKey');
    }
    await client.close();
  });

  it("refunds the coffee from Sarah's last order, once, however often the agent retries", async () => {
    const { key } = await api.signup({ originAddress: { country: 'US', region: 'CA' } });
    await api.exec(SetupTax, {}, key);
    const client = await connect(key);

    // The shop's side: Sarah orders 2 coffees and a mug and pays by card.
    const created = await call(client, 'create_order', {
      buyerEmail: 'sarah@example.com',
      lineItems: [
        { name: 'Organic Coffee Beans', sku: 'COFFEE-1', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } },
        { name: 'Ceramic Pour-Over Mug', quantity: 1, unitPriceMoney: { amount: 2400, currency: 'USD' } },
      ],
      idempotencyKey: randomUUID(),
    });
    expect(created.isError, created.text).toBe(false);
    const paid = await call(client, 'pay_order', { orderId: created.data.order.id, paymentSourceTokens: ['tok_visa'], idempotencyKey: randomUUID() });
    expect(paid.isError, paid.text).toBe(false);
    expect(paid.data.order.status).toBe('PAID');

    // The agent's side, from SKILL.md and tool results only.
    const skill = await (await fetch(`${api.url}/SKILL.md`)).text();
    expect(skill).toContain('refundPreview');

    const found = await call(client, 'find_orders', { buyerEmail: 'SARAH@example.com', first: 1 });
    expect(found.isError).toBe(false);
    const order = found.data.orders[0];
    expect(order.status).toBe('PAID');
    const coffee = order.lineItems.find((l: Structured) => /coffee/i.test(l.name));
    const payment = order.paymentIntents.find((p: Structured) => p.status === 'SUCCEEDED');
    expect(coffee.refundableQuantity).toBe(2);

    const preview = await call(client, 'preview_refund', { paymentIntentId: payment.id, lineItems: [{ lineItemId: coffee.id, quantity: 1 }] });
    expect(preview.isError, preview.text).toBe(false);
    expect(preview.data.resultingStatus).toBe('PARTIALLY_REFUNDED');
    const amount = preview.data.amountMoney.amount as number;
    expect(amount).toBeGreaterThan(1999); // the coffee plus its share of the tax

    const idempotencyKey = randomUUID();
    const refundArgs = { paymentIntentId: payment.id, lineItems: [{ lineItemId: coffee.id, quantity: 1 }], reason: 'REFUND_REASON_REQUESTED_BY_CUSTOMER', idempotencyKey };
    const refunded = await call(client, 'create_refund', refundArgs);
    expect(refunded.isError, refunded.text).toBe(false);
    expect(refunded.data.refund.amountMoney.amount).toBe(amount);
    const retried = await call(client, 'create_refund', refundArgs);
    expect(retried.isError, retried.text).toBe(false);
    expect(retried.data.refund.id).toBe(refunded.data.refund.id);

    const after = await call(client, 'get_order', { orderId: order.id });
    expect(after.data.order.status).toBe('PARTIALLY_REFUNDED');
    expect(after.data.order.netAmounts.refundedMoney.amount).toBe(amount);
    const refunds = await api.db.refund.count({ where: { orderId: order.id } });
    expect(refunds).toBe(1);

    // Asking for more than is left is an isError result with the code and the remedy.
    const tooMuch = await call(client, 'create_refund', { ...refundArgs, lineItems: [{ lineItemId: coffee.id, quantity: 5 }], idempotencyKey: randomUUID() });
    expect(tooMuch.isError).toBe(true);
    expect(tooMuch.text).toMatch(/^REFUND_EXCEEDS_REFUNDABLE: /);
    expect(tooMuch.data.userErrors[0].code).toBe('REFUND_EXCEEDS_REFUNDABLE');
    await client.close();
  });

  it('never shows another merchant an order', async () => {
    const a = await api.signup();
    const b = await api.signup();
    const clientA = await connect(a.key);
    const created = await call(clientA, 'create_order', {
      buyerEmail: 'private@example.com',
      lineItems: [{ name: 'Tea', quantity: 1, unitPriceMoney: { amount: 500, currency: 'USD' } }],
      idempotencyKey: randomUUID(),
    });
    const clientB = await connect(b.key);
    expect((await call(clientB, 'find_orders', { buyerEmail: 'private@example.com' })).data.orders).toEqual([]);
    const got = await call(clientB, 'get_order', { orderId: created.data.order.id });
    expect(got.isError).toBe(true);
    expect(got.data.userErrors[0].code).toBe('NOT_FOUND');
    await clientA.close();
    await clientB.close();
  });
});
