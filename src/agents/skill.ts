// /SKILL.md (an Agent Skills file) and /llms.txt, generated from the live schema at start-up so they
// cannot drift from the API: every mutation, query, status and error code comes from the schema itself.
import { DEFAULT_LIMITS } from '../config.js';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isNonNullType,
  isListType,
  type GraphQLField,
  type GraphQLSchema,
  type GraphQLType,
} from 'graphql';
import { ACTIONS, TERMINAL, TRANSITIONS } from '../pricing/lifecycle.js';

export const SKILL_NAME = 'flint-orders';
export const SKILL_DESCRIPTION =
  "Work with Flint, an order-first payment API (GraphQL): find and read orders (what was bought, paid, refunded and what is allowed next), create and edit orders with exact totals and tax, apply coupons, take payments, preview and create refunds by line item or amount. Use it when asked about a customer's order or to change, pay, cancel, close or refund one, e.g. \"refund the coffee from Sarah's last order\". Money is integer minor units; every mutation takes an idempotencyKey so retries never repeat an effect.";

function typeString(type: GraphQLType): string {
  if (isNonNullType(type)) return `${typeString(type.ofType)}!`;
  if (isListType(type)) return `[${typeString(type.ofType)}]`;
  return type.name;
}

function oneLine(text: string | null | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

function fieldLine(name: string, field: GraphQLField<unknown, unknown>): string[] {
  const args = field.args.map((a) => `${a.name}: ${typeString(a.type)}`).join(', ');
  const lines = [`- \`${name}(${args}): ${typeString(field.type)}\` — ${oneLine(field.description)}`];
  for (const arg of field.args) {
    const input = getNamedType(arg.type);
    if (isInputObjectType(input)) {
      const parts = Object.values(input.getFields()).map((f) => `\`${f.name}: ${typeString(f.type)}\``);
      lines.push(`  - ${input.name}: ${parts.join(', ')}`);
    }
  }
  return lines;
}

const CONVENTIONS = `## Conventions

- **Endpoint**: \`POST /graphql\` with \`{"query": ..., "variables": ...}\`; header \`Authorization: Bearer sk_test_...\`
  (test mode) or \`sk_live_...\`. Introspection is open to every caller, with or without a key (the schema is public, this
  file is generated from it): every type and field is described.
- **Limits** (defaults; a server may set others): a document may be at most ${DEFAULT_LIMITS.maxDepth} levels deep, with ${DEFAULT_LIMITS.maxAliases} aliases,
  ${DEFAULT_LIMITS.maxTokens} tokens and ${DEFAULT_LIMITS.maxDirectives} directives, and cost at most ${DEFAULT_LIMITS.maxCost} (every field 1, a list multiplies what it selects by its \`first\`, else by 10); bodies at most ${DEFAULT_LIMITS.maxBodyBytes} bytes. Past a limit
  the answer is a GraphQL error saying which (\`QUERY_TOO_COMPLEX\` for cost). Rate limits answer HTTP 429 with
  \`Retry-After\` and \`errors[0].extensions.code = "RATE_LIMITED"\` naming the \`limit\`: wait that many seconds and retry.
  Text must be valid Unicode without NUL characters and ids must not be empty (\`INVALID_INPUT\` names the field).
- **Money** is always \`{ amount, currency }\` where \`amount\` is an integer count of the currency's minor unit
  (1999 USD = $19.99, 500 JPY = ¥500). Never send decimals or floats. Every amount on an order is in its currency.
- **Ids** are opaque prefixed strings: \`ord_\` order, \`li_\` line item, \`pi_\` payment intent, \`re_\` refund, \`cpn_\`
  coupon, \`cs_\` checkout session, \`act_\` activity, \`mer_\` merchant. Never invent or hard-code ids: read them.
- **Idempotency**: pass a fresh \`idempotencyKey\` (a UUID) with every mutation that moves money or changes an order, and
  reuse the SAME key when you retry the same call: you get the stored result, never a second effect. The same key with
  different input is \`IDEMPOTENCY_KEY_REUSED\`.
- **Errors**: expected failures come back as \`userErrors { code message field }\` and NOTHING was written; read \`message\`,
  it says what to do next. GraphQL \`errors\` mean a malformed request or authentication problem.
- **Read before you act**: \`Order.availableActions\` lists exactly what is allowed now and the mutation for each;
  \`Order.refundable\` says what can still be refunded, in all and per line; \`Order.summary\` is one sentence for humans.
- **Concurrency**: pass \`expectedVersion\` (from \`Order.version\`) on edits to refuse lost updates (\`VERSION_CONFLICT\`).
- **MCP**: the same operations as tools at \`POST /mcp\` (Streamable HTTP, stateless) with the same Bearer key: find_orders,
  get_order, create_order, apply_coupon, pay_order, preview_refund, create_refund, cancel_order, close_order.
- **Reference** (served by this server): [how every amount is computed](/docs/pricing.md) with worked examples,
  [API guide](/docs/api-guide.md), [sandbox test tokens](/docs/test-tokens.md), [configuration and limits](/docs/configuration.md).`;

const REFUND_WORKFLOW = `### Refund part of a customer's order ("refund the coffee from Sarah's last order")
1. Find the order: \`orders(filter: { buyerEmail: "sarah@example.com" }, first: 1)\` (newest first). Check the summary.
2. Find the line: in \`lineItems\`, the one whose \`name\`/\`sku\` matches; note its \`id\` and \`refundableQuantity\`.
3. Find the payment: \`paymentIntents\` with \`status: SUCCEEDED\` and its \`id\`.
4. Preview: \`refundPreview(input: { paymentIntentId, lineItems: [{ lineItemId, quantity: 1 }] })\` shows the amount,
   the tax part, the resulting totals and status, or the userErrors createRefund would return. Nothing is written.
5. Refund: \`createRefund(input: { paymentIntentId, lineItems: [...], reason: REFUND_REASON_REQUESTED_BY_CUSTOMER,
   idempotencyKey: "<new uuid>" })\`. If the call fails or times out, retry with the SAME idempotencyKey.
6. Confirm: read the order again: status \`PARTIALLY_REFUNDED\` or \`REFUNDED\`, \`netAmounts.refundedMoney\`, activity \`refund.created\`.`;

const ORDER_WORKFLOW = `### Create and price an order
\`createOrder(input: { buyerEmail, shippingAddress: { country: "US", region: "CA" }, lineItems: [{ name, quantity,
unitPriceMoney: { amount: 1999, currency: "USD" } }], idempotencyKey })\` returns the priced order: \`netAmounts\`,
\`taxes\`, per-line \`taxMoney\`/\`totalMoney\`, \`availableActions\`. Tax follows the merchant's registrations (nexus).`;

const EXAMPLE = `## Example operation

\`\`\`graphql
query LastOrder($email: String!) {
  orders(filter: { buyerEmail: $email }, first: 1) {
    edges { node { id status summary version
      netAmounts { totalMoney { amount currency } paidMoney { amount } refundedMoney { amount } balanceMoney { amount } }
      lineItems { id name sku quantity refundableQuantity refundableMoney { amount currency } }
      availableActions { action mutation description } } }
  }
}
\`\`\``;

export function renderSkill(schema: GraphQLSchema): string {
  const out: string[] = [];
  out.push('---', `name: ${SKILL_NAME}`, `description: ${JSON.stringify(SKILL_DESCRIPTION)}`, '---', '');
  out.push('# Flint order-first payment API', '');
  out.push(
    'Flint keeps the order as the single source of truth: line items, discounts, tax, payments, refunds and an audit',
    'trail, computed and returned on every response. This file is generated from the live schema.',
    '',
  );
  out.push(CONVENTIONS, '');

  out.push('## Order statuses and allowed transitions', '');
  const statusEnum = schema.getType('OrderStatus');
  if (isEnumType(statusEnum)) {
    for (const value of statusEnum.getValues()) out.push(`- \`${value.name}\` — ${oneLine(value.description)}`);
  }
  out.push('', '| from | action (mutation) | to |', '|---|---|---|');
  for (const t of TRANSITIONS) {
    out.push(`| ${t.from.join(', ')} | ${t.action} (\`${ACTIONS[t.action].mutation}\`) | ${t.to.join(', ')} |`);
  }
  out.push('', `Terminal: ${TERMINAL.join(', ')}. Anything else is \`INVALID_STATE_TRANSITION\`, whose message lists what is allowed.`, '');

  const mutations = schema.getMutationType()?.getFields() ?? {};
  const queries = schema.getQueryType()?.getFields() ?? {};
  out.push('## Workflows', '');
  // A workflow is listed only when every operation it names is served (the file never promises more).
  if (mutations.createRefund && queries.refundPreview && queries.orders) out.push(REFUND_WORKFLOW, '');
  out.push(ORDER_WORKFLOW, '');

  out.push('## Mutations', '');
  for (const name of Object.keys(mutations).sort()) out.push(...fieldLine(name, mutations[name]!));
  out.push('');

  out.push('## Queries', '');
  for (const name of Object.keys(queries).sort()) {
    const field = queries[name]!;
    const args = field.args.map((a) => `${a.name}: ${typeString(a.type)}`).join(', ');
    out.push(`- \`${name}${args ? `(${args})` : ''}: ${typeString(field.type)}\` — ${oneLine(field.description)}`);
  }
  out.push('');

  const subscriptions = schema.getSubscriptionType()?.getFields() ?? {};
  if (Object.keys(subscriptions).length > 0) {
    out.push('## Subscriptions (SSE on /graphql, or graphql-ws with connectionParams.authorization)', '');
    for (const name of Object.keys(subscriptions).sort()) {
      const field = subscriptions[name]!;
      const args = field.args.map((a) => `${a.name}: ${typeString(a.type)}`).join(', ');
      out.push(`- \`${name}(${args}): ${typeString(field.type)}\` — ${oneLine(field.description)}`);
    }
    out.push('');
  }

  out.push('## Error codes and what to do', '');
  const codes = schema.getType('ErrorCode');
  if (isEnumType(codes)) {
    for (const value of codes.getValues()) out.push(`- \`${value.name}\` — ${oneLine(value.description)}`);
  }
  out.push('', EXAMPLE, '');
  return out.join('\n');
}

export function renderLlmsTxt(baseUrl: string): string {
  return [
    '# Flint',
    '',
    "> Order-first payment API (GraphQL). The order is the single source of truth: line items, tax, discounts, payments, refunds and an audit trail, computed on every response.",
    '',
    `- [SKILL.md](${baseUrl}/SKILL.md): how an agent uses the API — conventions, statuses, workflows (refund by line item), every mutation, query and error code.`,
    `- [GraphQL endpoint](${baseUrl}/graphql): POST queries with "Authorization: Bearer sk_test_..."; introspection is open to every caller.`,
    `- [MCP endpoint](${baseUrl}/mcp): the same operations as MCP tools (Streamable HTTP, stateless), same Bearer key.`,
    '',
  ].join('\n');
}
