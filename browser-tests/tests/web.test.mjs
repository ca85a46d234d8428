// The web page of `shomei serve --demo` in Debian's Chromium (playwright-core): sign-in
// with password + TOTP, upload of two PDFs and an XML file, approval, downloads; the
// refusals a signer meets (wrong code, file too large, encrypted PDF, expired session,
// another user's document); screenshots of every screen in Japanese and English.
// Started by tests/conformance/browser.sh, which sets the environment below and judges
// the downloaded files with the kit's validators afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run tests/conformance/browser.sh)`);
  return v;
};
const BASE = env('SHOMEI_BASE');               // http://localhost:PORT
const DEMO = JSON.parse(fs.readFileSync(env('SHOMEI_DEMO_JSON'), 'utf8'));
const OUT = env('BROWSER_OUT');
const SHOTS = path.join(OUT, 'screenshots');
const DOWNLOADS = path.join(OUT, 'downloads');
const FILES = {
  pdf1: env('PDF_ONE'), pdf2: env('PDF_TWO'), xml: env('XML_ONE'),
  encrypted: env('PDF_ENCRYPTED'), big: env('PDF_BIG'),
};
const BOB = { user: env('BOB_USER'), password: env('BOB_PASSWORD'), secret: env('BOB_TOTP') };
const IDLE_SECONDS = Number(env('SESSION_IDLE_SECONDS'));
fs.mkdirSync(SHOTS, { recursive: true });
fs.mkdirSync(DOWNLOADS, { recursive: true });

// RFC 6238 (SHA-1, 6 digits, 30 s), computed here. The service takes each step once and
// only steps later than the last one used, within one step of its clock.
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = ''; for (const c of text.replace(/=+$/, '')) bits += alphabet.indexOf(c.toUpperCase()).toString(2).padStart(5, '0');
  const out = []; for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}
function totpAt(secret, step) {
  const msg = Buffer.alloc(8); msg.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', base32(secret)).update(msg).digest();
  const o = mac[19] & 15;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}
const lastStep = new Map();
async function totp(secret) {
  for (;;) {
    const now = Math.floor(Date.now() / 1000 / 30);
    const step = Math.max(now, (lastStep.get(secret) || 0) + 1);
    if (step <= now + 1) { lastStep.set(secret, step); return totpAt(secret, step); }
    await new Promise((r) => setTimeout(r, 30000 - (Date.now() % 30000) + 200));
  }
}
function wrongCode(secret) {
  const now = Math.floor(Date.now() / 1000 / 30);
  const near = new Set([-2, -1, 0, 1, 2].map((d) => totpAt(secret, now + d)));
  for (let n = 0; ; n++) { const c = String(n).padStart(6, '0'); if (!near.has(c)) return c; }
}

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true });
});
after(async () => { if (browser) await browser.close(); });

async function newPage(locale) {
  const context = await browser.newContext({ locale, timezoneId: 'Asia/Tokyo', acceptDownloads: true,
    viewport: { width: 1000, height: 900 } });
  const page = await context.newPage();
  return { context, page };
}

// Screenshots of the current screen in both languages (the page's own switch).
async function shots(page, name) {
  // In the approval dialog the header is behind the modal: the dialog has its own switch.
  const toggle = (await page.isVisible('#approve-dialog[open]')) ? '#approve-lang' : '#lang';
  const lang = await page.evaluate(() => document.documentElement.lang);
  await page.screenshot({ path: path.join(SHOTS, `${name}-${lang}.png`), fullPage: true });
  await page.click(toggle);
  const other = await page.evaluate(() => document.documentElement.lang);
  assert.notEqual(other, lang, 'the language switch changes the language');
  await page.screenshot({ path: path.join(SHOTS, `${name}-${other}.png`), fullPage: true });
  await page.click(toggle);
}

async function signIn(page, who, code) {
  await page.fill('#signin-user', who.user);
  await page.fill('#signin-password', who.password);
  await page.fill('#signin-otp', code);
  await page.click('#signin-form button[type=submit]');
}

async function message(page) {
  // An error, not the "uploading…" note.
  await page.waitForSelector('#message:not([hidden]):not(.info)');
  return (await page.textContent('#message')).trim();
}

const demo = { user: DEMO.user, password: DEMO.password, secret: DEMO.totp_secret };
const signed = {};

