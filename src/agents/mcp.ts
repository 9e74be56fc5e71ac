// The MCP endpoint (/mcp): Streamable HTTP, stateless, authenticated by the same API key as GraphQL.
// Every tool runs a GraphQL operation of the public schema in-process with the caller's principal, so
// tools go through exactly the same use cases, validation, tenancy, idempotency and audit trail.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DocumentNode, ExecutionArgs, ExecutionResult, GraphQLError, GraphQLSchema } from 'graphql';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import type { GraphQLContext } from '../graphql/context.js';
import type { Deps, Principal } from '../kernel/context.js';
import { authenticate } from '../merchants/auth.js';
import { bodyOf } from '../http/limits.js';
import { collectCodes, requestInfo } from '../ops/request-info.js';

const MONEY = 'amount currency';
const ORDER_FIELDS = `
  id status currency customerId buyerEmail summary version createdAt
  netAmounts { subtotalMoney { ${MONEY} } discountMoney { ${MONEY} } taxMoney { ${MONEY} } totalMoney { ${MONEY} }
               paidMoney { ${MONEY} } refundedMoney { ${MONEY} } balanceMoney { ${MONEY} } }
  lineItems { id name sku quantity unitPriceMoney { ${MONEY} } totalMoney { ${MONEY} } taxMoney { ${MONEY} }
              refundedQuantity refundableQuantity refundableMoney { ${MONEY} } }
  discounts { code name amountMoney { ${MONEY} } }
  paymentIntents { id status amountMoney { ${MONEY} } refundableMoney { ${MONEY} } failureCode failureMessage }
  refundable { amountMoney { ${MONEY} } lineItems { lineItem { id name } quantity amountMoney { ${MONEY} } } }
  availableActions { action mutation description }`;
const USER_ERRORS = 'userErrors { code message field }';

const money = z.object({ amount: z.number().int(), currency: z.string() });
const userErrorSchema = z.object({ code: z.string(), message: z.string(), field: z.array(z.string()).nullable() });
const orderSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  currency: z.string(),
  summary: z.string(),
  version: z.number().int(),
  netAmounts: z.looseObject({ totalMoney: money, paidMoney: money, refundedMoney: money, balanceMoney: money }),
  lineItems: z.array(z.looseObject({ id: z.string(), name: z.string(), quantity: z.number().int(), refundableQuantity: z.number().int() })),
  availableActions: z.array(z.object({ action: z.string(), mutation: z.string(), description: z.string() })),
});
const moneyInput = z.object({
  amount: z.number().int().describe('Integer count of the minor unit: 1999 is 19.99 USD. Never a decimal.'),
  currency: z.string().describe('ISO 4217 code, e.g. "USD".'),
});
const idempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .describe('Required. A fresh unique key (e.g. a UUID) per operation; reuse the SAME key to retry it safely: the stored result comes back, nothing happens twice.');
const refundLines = z
  .array(z.object({ lineItemId: z.string().describe('li_... from the order'), quantity: z.number().int().positive() }))
  .describe('Whole units of line items to refund (give this OR amountMoney).');

