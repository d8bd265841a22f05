// A tiny "browser": a cookie jar, an HTML form reader and a driver that walks the server's
// real pages (/authorize → /login → consent → redirect URI) by posting the forms it serves.
// Redirects are followed by hand (redirect: 'manual') so every hop can be inspected; a hop
// that leaves the server's origin is the end of the walk and is never fetched.

import assert from 'node:assert/strict';
import { pkcePair, randomState } from './oauth.mjs';

/** A fetch failure with its real cause and the server's log tail (e.g. when it crashed). */
export function networkError(what, e, server) {
  const cause = e.cause ? `${e.cause.code ?? ''} ${e.cause.message ?? ''}`.trim() : e.message;
  const exit = server?.exit ? ` server exited: ${JSON.stringify(server.exit)}` : '';
  return new Error(`${what} failed: ${cause}${exit}\n${server?.logs ? server.logs(2000) : ''}`, { cause: e });
}

const NAMED_ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function unescapeHtml(s) {
  return s.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (all, ent) => {
    if (ent[0] === '#') {
      const cp = ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      try { return String.fromCodePoint(cp); } catch { return all; }
    }
    const v = NAMED_ENTITIES[ent.toLowerCase()];
    return v === undefined ? all : v;
  });
}

/** Attributes of one start tag's attribute text → {name: unescaped value} (lower-case names). */
export function parseAttrs(text) {
  const attrs = {};
  const re = /([^\s"'<>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (const m of text.matchAll(re)) {
    const name = m[1].toLowerCase();
    if (name in attrs) continue; // HTML: the first occurrence wins
    const raw = m[2] ?? m[3] ?? m[4] ?? '';
    attrs[name] = unescapeHtml(raw);
  }
  return attrs;
}

/**
 * Every <form> of a page: {method, action, attrs, hidden: [[name, value]...], inputs: [attrs],
 * buttons: [attrs]}.
 */
export function parseForms(html) {
  const forms = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form\s*>/gi)) {
    const attrs = parseAttrs(m[1]);
    const inputs = [];
    const buttons = [];
    for (const t of m[2].matchAll(/<(input|button)\b([^>]*)>/gi)) {
      const a = parseAttrs(t[2]);
      if (t[1].toLowerCase() === 'button') buttons.push(a);
      else inputs.push(a);
    }
    const hidden = inputs
      .filter((a) => (a.type || '').toLowerCase() === 'hidden' && a.name !== undefined)
      .map((a) => [a.name, a.value ?? '']);
    forms.push({ method: (attrs.method || 'get').toLowerCase(), action: attrs.action ?? '', attrs, inputs, buttons, hidden });
  }
  return forms;
}

/** The POST form whose action resolves to `pathname` (relative to `pageUrl`), or undefined. */
export function findForm(html, pageUrl, pathname) {
  return parseForms(html).find(
    (f) => f.method === 'post' && new URL(f.action || pageUrl.href, pageUrl).pathname === pathname,
  );
}

/** Visible text of a page (tags stripped, entities decoded, whitespace collapsed). */
export function pageText(html) {
  return unescapeHtml(
    html
      .replace(/<script\b[\s\S]*?<\/script>/gi, ' ')
      .replace(/<style\b[\s\S]*?<\/style>/gi, ' ')
      .replace(/<[^>]+>/g, ' '),
  ).replace(/\s+/g, ' ').trim();
}

/** One Set-Cookie header → {name, value, attrs: {lower-case name: value|true}}. */
export function parseSetCookie(header) {
  const [pair, ...rest] = header.split(';');
  const eq = pair.indexOf('=');
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  const attrs = {};
  for (const part of rest) {
    const i = part.indexOf('=');
    const k = (i < 0 ? part : part.slice(0, i)).trim().toLowerCase();
    if (!k) continue;
    attrs[k] = i < 0 ? true : part.slice(i + 1).trim();
  }
  return { name, value, attrs, raw: header };
}

export class CookieJar {
  constructor() {
    this.cookies = new Map(); // name|path -> {name, value, path}
    this.log = []; // every Set-Cookie seen: {url, name, value, attrs, raw}
  }

