// The merchant dashboard under /dashboard: sign-in with a one-time link, the order list and chart, one
// order's page with refund by line, sign-out, its own assets, and /dashboard/graphql for the page's
// live updates.
//
// Authentication is the session cookie only (HttpOnly, SameSite=Strict, Path=/dashboard, Secure over
// https); no API key ever reaches the browser. Every POST must come from this origin (Origin header)
// and carry the session's CSRF token. /dashboard/graphql takes the cookie, never an Authorization
// header, only from this origin, and runs queries and subscriptions only: a session cannot mint keys
// or links. Refunds go through the same use cases as the API (previewRefund, createRefund with an
// idempotency key per confirmation form), so the arithmetic and the audit trail are the API's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { GraphQLError, getOperationAST } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import type { Deps } from '../kernel/context.js';
import { createRefund, previewRefund } from '../refunds/index.js';
import { userError, type UserError } from '../kernel/errors.js';
import { schema } from '../graphql/schema.js';
import type { SubscriptionHub } from '../realtime/hub.js';
import { useSharedSubscriptionExecution } from '../realtime/shared-execution.js';
import { publicUrlOf } from '../payments/index.js';
import { useSessionBoundSubscriptions, type DashboardContext } from './live.js';
import { DASHBOARD_CSS, DASHBOARD_ICON, DASHBOARD_JS } from './assets.js';
import { html, money, SECURITY_HEADERS, sendPage } from './html.js';
import { loadOrder, REFUND_REASONS, renderOrderPage, type DashboardRefundReason, type OrderPageState, type RefundRequest } from './order-page.js';
import { parseSearch, renderOrdersPage } from './orders-page.js';
import { clearedCookie, cookieOf, isHttps, isSameOrigin, readForm, sessionCookie } from './request.js';
import { endSession, findSession, inspectLink, redeemLink, sessionScope, SIGN_IN_PATH, type DashboardSession, type LinkProblem } from './sessions.js';

const ASSETS: Record<string, { type: string; body: string }> = {
  '/dashboard/assets/dashboard.js': { type: 'text/javascript; charset=utf-8', body: DASHBOARD_JS },
  '/dashboard/assets/dashboard.css': { type: 'text/css; charset=utf-8', body: DASHBOARD_CSS },
  '/dashboard/assets/favicon.svg': { type: 'image/svg+xml', body: DASHBOARD_ICON },
};

const NEW_LINK = 'Create a new sign-in link with the createDashboardLink mutation (with an API key of this merchant), then open it here.';

const LINK_PROBLEMS: Record<LinkProblem, string> = {
  unknown: 'This sign-in link is not valid.',
  used: 'This sign-in link was already used. Each link signs in once.',
  expired: 'This sign-in link has expired.',
  revoked: 'The API key that made this sign-in link was revoked.',
};

function linkProblemPage(res: ServerResponse, problem: LinkProblem): void {
  sendPage(res, { title: 'Sign-in link not usable', status: problem === 'unknown' ? 404 : 410 }, html`<h1>Sign-in link not usable</h1>
<p class="error" id="link-problem" data-problem="${problem}">${LINK_PROBLEMS[problem]}</p><p>${NEW_LINK}</p>`);
}

function signedOutPage(res: ServerResponse, status: number, secure: boolean): void {
  sendPage(res, { title: 'Signed out', status, headers: { 'set-cookie': clearedCookie(secure) } }, html`<h1>You are not signed in</h1>
<p id="signed-out">Your dashboard session has ended, or you have not signed in in this browser.</p><p>${NEW_LINK}</p>`);
}

function forbidden(res: ServerResponse, message: string): void {
  sendPage(res, { title: 'Forbidden', status: 403 }, html`<h1>Request refused</h1><p class="error" id="forbidden">${message}</p>`);
}

function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  res.writeHead(303, { location, 'cache-control': 'no-store', ...headers }).end();
}

function sameToken(a: string | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The refund a form describes (quantities named qty:<lineItemId>; zero quantities left out), or what is wrong with it. */
function refundRequestOf(form: URLSearchParams): RefundRequest | UserError {
  const paymentIntentId = form.get('paymentIntentId') ?? '';
  const reason = form.get('reason') ?? '';
  if (!REFUND_REASONS.some(([value]) => value === reason)) return userError('INVALID_INPUT', 'Choose a reason for the refund.', ['reason']);
  const lines: RefundRequest['lines'] = [];
  for (const [name, value] of form) {
    if (!name.startsWith('qty:')) continue;
    const quantity = Number(value.trim() || '0');
    if (!Number.isInteger(quantity) || quantity < 0) return userError('INVALID_INPUT', `Units to refund must be whole numbers of 0 or more (got "${value}").`, [name]);
    if (quantity > 0) lines.push({ lineItemId: name.slice(4), quantity });
  }
  if (lines.length === 0) return userError('INVALID_INPUT', 'Enter how many units of at least one line to refund.', ['lineItems']);
  return { paymentIntentId, lines, reason: reason as DashboardRefundReason };
}

/** Queries and subscriptions only: the dashboard endpoint never runs a mutation. */
function readOnlyOperations(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation === 'mutation') {
        setResultAndStopExecution({
          errors: [new GraphQLError('The dashboard endpoint runs queries and subscriptions only; call mutations on /graphql with an API key.', { extensions: { code: 'FORBIDDEN' } })],
        });
      }
    },
  };
}