interface ToolResult {
  [key: string]: unknown;
  content: { type: 'text'; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** How MCP runs operations: through yoga's envelop (limits, cost, strict arguments, rate limits, masking). */
export type McpEnvelop = (initialContext: Record<string, unknown>) => {
  parse: (source: string) => DocumentNode;
  validate: (schema: GraphQLSchema, document: DocumentNode) => readonly GraphQLError[];
  execute: (args: ExecutionArgs) => unknown;
  schema: GraphQLSchema;
};

interface McpCall {
  deps: Deps;
  principal: Principal;
  req: IncomingMessage | undefined;
  getEnveloped: McpEnvelop;
}

/** Runs one operation of the public schema as the caller, as the WebSocket path does. */
async function run(call: McpCall, source: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
  const contextValue: GraphQLContext & { req?: IncomingMessage } = { deps: call.deps, principal: call.principal, authProblem: null, req: call.req };
  const enveloped = call.getEnveloped({ req: call.req, params: { query: source, variables } });
  let document: DocumentNode;
  let problems: readonly GraphQLError[];
  try {
    document = enveloped.parse(source);
    problems = enveloped.validate(enveloped.schema, document);
  } catch (error) {
    // The document limits refuse by throwing (a tool's arguments can make its operation too large).
    throw new ToolInputError(error instanceof Error ? error.message : String(error));
  }
  if (problems.length > 0) throw new Error(`MCP operation does not match the schema: ${problems.map((p) => p.message).join('; ')}`);
  const result = (await enveloped.execute({ schema: enveloped.schema, document, variableValues: variables, contextValue })) as ExecutionResult;
  const info = requestInfo(call.req);
  if (info) collectCodes(info, result);
  if (result.errors?.length) {
    // GraphQL errors here are malformed input the zod schema let through (e.g. an out-of-range page size,
    // a NUL character) or a limit (rate, cost); unexpected errors arrive masked.
    const limited = result.errors.find((e) => e.extensions?.code === 'RATE_LIMITED');
    if (limited) throw new ToolRateLimited(limited.message);
    throw new ToolInputError(result.errors.map((e) => e.message).join('; '));
  }
  return result.data as Record<string, unknown>;
}

class ToolRateLimited extends Error {}
class ToolInputError extends Error {}

function reply(payload: Record<string, unknown>, text: string): ToolResult {
  const userErrors = (payload.userErrors as { code: string; message: string; field: string[] | null }[] | undefined) ?? [];
  if (userErrors.length > 0) {
    return {
      isError: true,
      content: [{ type: 'text', text: userErrors.map((e) => `${e.code}: ${e.message}${e.field ? ` (field ${e.field.join('.')})` : ''}`).join('\n') }],
      structuredContent: { userErrors },
    };
  }
  return { content: [{ type: 'text', text }], structuredContent: payload };
}

async function guarded(fn: () => Promise<ToolResult>): Promise<ToolResult> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ToolRateLimited) {
      return { isError: true, content: [{ type: 'text', text: `RATE_LIMITED: ${error.message}` }], structuredContent: { userErrors: [{ code: 'RATE_LIMITED', message: error.message, field: null }] } };
    }
    if (error instanceof ToolInputError) {
      return { isError: true, content: [{ type: 'text', text: `INVALID_INPUT: ${error.message}` }], structuredContent: { userErrors: [{ code: 'INVALID_INPUT', message: error.message, field: null }] } };
    }
    throw error;
  }
}

const orderOut = { order: orderSchema.nullable().optional(), userErrors: z.array(userErrorSchema).optional() };

