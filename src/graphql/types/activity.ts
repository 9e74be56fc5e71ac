import { GraphQLError } from 'graphql';
import { builder } from '../builder.js';
import { Node } from './node.js';
import { PageInfo } from './order.js';
import { requireScope } from '../context.js';
import type { ActivityRow } from '../../audit/activity.js';
import { listActivity, verifyAuditTrail, type AuditVerification } from '../../audit/chain.js';

// --- Activity -------------------------------------------------------------------------------------

export const ActorTypeEnum = builder.enumType('ActorType', {
  description: 'Who made a change.',
  values: {
    API_KEY: { value: 'API_KEY', description: 'A request authenticated with an API key (id = key id, name = key prefix).' },
    CUSTOMER: { value: 'CUSTOMER', description: 'The buyer, on the hosted checkout page.' },
    WEBHOOK: { value: 'WEBHOOK', description: 'A processor webhook (id = event id).' },
    SYSTEM: { value: 'SYSTEM', description: 'Flint itself (sign-up, background steps).' },
  } as const,
});

const Actor = builder.objectRef<{ type: 'API_KEY' | 'CUSTOMER' | 'WEBHOOK' | 'SYSTEM'; id: string | null; name: string | null }>('Actor').implement({
  description: 'Who made a change.',
  fields: (t) => ({
    type: t.field({ type: ActorTypeEnum, description: 'The kind of actor.', resolve: (a) => a.type }),
    id: t.exposeString('id', { nullable: true, description: 'API key id, webhook event id, ...' }),
    name: t.exposeString('name', { nullable: true, description: 'API key prefix or another readable name.' }),
  }),
});

export const Activity = builder.prismaObject('Activity', {
  interfaces: [Node],
  description: 'One recorded change. Append-only: never updated or deleted (the database refuses it).',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Activity id (act_...), sortable by time.' }),
    type: t.exposeString('type', {
      description: 'Dotted event type, e.g. "order.created", "order.line_items_added", "order.canceled", "order.status_changed".',
    }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime', description: 'When the change was committed.' }),
    actor: t.field({
      type: Actor,
      description: 'Who made the change.',
      resolve: (a) => ({ type: a.actorType as 'API_KEY', id: a.actorId, name: a.actorName }),
    }),
    delta: t.field({ type: 'JSON', description: 'What changed: { before, after } of every changed field, net amounts included.', resolve: (a) => a.delta }),
    orderId: t.exposeID('orderId', { nullable: true, description: 'The order it concerns, if any.' }),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true, description: 'The idempotencyKey of the request that made the change.' }),
    sequence: t.field({
      type: 'SafeInt',
      description:
        "Position in the merchant's audit chain for this mode: 1, 2, 3... in commit order. A gap between two entries a subscriber received means it missed some.",
      resolve: (a) => a.sequence,
    }),
    hash: t.exposeString('hash', {
      description:
        "sha256 over the previous entry's hash and this entry's canonical content (hex): sha256(previousHash + canonical JSON of id, merchantId, livemode, sequence, orderId, type, occurredAt, actorType, actorId, actorName, delta, idempotencyKey).",
    }),
    previousHash: t.exposeString('previousHash', {
      nullable: true,
      description: "hash of the entry before this one in the merchant's chain; null for the first entry.",
    }),
  }),
});

// --- Merchant-wide activity ---------------------------------------------------------------------------

const ActivityFilterInput = builder.inputType('ActivityFilter', {
  description: 'Narrow the activity list; all given conditions must hold.',
  fields: (t) => ({
    types: t.stringList({ description: 'Only entries of these exact dotted types, e.g. ["order.canceled", "order.status_changed"].' }),
    orderId: t.id({ description: 'Only entries of this order (ord_...).' }),
    actorType: t.field({ type: ActorTypeEnum, description: 'Only entries made by this kind of actor.' }),
    occurredAfter: t.field({ type: 'DateTime', description: 'Only entries recorded at or after this instant.' }),
    occurredBefore: t.field({ type: 'DateTime', description: 'Only entries recorded before this instant.' }),
  }),
});

interface ActivityPage {
  edges: { cursor: string; node: ActivityRow }[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

const ActivityEdge = builder.objectRef<{ cursor: string; node: ActivityRow }>('ActivityEdge').implement({
  description: 'An activity entry in a list.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', { description: 'Opaque position; pass it as `after`.' }),
    node: t.field({ type: Activity, description: 'The entry.', resolve: (e) => e.node }),
  }),
});

