// What the dashboard reads from a request: its session cookie, whether it comes from this origin
// (CSRF defence next to SameSite=Strict), and form bodies.
import type { IncomingMessage } from 'node:http';
import { readBody } from '../http/route.js';

export const COOKIE_NAME = 'flint_dashboard';
export const COOKIE_PATH = '/dashboard';

export function cookieOf(header: string | null | undefined, name = COOKIE_NAME): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/** Served over https: TLS here, or a proxy in front says so. (Only ever adds Secure to the cookie.) */
export function isHttps(req: IncomingMessage, publicUrl: string): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  const forwarded = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim();
  return forwarded === 'https' || publicUrl.startsWith('https:');
}

export function sessionCookie(value: string, expiresAt: Date, secure: boolean): string {
  return [`${COOKIE_NAME}=${value}`, `Path=${COOKIE_PATH}`, `Expires=${expiresAt.toUTCString()}`, 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])].join('; ');
}

export function clearedCookie(secure: boolean): string {
  return [`${COOKIE_NAME}=`, `Path=${COOKIE_PATH}`, 'Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'Max-Age=0', 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])].join(
    '; ',
  );
}

/**
 * Whether the request comes from a page of this origin. A POST must carry an Origin header naming this
 * host (or the public URL's origin); any request whose Sec-Fetch-Site says another site is refused.
 */
export function isSameOrigin(req: IncomingMessage, publicUrl: string): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return req.method === 'GET' || req.method === 'HEAD';
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  if (host === req.headers.host) return true;
  try {
    return new URL(publicUrl).host === host;
  } catch {
    return false;
  }
}

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const body = await readBody(req, 64 * 1024);
  return new URLSearchParams(body?.toString('utf8') ?? '');
}