test('the page follows the browser language, ja and en', async () => {
  for (const [locale, heading] of [['ja-JP', 'サインイン'], ['en-US', 'Sign in']]) {
    const { context, page } = await newPage(locale);
    const response = await page.goto(BASE);
    assert.equal(response.status(), 200);
    const csp = response.headers()['content-security-policy'];
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(response.headers()['x-content-type-options'], 'nosniff');
    assert.equal((await page.textContent('#signin-h')).trim(), heading);
    await page.screenshot({ path: path.join(SHOTS, `signin-${locale.slice(0, 2)}.png`), fullPage: true });
    await context.close();
  }
});

test('a wrong one-time code is refused with a clear message', async () => {
  for (const [locale, text] of [['en-US', 'one-time code is wrong'], ['ja-JP', 'ワンタイムコードが違います']]) {
    const { context, page } = await newPage(locale);
    await page.goto(BASE);
    await signIn(page, demo, wrongCode(demo.secret));
    assert.match(await message(page), new RegExp(text));
    assert.equal(await page.isVisible('#view-signin'), true);
    await page.screenshot({ path: path.join(SHOTS, `wrong-otp-${locale.slice(0, 2)}.png`), fullPage: true });
    await context.close();
  }
});

test('sign in, upload two PDFs and an XML file, approve, download', async () => {
  const { context, page } = await newPage('en-US');
  await page.goto(BASE);
  await signIn(page, demo, await totp(demo.secret));
  await page.waitForSelector('#view-upload:not([hidden])');
  assert.match(await page.textContent('#who'), new RegExp(demo.user));
  // Keyboard: the drop zone is reachable and the file input takes the three files.
  await page.setInputFiles('#files', [FILES.pdf1, FILES.pdf2, FILES.xml]);
  assert.equal(await page.locator('#chosen li').count(), 3);
  await page.selectOption('#level', 'B-T');
  await page.fill('#reason', '承認 Approved');
  await page.check('#stamp-on');
  await page.fill('#stamp-text', '承認済み — Approved');
  await shots(page, 'upload');
  await page.click('#upload-btn');
  await page.waitForSelector('#view-review:not([hidden])');
  const cards = page.locator('#review-list .doc');
  assert.equal(await cards.count(), 3);
  const reviewText = await page.textContent('#review-list');
  for (const f of [FILES.pdf1, FILES.pdf2, FILES.xml]) {
    const sha = crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
    assert.ok(reviewText.includes(path.basename(f)), `review names ${f}`);
    assert.ok(reviewText.includes(sha), `review shows the SHA-256 of ${f}`);
  }
  // The first page is previewed; a click places the stamp there and the hash changes.
  const firstImg = page.locator('#review-list .doc').first().locator('img');
  await firstImg.waitFor();
  await page.waitForFunction(() => {
    const img = document.querySelector('#review-list .doc img');
    return img && img.complete && img.naturalWidth > 0;
  });
  const before = await page.evaluate(() => document.querySelectorAll('#review-list .doc .hash')[1].textContent);
  const box = await firstImg.boundingBox();
  await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.25);
  await page.waitForSelector('#message.info:not([hidden])');
  await page.waitForSelector('#review-list .doc .stamp-box');
  const after = await page.evaluate(() => document.querySelectorAll('#review-list .doc .hash')[1].textContent);
  assert.notEqual(after, before, 'placing the stamp changes the hash to be signed');
  const placed = await page.evaluate(async () => (await (await fetch('/api/v1/documents')).json()).documents
    .find((d) => d.name === '契約書.pdf' && d.state === 'prepared').stamp);
  fs.writeFileSync(path.join(OUT, 'stamp.json'), JSON.stringify(placed));
  await shots(page, 'review');
  await page.click('#approve-open');
  await page.waitForSelector('#approve-dialog[open]');
  assert.equal(await page.locator('#approve-list li').count(), 3);
  await shots(page, 'approve');
  await page.fill('#approve-pin', DEMO.pin);
  await page.fill('#approve-otp', await totp(demo.secret));
  await page.click('#approve-btn');
  await page.waitForSelector('#view-done:not([hidden])', { timeout: 60000 });
  assert.equal(await page.locator('#done-list .state-signed').count(), 3);
  await shots(page, 'done');
  const links = page.locator('#done-list a');
  assert.equal(await links.count(), 3);
  for (let i = 0; i < 3; i++) {
    const [download] = await Promise.all([page.waitForEvent('download'), links.nth(i).click()]);
    const name = download.suggestedFilename();
    assert.match(name, /\.signed\.(pdf|xml)$/);
    await download.saveAs(path.join(DOWNLOADS, name));
    signed[name] = path.join(DOWNLOADS, name);
  }
  const [zip] = await Promise.all([page.waitForEvent('download'), page.click('#download-all')]);
  assert.equal(zip.suggestedFilename(), 'signed-documents.zip');
  await zip.saveAs(path.join(DOWNLOADS, 'signed-documents.zip'));
  // The validation page judges a downloaded file.
  await page.click('#nav-validate');
  await page.setInputFiles('#validate-file', signed[path.basename(FILES.pdf1).replace(/\.pdf$/, '.signed.pdf')]);
  await page.click('#validate-form button[type=submit]');
  await page.waitForSelector('#report table');
  assert.match(await page.textContent('#report'), /TOTAL-PASSED/);
  await shots(page, 'validate');
  fs.writeFileSync(path.join(OUT, 'downloads.json'), JSON.stringify(signed));
  await context.close();
});