const ActivityConnection = builder.objectRef<ActivityPage>('ActivityConnection').implement({
  description: "A page of the merchant's activity, newest first.",
  fields: (t) => ({
    edges: t.field({ type: [ActivityEdge], description: 'The entries of this page.', resolve: (p) => p.edges }),
    // PageInfo reads only the cursors and the two flags, which an activity page has in the same shape.
    pageInfo: t.field({ type: PageInfo, description: 'Whether there is more, and the cursors.', resolve: (p) => p as never }),
  }),
});

const CURSOR_PREFIX = 'activity:';
const encodeCursor = (sequence: bigint) => Buffer.from(`${CURSOR_PREFIX}${sequence}`).toString('base64url');
function decodeCursor(cursor: string): bigint {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(CURSOR_PREFIX) || !/^\d{1,19}$/.test(text.slice(CURSOR_PREFIX.length))) {
    throw new GraphQLError('after is not a cursor of this list: pass the endCursor of the previous page.', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return BigInt(text.slice(CURSOR_PREFIX.length));
}

export const MAX_ACTIVITY_PAGE_SIZE = 100;

builder.queryField('activities', (t) =>
  t.field({
    type: ActivityConnection,
    description: `Everything recorded for the merchant in the API key's mode (orders, keys, tax settings, coupons, payments...), newest first, ${MAX_ACTIVITY_PAGE_SIZE} at most per page. Filter by type, order, actor and time.`,
    args: {
      filter: t.arg({ type: ActivityFilterInput, description: 'Conditions all returned entries meet.' }),
      first: t.arg.int({ description: `Page size, 1 to ${MAX_ACTIVITY_PAGE_SIZE} (default 20).` }),
      after: t.arg.string({ description: 'endCursor of the previous page.' }),
    },
    resolve: async (_root, args, ctx) => {
      const scope = requireScope(ctx);
      const first = args.first ?? 20;
      if (!Number.isInteger(first) || first < 1 || first > MAX_ACTIVITY_PAGE_SIZE) {
        throw new GraphQLError(`first must be from 1 to ${MAX_ACTIVITY_PAGE_SIZE} (got ${first}).`, { extensions: { code: 'BAD_USER_INPUT' } });
      }
      const before = args.after ? decodeCursor(args.after) : null;
      const f = args.filter;
      const page = await listActivity(
        ctx.deps.db,
        scope,
        {
          types: f?.types ?? null,
          orderId: f?.orderId ? String(f.orderId) : null,
          actorType: f?.actorType ?? null,
          occurredAfter: f?.occurredAfter ?? null,
          occurredBefore: f?.occurredBefore ?? null,
        },
        first,
        before,
      );
      return {
        edges: page.rows.map((node) => ({ cursor: encodeCursor(node.sequence), node })),
        hasNextPage: page.hasNextPage,
        hasPreviousPage: before !== null,
      };
    },
  }),
);

// --- Verification -------------------------------------------------------------------------------------

const AuditVerificationRef = builder.objectRef<AuditVerification>('AuditVerification').implement({
  description: 'The result of recomputing the audit hash chain.',
  fields: (t) => ({
    valid: t.exposeBoolean('valid', { description: 'True when every checked entry matches its hash and links to the entry before it, and the chain ends where its head says.' }),
    entriesChecked: t.exposeInt('entriesChecked', { description: 'How many entries were recomputed.' }),
    firstBrokenActivityId: t.exposeID('firstBrokenActivityId', {
      nullable: true,
      description: 'The first entry whose hash does not match (or that does not link to the entry before it), when valid is false. Null when entries are missing at the end of the chain.',
    }),
    problem: t.exposeString('problem', { nullable: true, description: 'What is wrong, in words, when valid is false.' }),
  }),
});

builder.queryField('verifyAuditTrail', (t) =>
  t.field({
    type: AuditVerificationRef,
    description:
      "Recomputes the audit hash chain of one order, or of the whole merchant when orderId is left out (in the API key's mode). For an order, the chain is checked from the order's first entry to the newest entry of the merchant.",
    args: { orderId: t.arg.id({ description: 'Order id (ord_...); leave it out to check every entry of the merchant.' }) },
    resolve: async (_root, args, ctx) => {
      const scope = requireScope(ctx);
      const orderId = args.orderId ? String(args.orderId) : null;
      const result = await verifyAuditTrail(ctx.deps.db, scope, orderId);
      if (!result) {
        throw new GraphQLError(`There is no order ${orderId} (it does not exist, or belongs to another merchant or mode).`, {
          extensions: { code: 'NOT_FOUND' },
        });
      }
      return result;
    },
  }),
);

