// HTML for the dashboard: escaping, the page frame (header, mode badge, sign-out) and the response
// headers every dashboard page carries: no caching, no framing, no referrer, and a Content-Security-Policy
// that allows only this origin's own script and stylesheet (no inline script, no inline style).
import type { ServerResponse } from 'node:http';
import { formatMoney } from '../pricing/index.js';
import type { DashboardSession } from './sessions.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Tagged template: interpolated values are escaped unless wrapped in raw(). */
export interface Raw {
  readonly html: string;
}
export const raw = (html: string): Raw => ({ html });

type Value = string | number | bigint | null | undefined | false | Raw | Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (typeof value === 'object') return value.html;
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Raw {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return raw(out);
}

export const money = (amount: bigint, currency: string) => formatMoney(amount, currency);

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on the dashboard's own form posts.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

export interface PageOptions {
  title: string;
  session?: DashboardSession | null;
  /** Attributes of <main> (the live-update script reads data-subscribe / data-order-id). */
  mainAttributes?: Raw;
  status?: number;
  headers?: Record<string, string | string[]>;
}

export function sendPage(res: ServerResponse, options: PageOptions, body: Raw): void {
  const { session } = options;
  const header = session
    ? html`<header class="top">
  <a class="brand" href="/dashboard">${session.merchantName}</a>
  <span class="mode ${session.livemode ? 'live' : 'test'}" id="mode">${session.livemode ? 'Live mode' : 'Test mode'}</span>
  <nav><a href="/dashboard">Orders</a></nav>
  <span class="live-status" id="live-status" data-state="off"></span>
  <form method="post" action="/dashboard/sign-out" class="sign-out">
    <input type="hidden" name="csrf" value="${session.csrfToken}">
    <button type="submit" id="sign-out">Sign out</button>
  </form>
</header>`
    : html`<header class="top"><span class="brand">Flint dashboard</span></header>`;
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title}</title>
<link rel="icon" href="/dashboard/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
<script src="/dashboard/assets/dashboard.js" defer></script>
</head>
<body>${header}<main ${options.mainAttributes ?? raw('')}>${body}</main></body></html>`;
  res.writeHead(options.status ?? 200, { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS, ...options.headers }).end(page.html);
}

export function formatDate(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