test('a file over the limit and an encrypted PDF are refused with clear messages', async () => {
  const { context, page } = await newPage('ja-JP');
  await page.goto(BASE);
  await signIn(page, demo, await totp(demo.secret));
  await page.waitForSelector('#view-upload:not([hidden])');
  await page.setInputFiles('#files', [FILES.big]);
  await page.click('#upload-btn');
  assert.match(await message(page), /ファイルが大きすぎます/);
  await shots(page, 'too-large');
  await page.setInputFiles('#files', [FILES.encrypted]);
  await page.click('#upload-btn');
  assert.match(await message(page), /暗号化/);
  await shots(page, 'encrypted');
  await page.setInputFiles('#files', [{ name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from('\x89PNG\r\n\x1a\nnot a document') }]);
  await page.click('#upload-btn');
  assert.match(await message(page), /PDF でも XML でもない/);
  await shots(page, 'not-a-document');
  await context.close();
});

test('an expired session sends the signer back to sign-in', async () => {
  const { context, page } = await newPage('en-US');
  await page.goto(BASE);
  await signIn(page, demo, await totp(demo.secret));
  await page.waitForSelector('#view-upload:not([hidden])');
  await page.waitForTimeout((IDLE_SECONDS + 1) * 1000);
  await page.setInputFiles('#files', [FILES.pdf1]);
  await page.click('#upload-btn');
  assert.match(await message(page), /session has expired/);
  await page.waitForSelector('#view-signin:not([hidden])');
  await shots(page, 'expired');
  await context.close();
});

test("another user's document id is answered 404", async () => {
  const ids = await (async () => {
    const { context, page } = await newPage('en-US');
    await page.goto(BASE);
    await signIn(page, demo, await totp(demo.secret));
    await page.waitForSelector('#view-upload:not([hidden])');
    const list = await page.evaluate(async () => (await (await fetch('/api/v1/documents')).json()).documents.map((d) => d.id));
    await context.close();
    return list;
  })();
  assert.ok(ids.length >= 3, 'the demo user has documents');
  const { context, page } = await newPage('en-US');
  await page.goto(BASE);
  await signIn(page, BOB, await totp(BOB.secret));
  await page.waitForSelector('#view-upload:not([hidden])');
  for (const id of ids) {
    for (const suffix of ['', '/signed']) {
      const r = await page.request.get(`${BASE}/api/v1/documents/${id}${suffix}`);
      assert.equal(r.status(), 404, `${id}${suffix}`);
      assert.equal((await r.json()).reason, 'unknown_document');
    }
  }
  const mine = await page.evaluate(async () => (await (await fetch('/api/v1/documents')).json()).documents.length);
  assert.equal(mine, 0);
  // Without the CSRF header a change is refused, even with the cookie.
  const del = await page.request.delete(`${BASE}/api/v1/documents/${ids[0]}`);
  assert.equal(del.status(), 403);
  await context.close();
});

