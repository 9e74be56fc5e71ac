// closeOrder: closes a settled order (PAID, PARTIALLY_REFUNDED or REFUNDED). CLOSED is final: nothing
// changes afterwards, refunds included, so it is refused while a refund is still PENDING at the
// processor. Written through editOrder (guarded by the order's version): reserving a refund bumps that
// version, so a refund reserved after closeOrder read the order refuses its write, and it plans again.
import type { Scope } from '../kernel/context.js';
import { Activities } from '../audit/activity.js';
import { type Outcome, fail, ok, userError } from '../kernel/errors.js';
import { orderActions, type LineRow, type OrderRow } from '../orders/order-model.js';
import { editOrder } from '../orders/edit.js';
import type { WrittenOrder } from '../orders/order-state.js';
import { readRows } from '../kernel/rows.js';
import { orderStatusAfter } from '../kernel/transitions.js';
import { sqlPool } from '../db/prisma.js';
import { ACTIONS } from '../pricing/index.js';
import { net } from './bookkeeping.js';
import { settleWaitingRefundsOfOrder } from './reconcile.js';

export interface CloseOrderInput {
  orderId: string;
  idempotencyKey?: string | null;
}

function allowedNow(order: OrderRow, lines: LineRow[], except: string): string {
  const allowed = orderActions(order, lines).filter((g) => g.allowed && g.action !== except);
  return allowed.length === 0 ? 'No other action is available now.' : `Allowed now: ${allowed.map((g) => `${g.action} (${ACTIONS[g.action].mutation})`).join(', ')}.`;
}

const PENDING_REFUNDS_SQL = `SELECT "id" FROM "Refund" WHERE "orderId" = $1 AND "status" = 'PENDING' ORDER BY "id"`;

export async function closeOrder(scope: Scope, input: CloseOrderInput): Promise<Outcome<WrittenOrder>> {
  await settleWaitingRefundsOfOrder(scope, input.orderId);
  return editOrder(scope, 'closeOrder', { ...input }, 'CLOSE', async ({ order, lines }) => {
    const pending = await readRows<{ id: string }>(sqlPool(scope.deps.db), 'flint_pending_refunds', PENDING_REFUNDS_SQL, [order.id]);
    if (pending.length > 0) {
      return fail(
        userError(
          'INVALID_STATE_TRANSITION',
          `Cannot CLOSE (closeOrder): refund ${pending.map((r) => r.id).join(', ')} of this order is still PENDING at the processor, and a CLOSED order never changes again. Call closeOrder again once Order.refunds shows none PENDING. ${allowedNow(order, lines, 'CLOSE')}`,
          ['input', 'orderId'],
        ),
      );
    }
    return ok({
      order: { ...order, status: orderStatusAfter(order.status, 'CLOSE', 'CLOSED') },
      lines,
      reprice: false,
      activity: (before, after) => [
        Activities.orderClosed(order.id, { status: before.order.status, netAmounts: net(before.order, before.lines) }, { status: after.order.status, netAmounts: net(after.order, after.lines) }),
        Activities.orderStatusChanged(order.id, before.order.status, after.order.status),
      ],
    });
  });
}