  store(res, url) {
    const list = typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie() : [];
    for (const header of list) {
      const c = parseSetCookie(header);
      if (!c.name) continue;
      this.log.push({ url: url.href, ...c });
      let cpath = typeof c.attrs.path === 'string' && c.attrs.path.startsWith('/') ? c.attrs.path : null;
      if (!cpath) {
        // RFC 6265 §5.1.4 default-path
        const p = url.pathname;
        cpath = p.lastIndexOf('/') > 0 ? p.slice(0, p.lastIndexOf('/')) : '/';
      }
      const key = `${c.name}|${cpath}`;
      const maxAge = c.attrs['max-age'] !== undefined ? Number(c.attrs['max-age']) : undefined;
      const expires = typeof c.attrs.expires === 'string' ? Date.parse(c.attrs.expires) : undefined;
      const expired = (maxAge !== undefined && maxAge <= 0) || (maxAge === undefined && expires !== undefined && expires <= Date.now());
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name: c.name, value: c.value, path: cpath });
    }
  }

  header(url) {
    const matching = [...this.cookies.values()].filter((c) => {
      const p = url.pathname;
      return p === c.path || (p.startsWith(c.path) && (c.path.endsWith('/') || p[c.path.length] === '/'));
    });
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  get(name) {
    for (const c of this.cookies.values()) if (c.name === name) return c.value;
    return undefined;
  }

  /** The last Set-Cookie seen for `name` (parsed), or undefined. */
  lastSet(name) {
    for (let i = this.log.length - 1; i >= 0; i--) if (this.log[i].name === name) return this.log[i];
    return undefined;
  }
}

/** A cookie-keeping user agent bound to one server. */
export class Browser {
  constructor(server) {
    this.server = server;
    this.base = new URL(server.url);
    this.jar = new CookieJar();
    this.trace = [];
  }

  /**
   * One request, no redirect following. `form` (object or [[k, v]...]) is sent as
   * application/x-www-form-urlencoded with an Origin header, as a browser posting a form would.
   */
  async request(url, { method, form, headers = {} } = {}) {
    const u = new URL(url, this.base);
    const h = new Headers(headers);
    const cookie = this.jar.header(u);
    if (cookie) h.set('cookie', cookie);
    let body;
    if (form !== undefined) {
      body = new URLSearchParams(form).toString();
      h.set('content-type', 'application/x-www-form-urlencoded');
      if (!h.has('origin')) h.set('origin', this.base.origin);
    }
    const m = method || (form !== undefined ? 'POST' : 'GET');
    let res;
    try {
      res = await fetch(u, { method: m, headers: h, body, redirect: 'manual' });
    } catch (e) {
      throw networkError(`${m} ${u.pathname}`, e, this.server);
    }
    this.jar.store(res, u);
    const text = await res.text();
    const loc = res.headers.get('location');
    const page = {
      method: m,
      url: u,
      status: res.status,
      headers: res.headers,
      text,
      location: loc === null ? null : new URL(loc, u),
    };
    this.trace.push(`${m} ${u.pathname}${u.search.length > 120 ? u.search.slice(0, 120) + '…' : u.search} → ${res.status}${loc ? ` Location: ${loc.length > 160 ? loc.slice(0, 160) + '…' : loc}` : ''}`);
    return page;
  }

  get(url, opts) { return this.request(url, { ...opts, method: 'GET' }); }

  /** Posts a parsed form: its hidden inputs + `fields`, to its resolved action. */
  submit(page, form, fields = {}, { dropHidden = [], overrideHidden = {} } = {}) {
    const pairs = form.hidden
      .filter(([n]) => !dropHidden.includes(n))
      .map(([n, v]) => [n, n in overrideHidden ? overrideHidden[n] : v]);
    for (const [k, v] of Object.entries(fields)) pairs.push([k, v]);
    const action = new URL(form.action || page.url.href, page.url);
    return this.request(action, { method: 'POST', form: pairs });
  }

  isOnServer(u) { return u.origin === this.base.origin; }

  /** Logs in through GET /login (optionally ?continue=...). Returns the POST's page. */
  async login(email, password, { continueTo } = {}) {
    const loginUrl = new URL('/login', this.base);
    if (continueTo) loginUrl.searchParams.set('continue', continueTo);
    const page = await this.get(loginUrl);
    const form = findForm(page.text, page.url, '/login');
    if (!form) throw new Error(`GET ${loginUrl.pathname} (${page.status}) has no <form method=post action=/login>\n${page.text.slice(0, 2000)}`);
    return this.submit(page, form, { username: email, password });
  }

  traceText() { return this.trace.join('\n'); }
}