function dashboardYoga(deps: Deps, hub: SubscriptionHub) {
  return createYoga<Record<string, unknown>, DashboardContext>({
    schema,
    graphqlEndpoint: '/dashboard/graphql',
    graphiql: false,
    landingPage: false,
    maskedErrors: true,
    plugins: [useSharedSubscriptionExecution(), readOnlyOperations(), useSessionBoundSubscriptions(deps)],
    context: async ({ request }): Promise<DashboardContext> => {
      const cookieSecret = cookieOf(request.headers.get('cookie'));
      const session = await findSession(deps, cookieSecret);
      const realtime = { hub, connection: request };
      if (!session) return { deps, principal: null, authProblem: 'Sign in to the dashboard first: open a link from createDashboardLink.', realtime };
      const principal = { merchantId: session.merchantId, livemode: session.livemode, apiKeyId: session.apiKeyId, apiKeyPrefix: session.apiKeyPrefix };
      return { deps, principal, authProblem: null, realtime, dashboard: { cookieSecret: cookieSecret!, expiresAt: session.expiresAt } };
    },
  });
}

async function signIn(req: IncomingMessage, res: ServerResponse, deps: Deps, token: string): Promise<void> {
  if (req.method === 'POST') {
    if (!isSameOrigin(req, publicUrlOf(deps))) return forbidden(res, 'Sign in from the sign-in page of this site.');
    const result = await redeemLink(deps, token);
    if ('problem' in result) return linkProblemPage(res, result.problem);
    // A browser holds one session: the one this browser had before ends now.
    const previous = await findSession(deps, cookieOf(req.headers.cookie));
    if (previous) await endSession(deps, previous);
    return redirect(res, '/dashboard', { 'set-cookie': sessionCookie(result.secret, result.expiresAt, isHttps(req, publicUrlOf(deps))) });
  }
  // GET only shows the link: link scanners and previews never spend it.
  const inspected = await inspectLink(deps, token);
  if ('problem' in inspected) return linkProblemPage(res, inspected.problem);
  const { link } = inspected;
  sendPage(res, { title: 'Sign in to the dashboard' }, html`<h1>Sign in to ${link.merchantName}</h1>
<p>You are signing in to the <strong id="link-mode">${link.livemode ? 'live' : 'test'}</strong> mode dashboard. This link works once, until ${link.expiresAt.toISOString()}.</p>
<form method="post" action="${SIGN_IN_PATH}${token}"><button type="submit" id="sign-in">Sign in</button></form>`);
}

async function orderPage(res: ServerResponse, deps: Deps, session: DashboardSession, orderId: string, state: OrderPageState, status = 200): Promise<void> {
  const order = await loadOrder(deps, session, orderId);
  if (!order) {
    sendPage(res, { title: 'Order not found', session, status: 404 }, html`<h1>Order not found</h1>
<p id="not-found">There is no order ${orderId} in this dashboard (${session.livemode ? 'live' : 'test'} mode).</p><p><a href="/dashboard">Back to the orders</a></p>`);
    return;
  }
  sendPage(res, { title: `Order ${order.id}`, session, status, mainAttributes: html`data-subscribe="order" data-order-id="${order.id}" data-refresh-url="/dashboard/orders/${order.id}"` }, renderOrderPage(order, session, state));
}

