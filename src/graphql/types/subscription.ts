// Live subscriptions (dashboards): over SSE (POST/GET /graphql with Accept: text/event-stream and the
// Bearer header) and over WebSocket (graphql-ws on /graphql, the key in connectionParams.authorization).
// Events come from src/realtime/: published after commit, from the subscriber's own merchant and mode only.
import { GraphQLError } from 'graphql';
import { builder } from '../builder.js';
import { requireScope, type GraphQLContext } from '../context.js';
import { Activity } from './activity.js';
import { Order, OrderStatusEnum } from './order.js';
import type { ActivityRow } from '../../audit/activity.js';
import type { Db, Scope } from '../../kernel/context.js';
import type { OrderStatus } from '../../pricing/index.js';
import type { RealtimeContext } from '../../realtime/hub.js';
import { orderExists, orderForEvent } from '../../realtime/orders.js';

builder.subscriptionType({
  authScopes: { authenticated: true },
  description:
    'Live events of the merchant in the API key\'s mode, as they commit. SSE: send the subscription to /graphql with "Accept: text/event-stream" and "Authorization: Bearer <API key>". WebSocket: the graphql-transport-ws protocol on /graphql, with connectionParams { authorization: "Bearer <API key>" }.',
});

interface StatusChange {
  row: ActivityRow;
  previousStatus: OrderStatus | null;
  status: OrderStatus;
  db: Db;
}

const OrderStatusChange = builder.objectRef<StatusChange>('OrderStatusChange').implement({
  description: 'An order moved from one status to another.',
  fields: (t) => ({
    order: t.field({
      type: Order,
      description: 'The order, read when the event is delivered (it may already show later changes; status and previousStatus are those of this transition).',
      resolve: (c) => orderForEvent(c.db, c.row),
    }),
    previousStatus: t.field({ type: OrderStatusEnum, nullable: true, description: 'The status before the transition.', resolve: (c) => c.previousStatus }),
    status: t.field({ type: OrderStatusEnum, description: 'The status after the transition.', resolve: (c) => c.status }),
    activity: t.field({ type: Activity, description: 'The activity entry that recorded the transition (type "order.status_changed").', resolve: (c) => c.row }),
  }),
});

/** The transition an `order.status_changed` entry records, or null for any other entry. */
function statusChangeOf(row: ActivityRow): { previousStatus: OrderStatus | null; status: OrderStatus } | null {
  if (row.type !== 'order.status_changed' || row.orderId === null) return null;
  const delta = row.delta as { before?: { status?: OrderStatus | null } | null; after?: { status?: OrderStatus } | null } | null;
  const status = delta?.after?.status;
  if (!status) return null;
  return { previousStatus: delta?.before?.status ?? null, status };
}

// One payload object per event for every subscriber of this instance, so that subscribers asking the
// same thing can share the event's execution (src/realtime/shared-execution.ts).
const statusChanges = new WeakMap<ActivityRow, StatusChange | null>();

function statusChangeEvent(db: Db, row: ActivityRow): StatusChange | null {
  let event = statusChanges.get(row);
  if (event === undefined) {
    const change = statusChangeOf(row);
    event = change ? { row, db, ...change } : null;
    statusChanges.set(row, event);
  }
  return event;
}

function realtimeOf(ctx: GraphQLContext): RealtimeContext {
  if (!ctx.realtime) throw new Error('subscriptions need a realtime context (see src/server.ts)');
  return ctx.realtime;
}

/** Authorises the subscription and, with an orderId, checks the order is the caller's. */
async function authorise(ctx: GraphQLContext, orderId: string | null): Promise<Scope> {
  const scope = requireScope(ctx);
  if (orderId !== null && !(await orderExists(ctx.deps.db, scope, orderId))) {
    throw new GraphQLError(`There is no order ${orderId} (it does not exist, or belongs to another merchant or mode).`, {
      extensions: { code: 'NOT_FOUND' },
    });
  }
  return scope;
}

async function open<T>(ctx: GraphQLContext, select: (row: ActivityRow) => T | null): Promise<AsyncIterable<T>> {
  const realtime = realtimeOf(ctx);
  return realtime.hub.open({
    principal: ctx.principal!,
    connection: realtime.connection,
    select,
    onRevoked: () => realtime.closeConnection?.(4403, 'API key revoked'),
  });
}

const orderIdDescription = 'Only events of this order (ord_...). Another merchant\'s order is refused with NOT_FOUND.';

builder.subscriptionField('orderStatusChanged', (t) =>
  t.field({
    type: OrderStatusChange,
    description: 'Status transitions of one order, or of every order of the merchant when orderId is left out.',
    args: { orderId: t.arg.id({ description: orderIdDescription }) },
    subscribe: async (_root, args, ctx) => {
      const orderId = args.orderId ? String(args.orderId) : null;
      await authorise(ctx, orderId);
      const db = ctx.deps.db;
      return open<StatusChange>(ctx, (row) => (orderId !== null && row.orderId !== orderId ? null : statusChangeEvent(db, row)));
    },
    resolve: (change) => change,
  }),
);

builder.subscriptionField('activityRecorded', (t) =>
  t.field({
    type: Activity,
    description: 'Every activity entry of the merchant as it is recorded (dashboards), or only those of one order.',
    args: { orderId: t.arg.id({ description: orderIdDescription }) },
    subscribe: async (_root, args, ctx) => {
      const orderId = args.orderId ? String(args.orderId) : null;
      await authorise(ctx, orderId);
      return open<ActivityRow>(ctx, (row) => (orderId === null || row.orderId === orderId ? row : null));
    },
    resolve: (row) => row,
  }),
);
