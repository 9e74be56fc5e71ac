-- Rate-limit counters shared by every instance (rate-limiter-flexible's RateLimiterPostgres layout:
-- one row per limited key, the points consumed in the current window and when the window ends, in
-- epoch milliseconds). Used when REDIS_URL is not set; see src/http/rate-limit.ts.

-- CreateTable
CREATE TABLE "RateLimit" (
    "key" VARCHAR(255) NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "RateLimit_pkey" PRIMARY KEY ("key")
);
