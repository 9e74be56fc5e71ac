// Dashboard sign-in: one-time links (createDashboardLink) and the browser sessions they start.
//
// A link carries 32 random bytes; only their sha256 is stored. Redeeming it is one conditional update
// (usedAt IS NULL AND expiresAt > now), so a link starts at most one session, even when two browsers race.
// The session cookie holds another 32 random bytes, also stored only as sha256. A session acts for the
// merchant and mode of the API key that made the link, as that key (the audit trail names it), and stops
// working when the key is revoked, when it expires, or when the merchant signs out. Link creation,
// sign-in and sign-out are recorded in the audit trail through the one write path, like every other change.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Deps, Scope } from '../kernel/context.js';
import { fail, ok, userError, type Outcome } from '../kernel/errors.js';
import type { ActivityEntry } from '../audit/activity.js';
import { toJson } from '../kernel/json.js';
import { runWrite } from '../kernel/write-path.js';
import { readRows } from '../kernel/rows.js';
import { sqlPool } from '../db/prisma.js';
import { ulid } from '../ids.js';
import { publicUrlOf } from '../payments/index.js';

export const LINK_EXPIRY_SECONDS = { default: 900, min: 60, max: 86_400 } as const;
/** A session lasts at most this long after sign-in, whatever the link's expiry was. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
export const SIGN_IN_PATH = '/dashboard/sign-in/';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const secret = () => randomBytes(32).toString('base64url');

/** The audit entries of the dashboard's sign-in (their own types; no order concerned). */
const DashboardActivities = {
  linkCreated: (link: Record<string, unknown>): ActivityEntry => ({ type: 'dashboard_link.created', orderId: null, delta: toJson({ before: null, after: link }) }),
  signedIn: (session: Record<string, unknown>): ActivityEntry => ({ type: 'dashboard.signed_in', orderId: null, delta: toJson({ before: null, after: session }) }),
  signedOut: (before: Record<string, unknown>, after: Record<string, unknown>): ActivityEntry => ({
    type: 'dashboard.signed_out',
    orderId: null,
    delta: toJson({ before, after }),
  }),
};

export interface DashboardLinkResult {
  url: string;
  expiresAt: Date;
}

/** A one-time sign-in link for the scope's merchant and mode, on behalf of API key `apiKeyId`. */
export async function createDashboardLink(
  scope: Scope,
  apiKeyId: string,
  input: { expiresInSeconds?: number | null },
): Promise<Outcome<DashboardLinkResult>> {
  const seconds = input.expiresInSeconds ?? LINK_EXPIRY_SECONDS.default;
  if (!Number.isInteger(seconds) || seconds < LINK_EXPIRY_SECONDS.min || seconds > LINK_EXPIRY_SECONDS.max) {
    return fail(
      userError(
        'INVALID_INPUT',
        `expiresInSeconds must be a whole number from ${LINK_EXPIRY_SECONDS.min} to ${LINK_EXPIRY_SECONDS.max} (24 hours) (got ${seconds}); leave it out for ${LINK_EXPIRY_SECONDS.default} (15 minutes).`,
        ['input', 'expiresInSeconds'],
      ),
    );
  }
  const token = secret();
  const id = `dlk_${ulid()}`;
  let expiresAt: Date | null = null;
  const { outcome } = await runWrite({
    scope,
    operation: 'createDashboardLink',
    input: { expiresInSeconds: seconds },
    plan: async (at) => {
      expiresAt = new Date(at.getTime() + seconds * 1000);
      const row = { id, merchantId: scope.merchantId, livemode: scope.livemode, apiKeyId, tokenHash: sha256(token), expiresAt, createdAt: at };
      return ok({
        result: { id },
        write: { ops: [{ kind: 'insert', table: 'DashboardLink', rows: [row] }], entries: [DashboardActivities.linkCreated({ id, livemode: scope.livemode, expiresAt })] },
      });
    },
  });
  if (!outcome.ok) return outcome;
  return ok({ url: `${publicUrlOf(scope.deps)}${SIGN_IN_PATH}${token}`, expiresAt: expiresAt! });
}

export type LinkProblem = 'unknown' | 'used' | 'expired' | 'revoked';

/** Who a link or session acts for: a merchant, a mode, and the API key that made the link. */
interface Delegation {
  id: string;
  merchantId: string;
  merchantName: string;
  livemode: boolean;
  apiKeyId: string;
  apiKeyPrefix: string;
  expiresAt: Date;
}

export type LinkInfo = Delegation;

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** What a link or session row is read with: its key (prefix, revocation) and the merchant's name. */
const WITH_KEY = { apiKey: { select: { prefix: true, revokedAt: true, merchant: { select: { name: true } } } } } as const;

type RowWithKey = { id: string; merchantId: string; livemode: boolean; apiKeyId: string; expiresAt: Date; apiKey: { prefix: string; merchant: { name: string } } };

function delegationOf(row: RowWithKey): Delegation {
  const { id, merchantId, livemode, apiKeyId, expiresAt } = row;
  return { id, merchantId, merchantName: row.apiKey.merchant.name, livemode, apiKeyId, apiKeyPrefix: row.apiKey.prefix, expiresAt };
}