/** POST .../refund-preview (show what would happen) and POST .../refunds (do it). */
async function refundAction(req: IncomingMessage, res: ServerResponse, deps: Deps, session: DashboardSession, orderId: string, confirm: boolean): Promise<void> {
  const form = await readForm(req);
  if (!sameToken(form.get('csrf'), session.csrfToken)) return forbidden(res, 'This form is out of date or did not come from the dashboard. Reload the page and try again.');
  const order = await loadOrder(deps, session, orderId);
  if (!order) return orderPage(res, deps, session, orderId, {});
  const request = refundRequestOf(form);
  if ('code' in request) return orderPage(res, deps, session, orderId, { errors: [request] }, 422);
  if (!order.paymentIntents.some((p) => p.id === request.paymentIntentId)) {
    return orderPage(res, deps, session, orderId, { errors: [userError('NOT_FOUND', `Payment ${request.paymentIntentId} is not a payment of this order.`, ['paymentIntentId'])] }, 422);
  }
  const scope = sessionScope(deps, session);
  const input = { paymentIntentId: request.paymentIntentId, lineItems: request.lines, amountMoney: null };
  if (!confirm) {
    const result = await previewRefund(scope, input);
    if (result.userErrors.length > 0) return orderPage(res, deps, session, orderId, { errors: result.userErrors, preview: null }, 422);
    return orderPage(res, deps, session, orderId, { preview: { request, result, nonce: randomBytes(16).toString('hex') } });
  }
  const nonce = (form.get('nonce') ?? '').replace(/[^0-9a-f]/g, '').slice(0, 32);
  if (nonce.length !== 32) return forbidden(res, 'This confirmation form is incomplete. Preview the refund again.');
  // One key per rendered confirmation: a double submit or a retry refunds once.
  const result = await createRefund(scope, { ...input, reason: request.reason, idempotencyKey: `dashboard_${session.id}_${nonce}` });
  if (result.userErrors.length > 0 || !result.refundId) return orderPage(res, deps, session, orderId, { errors: result.userErrors }, 422);
  redirect(res, `/dashboard/orders/${orderId}?refund=${result.refundId}`);
}

async function refundNotice(deps: Deps, session: DashboardSession, refundId: string | null): Promise<string | null> {
  if (!refundId) return null;
  const refund = await deps.db.refund.findFirst({ where: { id: refundId, merchantId: session.merchantId, livemode: session.livemode } });
  if (!refund) return null;
  return `Refund ${refund.id} ${refund.status}: ${money(refund.amount, refund.currency)} (tax ${money(refund.taxAmount, refund.currency)}).`;
}

/** The dashboard's request handler; answers true for the requests it owns (everything under /dashboard). */
export function dashboardHandler(deps: Deps, hub: SubscriptionHub): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const yoga = dashboardYoga(deps, hub);
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path !== '/dashboard' && !path.startsWith('/dashboard/')) return false;
    const publicUrl = publicUrlOf(deps);

    const asset = ASSETS[path];
    if (asset) {
      res.writeHead(200, { 'content-type': asset.type, ...SECURITY_HEADERS, 'cache-control': 'no-cache' }).end(asset.body);
      return true;
    }
    if (path.startsWith(SIGN_IN_PATH)) {
      await signIn(req, res, deps, path.slice(SIGN_IN_PATH.length));
      return true;
    }
    if (path === '/dashboard/graphql') {
      if (!isSameOrigin(req, publicUrl)) {
        res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'The dashboard endpoint answers pages of this origin only.' }] }));
        return true;
      }
      await yoga.handle(req, res);
      return true;
    }
    if (req.method === 'POST' && !isSameOrigin(req, publicUrl)) {
      forbidden(res, 'This request did not come from a dashboard page of this site.');
      return true;
    }

    const session = await findSession(deps, cookieOf(req.headers.cookie));
    if (path === '/dashboard/sign-out') {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return true;
      }
      if (session) {
        const form = await readForm(req);
        if (!sameToken(form.get('csrf'), session.csrfToken)) {
          forbidden(res, 'This form did not come from the dashboard. Reload the page and try again.');
          return true;
        }
        await endSession(deps, session);
      }
      redirect(res, '/dashboard/signed-out', { 'set-cookie': clearedCookie(isHttps(req, publicUrl)) });
      return true;
    }
    if (!session || path === '/dashboard/signed-out') {
      signedOutPage(res, path === '/dashboard/signed-out' ? 200 : 401, isHttps(req, publicUrl));
      return true;
    }
    if (path === '/dashboard' || path === '/dashboard/') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET' }).end();
        return true;
      }
      const body = await renderOrdersPage(deps, session, parseSearch(url.searchParams));
      sendPage(res, { title: `${session.merchantName} — orders`, session, mainAttributes: html`data-subscribe="orders"` }, body);
      return true;
    }
    const match = /^\/dashboard\/orders\/([A-Za-z0-9_]{1,64})(\/refund-preview|\/refunds)?$/.exec(path);
    if (match) {
      const orderId = match[1]!;
      if (!match[2]) {
        await orderPage(res, deps, session, orderId, { notice: await refundNotice(deps, session, url.searchParams.get('refund')) });
      } else if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
      } else {
        await refundAction(req, res, deps, session, orderId, match[2] === '/refunds');
      }
      return true;
    }
    sendPage(res, { title: 'Not found', session, status: 404 }, html`<h1>Not found</h1><p><a href="/dashboard">Back to the orders</a></p>`);
    return true;
  };
}
