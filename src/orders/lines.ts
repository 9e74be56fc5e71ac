// Line items as given (LineItemInput): checked field by field, then made into rows to price.
import type { Scope } from '../kernel/context.js';
import { type UserError, userError } from '../kernel/errors.js';
import { LIMITS, checkCurrency, checkMetadata, checkString, type Path } from '../kernel/validation.js';
import type { LineRow } from './order-model.js';
import { newId } from '../ids.js';
import type { Prisma } from '../generated/prisma/client.js';

export interface LineItemInput {
  name: string;
  sku?: string | null;
  quantity: number;
  unitPriceMoney: { amount: number; currency: string };
  taxCategory?: string | null;
  metadata?: unknown;
}

export interface ValidLine {
  name: string;
  sku: string | null;
  quantity: number;
  unitPrice: bigint;
  taxCategory: string;
  metadata: unknown;
}

export function validateLines(errors: UserError[], lines: LineItemInput[], path: Path, currency: string | null): ValidLine[] {
  const valid: ValidLine[] = [];
  lines.forEach((line, i) => {
    const at = [...path, i];
    const before = errors.length;
    checkString(errors, line.name, [...at, 'name'], 'name', 1, LIMITS.nameMax);
    if (line.sku !== null && line.sku !== undefined) checkString(errors, line.sku, [...at, 'sku'], 'sku', 1, LIMITS.skuMax);
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > LIMITS.quantityMax) {
      errors.push(userError('INVALID_INPUT', `quantity must be a whole number from 1 to ${LIMITS.quantityMax} (got ${line.quantity}).`, [...at, 'quantity']));
    }
    const amount = line.unitPriceMoney.amount;
    if (!Number.isSafeInteger(amount) || amount < 0 || BigInt(amount) > LIMITS.unitPriceMax) {
      errors.push(
        userError(
          'INVALID_INPUT',
          `unitPriceMoney.amount must be a whole number of minor units from 0 to ${LIMITS.unitPriceMax} (got ${amount}); 1999 means 19.99 in USD.`,
          [...at, 'unitPriceMoney', 'amount'],
        ),
      );
    }
    const lineCurrency = line.unitPriceMoney.currency;
    if (checkCurrency(errors, lineCurrency, [...at, 'unitPriceMoney', 'currency']) && currency !== null && lineCurrency !== currency) {
      errors.push(
        userError(
          'CURRENCY_MISMATCH',
          `Every amount on an order is in the order's currency ${currency}; this line is in ${lineCurrency}. Create a separate order for ${lineCurrency}.`,
          [...at, 'unitPriceMoney', 'currency'],
        ),
      );
    }
    const taxCategory = line.taxCategory?.trim() || 'general';
    if (!/^[a-z0-9_-]{1,64}$/.test(taxCategory)) {
      errors.push(userError('INVALID_INPUT', 'taxCategory must be 1 to 64 of a-z, 0-9, "_" and "-", e.g. "general", "food", "clothing".', [...at, 'taxCategory']));
    }
    checkMetadata(errors, line.metadata, [...at, 'metadata']);
    if (errors.length === before) {
      valid.push({
        name: line.name.trim(),
        sku: line.sku?.trim() || null,
        quantity: line.quantity,
        unitPrice: BigInt(amount),
        taxCategory,
        metadata: line.metadata ?? null,
      });
    }
  });
  return valid;
}

export function tooManyLines(count: number, path: Path): UserError {
  return userError('INVALID_INPUT', `An order holds at most ${LIMITS.lineItemsMax} line items (this would make ${count}). Split it into several orders.`, path);
}

export function newLineRow(scope: Scope, orderId: string, position: number, l: ValidLine, at: Date): LineRow {
  return {
    id: newId('LineItem'),
    orderId,
    merchantId: scope.merchantId,
    position,
    name: l.name,
    sku: l.sku,
    quantity: l.quantity,
    unitPriceAmount: l.unitPrice,
    taxCategory: l.taxCategory,
    metadata: (l.metadata ?? null) as Prisma.JsonValue,
    grossAmount: 0n,
    discountAmount: 0n,
    taxAmount: 0n,
    exclusiveTaxAmount: 0n,
    totalAmount: 0n,
    discounts: [],
    taxes: [],
    refundedQuantity: 0,
    pendingRefundQuantity: 0,
    reservedRefundAmount: 0n,
    createdAt: at,
  };
}