test('passkeys: enrol, sign in with it, approve with it (bound to the hashes shown)', async () => {
  const { context, page } = await newPage('ja-JP');
  await page.goto(BASE);
  await signIn(page, demo, await totp(demo.secret));
  await page.waitForSelector('#view-upload:not([hidden])');
  // Chromium's virtual authenticator (CTAP2, user verification) for this page.
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
    protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
    hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } });
  await page.click('#passkey-add');
  await page.waitForSelector('#message.info:not([hidden])');
  assert.match(await page.textContent('#message'), /パスキーを追加しました/);
  assert.equal(await page.locator('#passkey-list li').count(), 1);
  assert.equal((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.length, 1);
  await shots(page, 'passkey-added');
  // Sign out, then sign in with the passkey alone (it verifies the user: two factors).
  await page.click('#sign-out');
  await page.waitForSelector('#view-signin:not([hidden])');
  await page.fill('#signin-user', demo.user);
  await page.click('#signin-passkey');
  await page.waitForSelector('#view-upload:not([hidden])');
  // Upload, then approve with PIN + passkey.
  await page.setInputFiles('#files', [FILES.pdf2]);
  await page.selectOption('#level', 'B-T');
  await page.click('#upload-btn');
  await page.waitForSelector('#view-review:not([hidden])');
  await page.click('#approve-open');
  await page.fill('#approve-pin', DEMO.pin);
  await page.click('#approve-passkey');
  await page.waitForSelector('#view-done:not([hidden])', { timeout: 60000 });
  assert.equal(await page.locator('#done-list .state-signed').count(), 1);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#done-list a').first().click()]);
  await download.saveAs(path.join(DOWNLOADS, 'passkey-approved.signed.pdf'));
  // A ceremony started for two documents does not approve another list: the
  // authenticator's signature is over the hashes shown.
  await page.click('#done-new');
  await page.setInputFiles('#files', [FILES.pdf1, FILES.xml]);
  await page.click('#upload-btn');
  await page.waitForSelector('#view-review:not([hidden])');
  const outcome = await page.evaluate(async (pin) => {
    const csrf = sessionStorage.getItem('shomei.csrf');
    const post = async (url, body) => {
      const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify(body) });
      return { status: r.status, body: await r.json() };
    };
    const docs = (await (await fetch('/api/v1/documents')).json()).documents.filter((d) => d.state === 'prepared').slice(0, 2);
    const list = docs.map((d) => ({ id: d.id, sha256: d.sha256, hash: d.hash }));
    const start = await post('/api/v1/documents/approve/passkey', { credential_id: docs[0].credential_id, documents: list });
    const c = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(start.body.options.publicKey) });
    const answer = await post('/api/v1/documents/approve', {
      credential_id: docs[0].credential_id, pin, passkey: { ceremony: start.body.ceremony, credential: c.toJSON() }, documents: list.slice(0, 1),
    });
    const after = (await (await fetch(`/api/v1/documents/${docs[0].id}`)).json()).state;
    return { answer, after };
  }, DEMO.pin);
  assert.equal(outcome.answer.status, 400, JSON.stringify(outcome.answer.body));
  assert.equal(outcome.answer.body.reason, 'approval_mismatch');
  assert.equal(outcome.after, 'prepared', 'nothing was signed');
  await context.close();
});

test('keyboard only: sign in and reach the upload form without a mouse', async () => {
  const { context, page } = await newPage('en-US');
  await page.goto(BASE);
  await page.waitForSelector('#view-signin:not([hidden])');
  // The first field has the focus; Tab moves through the form, Enter submits it.
  assert.equal(await page.evaluate(() => document.activeElement.id), 'signin-user');
  await page.keyboard.type(BOB.user);
  await page.keyboard.press('Tab');
  await page.keyboard.type(BOB.password);
  await page.keyboard.press('Tab');
  await page.keyboard.type(await totp(BOB.secret));
  await page.keyboard.press('Enter');
  await page.waitForSelector('#view-upload:not([hidden])');
  // From the drop zone, Tab reaches the (native) file picker, which takes several files.
  await page.focus('#drop');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'files');
  assert.equal(await page.evaluate(() => document.getElementById('files').multiple), true);
  await context.close();
});

test('a locked account is told so', async () => {
  const { context, page } = await newPage('ja-JP');
  await page.goto(BASE);
  let text = '';
  for (let i = 0; i < 6 && !/ロック/.test(text); i++) {
    await page.fill('#signin-user', BOB.user);
    await page.fill('#signin-password', 'not the password');
    await page.fill('#signin-otp', '000000');
    await page.click('#signin-form button[type=submit]');
    await page.waitForFunction((before) => {
      const m = document.getElementById('message');
      return !m.hidden && m.dataset.shown !== before;
    }, String(i));
    await page.evaluate((n) => { document.getElementById('message').dataset.shown = n; }, String(i));
    text = (await page.textContent('#message')).trim();
  }
  assert.match(text, /ロックされています/);
  await shots(page, 'locked');
  await context.close();
});

test('a phone-width screen still shows the whole form', async () => {
  const context = await browser.newContext({ locale: 'ja-JP', viewport: { width: 375, height: 812 } });
  const page = await context.newPage();
  await page.goto(BASE);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `no horizontal scrolling (${width})`);
  await page.screenshot({ path: path.join(SHOTS, 'phone-signin-ja.png'), fullPage: true });
  await context.close();
});