export function classifyPage(page) {
  const login = findForm(page.text, page.url, '/login');
  if (login) return { kind: 'login', form: login };
  const consent = findForm(page.text, page.url, '/authorize');
  if (consent && consent.buttons.some((b) => b.name === 'decision')) return { kind: 'consent', form: consent };
  const signup = findForm(page.text, page.url, '/signup');
  if (signup) return { kind: 'signup', form: signup };
  return { kind: 'other', form: undefined };
}

/** Builds issuer/authorize?… from named parameters (undefined ones are left out). */
export function authorizeUrl(server, { clientId, redirectUri, scope, state, codeChallenge, codeChallengeMethod = codeChallenge ? 'S256' : undefined, responseType = 'code', extraParams = {} }) {
  const u = new URL('/authorize', server.url);
  const params = {
    client_id: clientId,
    response_type: responseType,
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: codeChallenge,
    code_challenge_method: codeChallengeMethod,
    ...extraParams,
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.searchParams.set(k, v);
  return u;
}

/**
 * Walks an authorization request as a person would: follows same-origin redirects, logs in
 * when shown the login form (if email/password are given), answers the consent page with
 * `decision` ('allow' | 'deny' | null to stop there), and stops at the first redirect that
 * leaves the server. Returns {code, state, iss, error, error_description, location, params,
 * page, stoppedAt, loginShown, consentShown, browser}; `stoppedAt` is 'redirect' when the
 * walk reached the client's redirect URI, otherwise 'login' | 'consent' | 'signup' | 'other'
 * (then `page` holds the last page: status, headers, text).
 */
export async function authorizeInBrowser({
  server,
  browser = new Browser(server),
  url,
  clientId,
  redirectUri,
  scope,
  state,
  codeChallenge,
  codeChallengeMethod,
  responseType,
  email,
  password,
  decision = 'allow',
  extraParams,
  maxSteps = 12,
}) {
  const start = url
    ? new URL(url)
    : authorizeUrl(server, { clientId, redirectUri, scope, state, codeChallenge, codeChallengeMethod, responseType, extraParams });
  const result = { browser, loginShown: false, consentShown: false, consentPage: undefined, loginResponse: undefined };
  let page = await browser.get(start);
  let loggedIn = false;
  for (let step = 0; step < maxSteps; step++) {
    if (page.status >= 300 && page.status < 400 && page.location) {
      if (!browser.isOnServer(page.location)) {
        const p = page.location.searchParams;
        return Object.assign(result, {
          stoppedAt: 'redirect',
          page,
          location: page.location.href,
          params: p,
          code: p.get('code') ?? undefined,
          state: p.get('state') ?? undefined,
          iss: p.get('iss') ?? undefined,
          error: p.get('error') ?? undefined,
          error_description: p.get('error_description') ?? undefined,
        });
      }
      page = await browser.get(page.location);
      continue;
    }
    const { kind, form } = classifyPage(page);
    if (kind === 'login') {
      result.loginShown = true;
      if (!email || loggedIn) return Object.assign(result, { stoppedAt: 'login', page });
      loggedIn = true;
      page = await browser.submit(page, form, { username: email, password });
      result.loginResponse = page;
      continue;
    }
    if (kind === 'consent') {
      result.consentShown = true;
      result.consentPage = page;
      if (!decision) return Object.assign(result, { stoppedAt: 'consent', page, form });
      page = await browser.submit(page, form, { decision });
      continue;
    }
    return Object.assign(result, { stoppedAt: kind, page });
  }
  throw new Error(`authorize walk did not finish in ${maxSteps} steps:\n${browser.traceText()}`);
}

/**
 * Walks /authorize as `user` on `browser` (signing in and consenting when asked), asserts it
 * reached the redirect URI with a code, and returns {code, verifier, challenge, state,
 * redirectUri, iss}. `pkce: false` sends no challenge.
 */
export async function authorizeForCode(server, { browser, user, client, scope = 'user-read-private', redirectUri, pkce = true }) {
  const pk = pkce ? pkcePair() : undefined;
  const state = randomState();
  const r = await authorizeInBrowser({
    server, browser, clientId: client.client_id, redirectUri, scope, state, codeChallenge: pk?.challenge,
    email: user.email, password: user.password,
  });
  assert.equal(r.stoppedAt, 'redirect', `authorize did not reach the redirect URI:\n${browser.traceText()}\n${r.page?.text?.slice(0, 800) ?? ''}`);
  assert.ok(r.code, `authorize answered no code: ${r.location}`);
  return { code: r.code, verifier: pk?.verifier, challenge: pk?.challenge, state, redirectUri, iss: r.iss };
}
