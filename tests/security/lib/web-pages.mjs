// Helpers shared by the web-*.test.mjs attacks on the server-rendered pages: reading the forms
// and cookies a page serves, and posting a form the way a browser (or a forger) would.
import { Browser, findForm, pageText } from '../../e2e/lib/server.mjs';

/** The hidden fields of the POST form with action `action` on `page`, as a Map. */
export function hiddenOf(page, action) {
  const form = findForm(page.text, page.url, action);
  if (!form) throw new Error(`${page.method} ${page.url.pathname} (${page.status}) has no form for ${action}:\n${pageText(page.text).slice(0, 600)}`);
  return new Map(form.hidden);
}

/** GET `path`, then POST its form for `action` with `fields` (hidden fields included). */
export async function getAndSubmit(browser, path, action, fields = {}) {
  const page = await browser.get(path);
  const form = findForm(page.text, page.url, action);
  if (!form) throw new Error(`GET ${path} (${page.status}) has no form for ${action}:\n${pageText(page.text).slice(0, 600)}`);
  return browser.submit(page, form, fields);
}

/** A browser signed in as `user` ({email, password}); asserts the 303 of the sign-in. */
export async function signedIn(server, user, assert) {
  const b = new Browser(server);
  const r = await b.login(user.email, user.password);
  assert.equal(r.status, 303, `sign-in of ${user.email}: HTTP ${r.status}\n${pageText(r.text).slice(0, 300)}`);
  return b;
}

/** Every Set-Cookie header of a response, raw. */
export function setCookies(page) {
  return typeof page.headers.getSetCookie === 'function' ? page.headers.getSetCookie() : [];
}

/** The value of cookie `name` set by this response (undefined when it set none). */
export function cookieSetBy(page, name) {
  for (const raw of setCookies(page)) {
    const eq = raw.indexOf('=');
    if (raw.slice(0, eq).trim() === name) return raw.slice(eq + 1).split(';')[0];
  }
  return undefined;
}
