-- CreateEnum
CREATE TYPE "RefundStatus" AS ENUM ('PENDING', 'SUCCEEDED', 'FAILED');

-- CreateEnum
CREATE TYPE "RefundReason" AS ENUM ('REFUND_REASON_REQUESTED_BY_CUSTOMER', 'REFUND_REASON_DUPLICATE', 'REFUND_REASON_FRAUDULENT', 'REFUND_REASON_OTHER');

-- AlterTable
ALTER TABLE "LineItem" ADD COLUMN     "pendingRefundQuantity" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "reservedRefundAmount" BIGINT NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Order" ADD COLUMN     "pendingRefundAmount" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "refundedDiscountAmount" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "refundedSubtotalAmount" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "refundedTaxAmount" BIGINT NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "Refund" (
    "id" TEXT NOT NULL,
    "merchantId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "orderId" TEXT NOT NULL,
    "paymentIntentId" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "taxAmount" BIGINT NOT NULL,
    "processorAmount" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "byLineItems" BOOLEAN NOT NULL,
    "reason" "RefundReason" NOT NULL,
    "status" "RefundStatus" NOT NULL,
    "processor" TEXT NOT NULL,
    "processorIdempotencyKey" TEXT NOT NULL,
    "processorReference" TEXT,
    "failureReason" TEXT,
    "requestKey" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Refund_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RefundLineItem" (
    "refundId" TEXT NOT NULL,
    "lineItemId" TEXT NOT NULL,
    "merchantId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "position" INTEGER NOT NULL,
    "quantity" INTEGER NOT NULL,
    "grossAmount" BIGINT NOT NULL,
    "discountAmount" BIGINT NOT NULL,
    "taxAmount" BIGINT NOT NULL,
    "exclusiveTaxAmount" BIGINT NOT NULL,
    "amount" BIGINT NOT NULL,

    CONSTRAINT "RefundLineItem_pkey" PRIMARY KEY ("refundId","lineItemId")
);

-- CreateIndex
CREATE UNIQUE INDEX "Refund_processorIdempotencyKey_key" ON "Refund"("processorIdempotencyKey");

-- CreateIndex
CREATE INDEX "Refund_orderId_id_idx" ON "Refund"("orderId", "id");

-- CreateIndex
CREATE INDEX "Refund_paymentIntentId_id_idx" ON "Refund"("paymentIntentId", "id");

-- CreateIndex
CREATE INDEX "Refund_merchantId_livemode_id_idx" ON "Refund"("merchantId", "livemode", "id");

-- CreateIndex
CREATE INDEX "Refund_status_idx" ON "Refund"("status");

-- CreateIndex
CREATE INDEX "Refund_processorReference_idx" ON "Refund"("processorReference");

-- CreateIndex
CREATE INDEX "RefundLineItem_lineItemId_idx" ON "RefundLineItem"("lineItemId");

-- AddForeignKey
ALTER TABLE "Refund" ADD CONSTRAINT "Refund_orderId_fkey" FOREIGN KEY ("orderId") REFERENCES "Order"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Refund" ADD CONSTRAINT "Refund_paymentIntentId_fkey" FOREIGN KEY ("paymentIntentId") REFERENCES "PaymentIntent"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RefundLineItem" ADD CONSTRAINT "RefundLineItem_refundId_fkey" FOREIGN KEY ("refundId") REFERENCES "Refund"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RefundLineItem" ADD CONSTRAINT "RefundLineItem_lineItemId_fkey" FOREIGN KEY ("lineItemId") REFERENCES "LineItem"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Not expressible in schema.prisma (not compared by the drift test): the database itself refuses a
-- refund beyond what a payment or a line has left, whatever a bug or a race might try.
ALTER TABLE "PaymentIntent" ADD CONSTRAINT "PaymentIntent_refunded_within_amount" CHECK ("refundedAmount" <= "amount");
ALTER TABLE "LineItem" ADD CONSTRAINT "LineItem_refunded_within_quantity" CHECK ("refundedQuantity" >= 0 AND "pendingRefundQuantity" >= 0 AND "refundedQuantity" + "pendingRefundQuantity" <= "quantity");
ALTER TABLE "Order" ADD CONSTRAINT "Order_refunds_within_paid" CHECK ("pendingRefundAmount" >= 0 AND "refundedAmount" + "pendingRefundAmount" <= "paidAmount");
ALTER TABLE "Refund" ADD CONSTRAINT "Refund_processor_amount_within_amount" CHECK ("processorAmount" >= 0 AND ("amount" <= 0 OR "processorAmount" <= "amount"));