/** What a link token names, or why it cannot be used. Reads only (a GET of the link never spends it). */
export async function inspectLink(deps: Deps, token: string): Promise<{ link: LinkInfo } | { problem: LinkProblem }> {
  if (!TOKEN.test(token)) return { problem: 'unknown' };
  const row = await deps.db.dashboardLink.findUnique({ where: { tokenHash: sha256(token) }, include: WITH_KEY });
  if (!row) return { problem: 'unknown' };
  if (row.usedAt) return { problem: 'used' };
  if (row.expiresAt.getTime() <= deps.clock.now().getTime()) return { problem: 'expired' };
  if (row.apiKey.revokedAt) return { problem: 'revoked' };
  return { link: delegationOf(row) };
}

function linkScope(deps: Deps, link: Pick<LinkInfo, 'merchantId' | 'livemode' | 'apiKeyId' | 'apiKeyPrefix'>): Scope {
  return { deps, merchantId: link.merchantId, livemode: link.livemode, actor: { type: 'API_KEY', id: link.apiKeyId, name: link.apiKeyPrefix } };
}

/** Spends the link and starts a session: the cookie secret and when it expires, or why not. */
export async function redeemLink(deps: Deps, token: string): Promise<{ secret: string; expiresAt: Date } | { problem: LinkProblem }> {
  const inspected = await inspectLink(deps, token);
  if ('problem' in inspected) return inspected;
  const { link } = inspected;
  const cookieSecret = secret();
  const id = `dss_${ulid()}`;
  let expiresAt: Date | null = null;
  const { outcome } = await runWrite({
    scope: linkScope(deps, link),
    operation: 'dashboardSignIn',
    input: {},
    plan: async (at) => {
      // The one place a link is spent: the guard lets exactly one of two concurrent redemptions write;
      // the other plans again and finds the link used.
      const [current] = await readRows<{ usedAt: Date | null; expiresAt: Date }>(sqlPool(deps.db), 'flint_dashboard_link', 'SELECT "usedAt", "expiresAt" FROM "DashboardLink" WHERE "id" = $1', [link.id]);
      if (!current || current.usedAt || current.expiresAt.getTime() <= at.getTime()) {
        return fail(userError('INVALID_STATE_TRANSITION', 'This sign-in link was used already or has expired.'));
      }
      expiresAt = new Date(at.getTime() + SESSION_TTL_MS);
      const session = { id, merchantId: link.merchantId, livemode: link.livemode, apiKeyId: link.apiKeyId, linkId: link.id, secretHash: sha256(cookieSecret), expiresAt, createdAt: at };
      return ok({
        result: { id },
        write: {
          guards: [{ table: 'DashboardLink', id: link.id, match: { usedAt: null } }],
          ops: [
            { kind: 'update', table: 'DashboardLink', rows: [{ id: link.id, usedAt: at }] },
            { kind: 'insert', table: 'DashboardSession', rows: [session] },
          ],
          entries: [DashboardActivities.signedIn({ id, linkId: link.id, livemode: link.livemode, expiresAt })],
        },
      });
    },
  });
  if (!outcome.ok) return { problem: 'used' };
  return { secret: cookieSecret, expiresAt: expiresAt! };
}

export interface DashboardSession extends Delegation {
  /** Goes into every form the session posts (checked against the cookie, see csrfTokenOf). */
  csrfToken: string;
}

/** The CSRF token of a session: derived from its cookie secret, so a page on another site cannot know it. */
export function csrfTokenOf(cookieSecret: string): string {
  return createHmac('sha256', cookieSecret).update('flint dashboard csrf').digest('base64url');
}

/** The live session a cookie secret names: not ended, not expired, its API key not revoked. */
export async function findSession(deps: Deps, cookieSecret: string | null): Promise<DashboardSession | null> {
  if (!cookieSecret || !TOKEN.test(cookieSecret)) return null;
  const row = await deps.db.dashboardSession.findUnique({ where: { secretHash: sha256(cookieSecret) }, include: WITH_KEY });
  if (!row || row.endedAt || row.apiKey.revokedAt || row.expiresAt.getTime() <= deps.clock.now().getTime()) return null;
  return { ...delegationOf(row), csrfToken: csrfTokenOf(cookieSecret) };
}

/** The use cases' scope for a session: its merchant and mode, acting as the API key that made the link. */
export function sessionScope(deps: Deps, session: DashboardSession): Scope {
  return linkScope(deps, session);
}

/** Sign-out: the session ends for good. */
export async function endSession(deps: Deps, session: DashboardSession): Promise<void> {
  await runWrite({
    scope: sessionScope(deps, session),
    operation: 'dashboardSignOut',
    input: {},
    plan: async (at) => {
      const [current] = await readRows<{ endedAt: Date | null }>(sqlPool(deps.db), 'flint_dashboard_session', 'SELECT "endedAt" FROM "DashboardSession" WHERE "id" = $1', [session.id]);
      // Ended already: nothing changes and nothing is recorded.
      if (!current || current.endedAt) return ok({ result: null, write: { entries: [] } });
      return ok({
        result: null,
        write: {
          guards: [{ table: 'DashboardSession', id: session.id, match: { endedAt: null } }],
          ops: [{ kind: 'update', table: 'DashboardSession', rows: [{ id: session.id, endedAt: at }] }],
          entries: [DashboardActivities.signedOut({ id: session.id, endedAt: null }, { id: session.id, endedAt: at })],
        },
      });
    },
  });
}
