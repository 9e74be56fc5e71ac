-- The merchant dashboard's sign-in: one-time links (createDashboardLink) and the sessions they start.
-- Both store only the sha256 of their secret. A link is redeemed once (usedAt, set by a conditional
-- update) and starts exactly one session (linkId is unique).

-- CreateTable
CREATE TABLE "DashboardLink" (
    "id" TEXT NOT NULL,
    "merchantId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "apiKeyId" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "usedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DashboardLink_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DashboardSession" (
    "id" TEXT NOT NULL,
    "merchantId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "apiKeyId" TEXT NOT NULL,
    "linkId" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "endedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DashboardSession_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "DashboardLink_tokenHash_key" ON "DashboardLink"("tokenHash");

-- CreateIndex
CREATE INDEX "DashboardLink_merchantId_livemode_id_idx" ON "DashboardLink"("merchantId", "livemode", "id");

-- CreateIndex
CREATE UNIQUE INDEX "DashboardSession_linkId_key" ON "DashboardSession"("linkId");

-- CreateIndex
CREATE UNIQUE INDEX "DashboardSession_secretHash_key" ON "DashboardSession"("secretHash");

-- CreateIndex
CREATE INDEX "DashboardSession_apiKeyId_idx" ON "DashboardSession"("apiKeyId");

-- AddForeignKey
ALTER TABLE "DashboardLink" ADD CONSTRAINT "DashboardLink_apiKeyId_fkey" FOREIGN KEY ("apiKeyId") REFERENCES "ApiKey"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DashboardSession" ADD CONSTRAINT "DashboardSession_apiKeyId_fkey" FOREIGN KEY ("apiKeyId") REFERENCES "ApiKey"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DashboardSession" ADD CONSTRAINT "DashboardSession_linkId_fkey" FOREIGN KEY ("linkId") REFERENCES "DashboardLink"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