export function createMcpServer(call: McpCall): McpServer {
  const server = new McpServer(
    { name: 'flint', version: '1.0.0' },
    {
      instructions:
        "Flint is an order-first payment API. Money is integer minor units. Read an order (get_order / find_orders) before acting: its availableActions say what is allowed, refundable says what can be refunded. Money-moving tools need an idempotencyKey; retry with the same key. To refund part of an order: find_orders → preview_refund → create_refund. Details: GET /SKILL.md.",
    },
  );

  server.registerTool(
    'find_orders',
    {
      title: 'Find orders',
      description: "Orders of the merchant, newest first, by buyer email, customer id or status. \"Sarah's last order\": buyerEmail + first 1.",
      inputSchema: {
        buyerEmail: z.string().optional().describe('Buyer email (case-insensitive).'),
        customerId: z.string().optional().describe('Your customer id.'),
        status: z.array(z.enum(['OPEN', 'PAID', 'PARTIALLY_REFUNDED', 'REFUNDED', 'CLOSED', 'CANCELED'])).optional(),
        first: z.number().int().min(1).max(50).optional().describe('How many (default 10).'),
      },
      outputSchema: { orders: z.array(orderSchema) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) =>
      guarded(async () => {
        const data = await run(call, `query ($filter: OrderFilter, $first: Int) { orders(filter: $filter, first: $first) { edges { node { ${ORDER_FIELDS} } } } }`, {
          filter: { buyerEmail: args.buyerEmail, customerId: args.customerId, status: args.status },
          first: args.first ?? 10,
        });
        const orders = (data.orders as { edges: { node: Record<string, unknown> }[] }).edges.map((e) => e.node);
        return reply({ orders }, orders.length === 0 ? 'No orders match.' : orders.map((o) => `${o.id} (${o.status}): ${o.summary}`).join('\n'));
      }),
  );

  server.registerTool(
    'get_order',
    {
      title: 'Get an order',
      description: 'One order with its lines, amounts, payments, what is refundable and the actions allowed now.',
      inputSchema: { orderId: z.string().describe('ord_...') },
      outputSchema: orderOut,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ orderId }) =>
      guarded(async () => {
        const data = await run(call, `query ($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`, { id: orderId });
        const order = data.order as Record<string, unknown> | null;
        if (!order) return reply({ userErrors: [{ code: 'NOT_FOUND', message: `No order ${orderId} for this API key. Use find_orders to look it up.`, field: ['orderId'] }] }, '');
        return reply({ order }, `${order.id} (${order.status}): ${order.summary}`);
      }),
  );

  server.registerTool(
    'create_order',
    {
      title: 'Create an order',
      description: 'Create an OPEN order; Flint computes discounts, tax and totals at once.',
      inputSchema: {
        lineItems: z.array(
          z.object({
            name: z.string(),
            quantity: z.number().int().positive(),
            unitPriceMoney: moneyInput,
            sku: z.string().optional(),
            taxCategory: z.string().optional().describe('Default "general"; e.g. "food".'),
          }),
        ),
        buyerEmail: z.string().optional(),
        customerId: z.string().optional(),
        shippingAddress: z.object({ country: z.string(), region: z.string().optional(), postalCode: z.string().optional(), city: z.string().optional(), line1: z.string().optional() }).optional(),
        couponCodes: z.array(z.string()).optional(),
        idempotencyKey,
      },
      outputSchema: orderOut,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) =>
      guarded(async () => {
        const data = await run(call, `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { order { ${ORDER_FIELDS} } ${USER_ERRORS} } }`, { input: args });
        const payload = data.createOrder as Record<string, unknown>;
        return reply(payload, `Created ${(payload.order as { id?: string } | null)?.id}: ${(payload.order as { summary?: string } | null)?.summary}`);
      }),
  );

  server.registerTool(
    'apply_coupon',
    {
      title: 'Apply a coupon',
      description: 'Apply a coupon code to an OPEN order; totals and tax are recomputed.',
      inputSchema: { orderId: z.string(), code: z.string(), idempotencyKey },
      outputSchema: orderOut,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) =>
      guarded(async () => {
        const data = await run(call, `mutation ($input: ApplyCouponInput!) { applyCoupon(input: $input) { order { ${ORDER_FIELDS} } ${USER_ERRORS} } }`, { input: args });
        const payload = data.applyCoupon as Record<string, unknown>;
        return reply(payload, `Applied ${args.code}: ${(payload.order as { summary?: string } | null)?.summary}`);
      }),
  );

  server.registerTool(
    'pay_order',
    {
      title: 'Pay an order',
      description: 'Charge the balance due with the first payment source token that succeeds. The amount comes from the order; it cannot be passed.',
      inputSchema: {
        orderId: z.string(),
        paymentSourceTokens: z.array(z.string()).min(1).describe('Processor tokens, tried in order (sandbox: tok_visa, ...).'),
        buyerEmail: z.string().optional().describe('Where the receipt goes.'),
        idempotencyKey,
      },
      outputSchema: { order: orderSchema.nullable().optional(), paymentIntent: z.looseObject({ id: z.string(), status: z.string() }).nullable().optional(), userErrors: z.array(userErrorSchema).optional() },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (args) =>
      guarded(async () => {
        const data = await run(call, `mutation ($input: PayOrderInput!) { payOrder(input: $input) { order { ${ORDER_FIELDS} } paymentIntent { id status amountMoney { ${MONEY} } failureCode failureMessage } ${USER_ERRORS} } }`,
          { input: args },
        );
        const payload = data.payOrder as Record<string, unknown>;
        return reply(payload, `Payment ${(payload.paymentIntent as { status?: string } | null)?.status ?? ''}: ${(payload.order as { summary?: string } | null)?.summary}`);
      }),
  );

  const refundInput = {
    paymentIntentId: z.string().describe('pi_... of a SUCCEEDED payment (order.paymentIntents).'),
    amountMoney: moneyInput.optional().describe('An amount to refund, tax included (give this OR lineItems).'),
    lineItems: refundLines.optional(),
  };
  const REFUND_LINES = `lineItems { lineItem { id name } quantity amountMoney { ${MONEY} } }`;

  server.registerTool(
    'preview_refund',
    {
      title: 'Preview a refund',
      description: 'What create_refund would do with the same input (amount, tax part, lines, resulting totals and status) — nothing is written.',
      inputSchema: refundInput,
      outputSchema: {
        amountMoney: money.nullable().optional(),
        taxMoney: money.nullable().optional(),
        lineItems: z.array(z.looseObject({ quantity: z.number().int() })).optional(),
        resultingStatus: z.string().nullable().optional(),
        resultingNetAmounts: z.looseObject({}).nullable().optional(),
        userErrors: z.array(userErrorSchema).optional(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) =>
      guarded(async () => {
        const data = await run(call, `query ($input: RefundPreviewInput!) { refundPreview(input: $input) { amountMoney { ${MONEY} } taxMoney { ${MONEY} } ${REFUND_LINES}
             resultingStatus resultingNetAmounts { totalMoney { ${MONEY} } refundedMoney { ${MONEY} } balanceMoney { ${MONEY} } } ${USER_ERRORS} } }`,
          { input: args },
        );
        const preview = data.refundPreview as { amountMoney?: { amount: number; currency: string } | null; taxMoney?: { amount: number } | null; resultingStatus?: string | null };
        return reply(
          preview as Record<string, unknown>,
          `Would refund ${preview.amountMoney?.amount} ${preview.amountMoney?.currency} (tax ${preview.taxMoney?.amount}); the order would be ${preview.resultingStatus}.`,
        );
      }),
  );

  server.registerTool(
    'create_refund',
    {
      title: 'Refund',
      description: 'Refund a payment by whole line-item units or by an amount (tax split proportionally). Moves money: preview first, always pass an idempotencyKey and reuse it on retry.',
      inputSchema: {
        ...refundInput,
        reason: z.enum(['REFUND_REASON_REQUESTED_BY_CUSTOMER', 'REFUND_REASON_DUPLICATE', 'REFUND_REASON_FRAUDULENT', 'REFUND_REASON_OTHER']),
        idempotencyKey,
      },
      outputSchema: {
        refund: z.looseObject({ id: z.string(), status: z.string(), amountMoney: money, taxMoney: money }).nullable().optional(),
        order: orderSchema.nullable().optional(),
        userErrors: z.array(userErrorSchema).optional(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async (args) =>
      guarded(async () => {
        const data = await run(call, `mutation ($input: CreateRefundInput!) { createRefund(input: $input) { refund { id status reason amountMoney { ${MONEY} } taxMoney { ${MONEY} } ${REFUND_LINES} }
             order { ${ORDER_FIELDS} } ${USER_ERRORS} } }`,
          { input: args },
        );
        const payload = data.createRefund as { refund?: { id: string; status: string; amountMoney: { amount: number; currency: string } } | null; order?: { summary?: string } | null };
        return reply(payload as Record<string, unknown>, `Refund ${payload.refund?.id} ${payload.refund?.status}: ${payload.refund?.amountMoney.amount} ${payload.refund?.amountMoney.currency}. ${payload.order?.summary ?? ''}`);
      }),
  );

  server.registerTool(
    'cancel_order',
    {
      title: 'Cancel an order',
      description: 'Cancel an OPEN order with no payment. Final.',
      inputSchema: { orderId: z.string(), reason: z.string().optional(), idempotencyKey },
      outputSchema: orderOut,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args) =>
      guarded(async () => {
        const data = await run(call, `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { order { ${ORDER_FIELDS} } ${USER_ERRORS} } }`, { input: args });
        const payload = data.cancelOrder as Record<string, unknown>;
        return reply(payload, `Canceled: ${(payload.order as { summary?: string } | null)?.summary}`);
      }),
  );

  server.registerTool(
    'close_order',
    {
      title: 'Close an order',
      description: 'Close a settled order (PAID, PARTIALLY_REFUNDED or REFUNDED): no further refunds. Final.',
      inputSchema: { orderId: z.string(), idempotencyKey },
      outputSchema: orderOut,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args) =>
      guarded(async () => {
        const data = await run(call, `mutation ($input: CloseOrderInput!) { closeOrder(input: $input) { order { ${ORDER_FIELDS} } ${USER_ERRORS} } }`, { input: args });
        const payload = data.closeOrder as Record<string, unknown>;
        return reply(payload, `Closed: ${(payload.order as { summary?: string } | null)?.summary}`);
      }),
  );

  return server;
}

function readBody(req: IncomingMessage): unknown {
  // The edge read the body within its limit and checked it is UTF-8 (src/http/limits.ts).
  const text = bodyOf(req).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

/** POST /mcp (stateless Streamable HTTP). 401 at the transport level without a valid key. */
export async function handleMcp(req: IncomingMessage, res: ServerResponse, deps: Deps, getEnveloped: McpEnvelop, onAuthFailed?: () => unknown): Promise<void> {
  const auth = await authenticate(deps.db, req.headers.authorization);
  if (!auth || !('principal' in auth)) {
    if (auth) await onAuthFailed?.();
    res
      .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="flint"' })
      .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: auth?.problem ?? 'Authentication required: send "Authorization: Bearer sk_test_...".' }, id: null }));
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Stateless server: POST only.' }, id: null }));
    return;
  }
  let body: unknown;
  try {
    body = readBody(req);
  } catch {
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }));
    return;
  }
  const server = createMcpServer({ deps, principal: auth.principal, req, getEnveloped });
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}
