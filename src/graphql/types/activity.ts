import { builder } from '../builder.js';
import { Node } from './node.js';

// --- Activity -------------------------------------------------------------------------------------

const ActorTypeEnum = builder.enumType('ActorType', {
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
  }),
});

