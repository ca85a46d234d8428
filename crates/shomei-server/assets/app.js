// shomei's web page: sign in (password + TOTP), upload PDF/XML documents, check them,
// approve them (PIN + TOTP, bound to the hashes shown), download the signed files;
// validate a signed file. Japanese and English. No framework, no inline script (CSP).
'use strict';

const T = {
  en: {
    title: 'shomei', nav_sign: 'Sign', nav_validate: 'Validate', sign_out: 'Sign out',
    signin_h: 'Sign in', user: 'User name', password: 'Password',
    otp: 'One-time code (authenticator app)', signin_btn: 'Sign in',
    upload_h: 'Documents to sign', drop_hint: 'Drop PDF or XML files here, or choose them.',
    credential: 'Signing key', level: 'Level', reason: 'Reason (PDF)', location: 'Place (PDF)',
    stamp_on: 'Visible stamp on the PDF', stamp_text: 'Stamp text', stamp_page: 'Page',
    stamp_x: 'X (pt from left)', stamp_y: 'Y (pt from bottom)', stamp_seal: 'Seal image (PNG)',
    upload_btn: 'Upload and prepare', review_h: 'Check what you are about to sign',
    approve_open: 'Approve and sign…', cancel: 'Cancel', done_h: 'Signed documents',
    download_all: 'Download all (zip)', sign_more: 'Sign more documents',
    validate_h: 'Check a signed document', validate_file: 'Signed PDF or XML', validate_btn: 'Validate',
    approve_h: 'Approve these documents',
    approve_intro: 'Your approval is bound to exactly these documents and hashes.',
    pin: 'PIN of the signing key', approve_btn: 'Approve and sign', signing: 'Signing and time-stamping…',
    footer: 'Keys stay in the service. Sole Control Level 2: every signature needs your approval.',
    size: 'Size', pages: 'Pages', sha256: 'SHA-256 of the file', hash: 'Hash to be signed',
    format: 'Format', bytes: 'bytes', download: 'Download', signed: 'signed', failed: 'failed',
    no_files: 'Choose at least one PDF or XML file.', uploading: 'Uploading…',
    signed_in_as: 'Signed in as', overall: 'Result', signature: 'Signature', indication: 'Indication',
    signer: 'Signer', time: 'Time', level_reached: 'Level', no_signature: 'No signature found.',
    validating: 'Validating…', signin_passkey: 'Sign in with a passkey', passkeys_h: 'Passkeys',
    passkeys_intro: 'A passkey on this device can replace the one-time code when you sign in and approve.',
    passkey_add: 'Add a passkey', passkey_added: 'The passkey was added.', approve_passkey: 'Approve with a passkey',
    need_user: 'Enter your user name first.', need_pin: 'Enter the PIN first.',
    stamp_click: 'Click the page where the stamp should go (Enter: lower right).', preview_of: 'First page of',
    stamp_here: 'stamp', stamp_placed: 'The stamp was placed; the hash to be signed changed.', stamp_remove: 'Remove the stamp',
    reasons: {
      passkey_failed: 'The passkey could not be verified.',
      no_passkey: 'No passkey is enrolled for this user.',
      passkey_cancelled: 'The passkey request was cancelled.',
      bad_login: 'Wrong user name or password.',
      wrong_otp: 'The one-time code is wrong. Check your authenticator app and try again.',
      otp_replayed: 'This one-time code was already used. Wait for the next code.',
      wrong_pin: 'The PIN is wrong.',
      locked: 'Too many failed attempts: the account is locked for a while. Try again later.',
      user_disabled: 'This account is disabled.',
      session_expired: 'Your session has expired. Please sign in again.',
      signed_out: 'Please sign in.',
      bad_csrf: 'The request could not be verified. Please sign in again.',
      too_large: 'The file is too large.',
      not_a_document: 'The file is neither a PDF nor an XML document.',
      encrypted_pdf: 'The PDF is password-protected (encrypted). Remove the protection and upload it again.',
      bad_document: 'The document cannot be signed.',
      unknown_document: 'The document was not found (it may have expired).',
      document_changed: 'The document changed after it was uploaded. Upload it again.',
      document_not_pending: 'The document is no longer waiting for approval.',
      approval_mismatch: 'The approved list does not match the documents.',
      credential_disabled: 'The signing key is disabled.',
      server_error: 'The service failed. Please try again later.',
      unavailable: 'The service is not available right now. Please try again later.',
      network: 'The service cannot be reached.',
    },
  },
  ja: {
    title: '署名 shomei', nav_sign: '署名する', nav_validate: '検証する', sign_out: 'サインアウト',
    signin_h: 'サインイン', user: 'ユーザー名', password: 'パスワード',
    otp: 'ワンタイムコード(認証アプリ)', signin_btn: 'サインイン',
    upload_h: '署名する文書', drop_hint: 'PDF または XML ファイルをここにドロップするか、選択してください。',
    credential: '署名鍵', level: '署名レベル', reason: '理由(PDF)', location: '場所(PDF)',
    stamp_on: 'PDF に印影(可視署名)を付ける', stamp_text: '印影の文言', stamp_page: 'ページ',
    stamp_x: 'X(左からの pt)', stamp_y: 'Y(下からの pt)', stamp_seal: '印影画像(PNG)',
    upload_btn: 'アップロードして準備', review_h: '署名する内容を確認してください',
    approve_open: '承認して署名…', cancel: 'キャンセル', done_h: '署名済みの文書',
    download_all: 'すべてダウンロード(zip)', sign_more: '続けて署名する',
    validate_h: '署名済み文書の検証', validate_file: '署名済みの PDF または XML', validate_btn: '検証する',
    approve_h: 'これらの文書を承認します',
    approve_intro: '承認は、ここに示す文書とハッシュ値だけに結び付けられます。',
    pin: '署名鍵の PIN', approve_btn: '承認して署名', signing: '署名とタイムスタンプを付与しています…',
    footer: '署名鍵はサービスの外に出ません。単独管理レベル 2(SCAL 2):署名のたびにあなたの承認が必要です。',
    size: 'サイズ', pages: 'ページ数', sha256: 'ファイルの SHA-256', hash: '署名対象のハッシュ値',
    format: '形式', bytes: 'バイト', download: 'ダウンロード', signed: '署名済み', failed: '失敗',
    no_files: 'PDF または XML ファイルを 1 つ以上選んでください。', uploading: 'アップロード中…',
    signed_in_as: 'サインイン中:', overall: '結果', signature: '署名', indication: '判定',
    signer: '署名者', time: '時刻', level_reached: 'レベル', no_signature: '署名が見つかりません。',
    validating: '検証しています…', signin_passkey: 'パスキーでサインイン', passkeys_h: 'パスキー',
    passkeys_intro: 'この端末のパスキーは、サインインと承認でワンタイムコードの代わりに使えます。',
    passkey_add: 'パスキーを追加', passkey_added: 'パスキーを追加しました。', approve_passkey: 'パスキーで承認',
    need_user: '先にユーザー名を入力してください。', need_pin: '先に PIN を入力してください。',
    stamp_click: '印影を置く位置をページ上でクリックしてください(Enter: 右下)。', preview_of: '1 ページ目:',
    stamp_here: '印影', stamp_placed: '印影を配置しました。署名対象のハッシュ値が変わりました。', stamp_remove: '印影を外す',
    reasons: {
      passkey_failed: 'パスキーを確認できませんでした。',
      no_passkey: 'このユーザーにはパスキーが登録されていません。',
      passkey_cancelled: 'パスキーの操作がキャンセルされました。',
      bad_login: 'ユーザー名またはパスワードが違います。',
      wrong_otp: 'ワンタイムコードが違います。認証アプリを確認して、もう一度入力してください。',
      otp_replayed: 'このワンタイムコードは使用済みです。次のコードをお待ちください。',
      wrong_pin: 'PIN が違います。',
      locked: '失敗が続いたため、しばらくロックされています。時間をおいて再度お試しください。',
      user_disabled: 'このアカウントは無効です。',
      session_expired: 'セッションの有効期限が切れました。もう一度サインインしてください。',
      signed_out: 'サインインしてください。',
      bad_csrf: 'リクエストを確認できませんでした。もう一度サインインしてください。',
      too_large: 'ファイルが大きすぎます。',
      not_a_document: 'PDF でも XML でもないファイルです。',
      encrypted_pdf: 'パスワードで保護(暗号化)された PDF です。保護を解除してからアップロードしてください。',
      bad_document: 'この文書には署名できません。',
      unknown_document: '文書が見つかりません(保存期間が過ぎた可能性があります)。',
      document_changed: 'アップロード後に文書が変更されました。もう一度アップロードしてください。',
      document_not_pending: 'この文書はもう承認待ちではありません。',
      approval_mismatch: '承認した一覧が文書と一致しません。',
      credential_disabled: '署名鍵は無効です。',
      server_error: 'サービスでエラーが発生しました。時間をおいて再度お試しください。',
      unavailable: '現在サービスを利用できません。時間をおいて再度お試しください。',
      network: 'サービスに接続できません。',
    },
  },
};

const $ = (id) => document.getElementById(id);
const browserLang = (navigator.language || 'en').toLowerCase().startsWith('ja') ? 'ja' : 'en';
const state = {
  lang: ['ja', 'en'].includes(localStorage.getItem('shomei.lang')) ? localStorage.getItem('shomei.lang') : browserLang,
  csrf: sessionStorage.getItem('shomei.csrf') || '',
  session: null,
  docs: [],
  chosen: [],
};

function t(key) { return (T[state.lang] && T[state.lang][key]) || T.en[key] || key; }

function applyLanguage() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  const other = state.lang === 'ja' ? 'en' : 'ja';
  for (const b of document.querySelectorAll('.lang-switch')) {
    b.textContent = other === 'ja' ? '日本語' : 'English';
    b.lang = other;
  }
  if ($('approve-dialog').open) openApprove(true);
  if (state.session) $('who').textContent = `${t('signed_in_as')} ${state.session.user}`;
  if (state.message) say(state.message.what, state.message.info);
  if (!$('view-review').hidden) renderReview();
  if (!$('view-done').hidden) renderDone();
}

function show(view) {
  for (const v of ['signin', 'upload', 'review', 'done', 'validate']) $(`view-${v}`).hidden = v !== view;
  $('view-passkeys').hidden = !(view === 'upload' && state.session && state.session.passkeys_enabled);
  const signed = !!state.session;
  $('who').hidden = !signed; $('sign-out').hidden = !signed; $('nav-sign').hidden = !signed;
  const first = $(`view-${view}`).querySelector('input, select, button');
  if (first) first.focus();
}

// A message is kept as a function of the language, so switching the language
// translates the message on screen too.
function say(what, info) {
  state.message = typeof what === 'function' ? { what, info } : null;
  const text = typeof what === 'function' ? what() : what;
  const m = $('message');
  m.textContent = text;
  m.className = info ? 'message info' : 'message';
  m.hidden = !text;
}

function errorText(err) {
  const reasons = T[state.lang].reasons;
  if (err.reason && reasons[err.reason]) {
    // A document named in the description (e.g. "big.pdf: …") is worth repeating.
    const name = (err.description || '').match(/^([^:]{1,200}\.(pdf|xml)):/i);
    return (name ? `${name[1]}: ` : '') + reasons[err.reason];
  }
  return err.description || reasons.server_error;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body.error_description || `HTTP ${status}`);
    this.status = status; this.reason = body.reason || ''; this.description = body.error_description || '';
  }
}

async function api(method, url, body) {
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = state.csrf;
  let payload = body;
  if (body && !(body instanceof FormData)) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  let response;
  try {
    response = await fetch(url, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, { reason: 'network' });
  }
  if (response.status === 204) return null;
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  if (!response.ok) {
    if (!data.reason && response.status >= 500) data.reason = response.status === 503 ? 'unavailable' : 'server_error';
    const err = new ApiError(response.status, data);
    if (['session_expired', 'signed_out', 'bad_csrf'].includes(err.reason) && url !== '/web/session') signedOut(err);
    throw err;
  }
  return data;
}

function signedOut(err) {
  state.session = null; state.csrf = ''; sessionStorage.removeItem('shomei.csrf');
  const d = $('approve-dialog'); if (d.open) d.close();
  show('signin');
  if (err) say(() => errorText(err));
}

function signedIn(session) {
  state.session = session;
  if (session.csrf) { state.csrf = session.csrf; sessionStorage.setItem('shomei.csrf', session.csrf); }
  const sel = $('credential');
  sel.replaceChildren(...session.credentials.map((c) => {
    const o = document.createElement('option');
    o.value = c.id; o.textContent = `${c.signer} (${c.key}, SCAL ${c.scal})`;
    return o;
  }));
  renderPasskeys();
  applyLanguage();
  show('upload');
}

function renderPasskeys() {
  const list = (state.session && state.session.passkeys) || [];
  $('passkey-list').replaceChildren(...list.map((p) => {
    const li = document.createElement('li');
    li.textContent = `${p.name} (${new Date(p.created_at).toLocaleDateString(state.lang === 'ja' ? 'ja-JP' : 'en-US')})`;
    return li;
  }));
  $('approve-passkey').hidden = !list.length;
}

// WebAuthn: the server's options go through the browser's JSON helpers and back.
async function webauthnCreate(options) {
  const c = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey) });
  return c.toJSON();
}
async function webauthnGet(options) {
  const c = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey) });
  return c.toJSON();
}
function webauthnError(e) {
  if (e instanceof ApiError) return e;
  return new ApiError(0, { reason: e && e.name === 'NotAllowedError' ? 'passkey_cancelled' : 'passkey_failed', error_description: String(e) });
}

async function addPasskey() {
  say('');
  try {
    const start = await api('POST', '/web/passkeys');
    const credential = await webauthnCreate(start.options);
    await api('POST', '/web/passkeys/finish', { ceremony: start.ceremony, credential, name: navigator.platform || 'passkey' });
    state.session = { ...state.session, ...(await api('GET', '/web/session')) };
    renderPasskeys();
    say(() => t('passkey_added'), true);
  } catch (e) { say(() => errorText(webauthnError(e))); }
}

async function signInWithPasskey() {
  say('');
  const user = $('signin-user').value;
  if (!user) { say(() => t('need_user')); $('signin-user').focus(); return; }
  try {
    const start = await api('POST', '/web/session/passkey', { user });
    const credential = await webauthnGet(start.options);
    const s = await api('POST', '/web/session/passkey/finish', { ceremony: start.ceremony, credential });
    signedIn(s);
  } catch (e) { say(() => errorText(webauthnError(e))); }
}

async function approveWithPasskey() {
  say('');
  const pin = $('approve-pin').value;
  if (!pin) { $('approve-pin').focus(); $('approve-pin').reportValidity(); return; }
  const documents = state.docs.map((d) => ({ id: d.id, sha256: d.sha256, hash: d.hash }));
  const credentialId = state.docs[0].credential_id;
  $('approve-btn').disabled = true; $('approve-passkey').disabled = true;
  try {
    const start = await api('POST', '/api/v1/documents/approve/passkey', { credential_id: credentialId, documents });
    const credential = await webauthnGet(start.options);
    $('approve-progress').hidden = false;
    const answer = await api('POST', '/api/v1/documents/approve', {
      credential_id: credentialId, pin, passkey: { ceremony: start.ceremony, credential }, documents,
    });
    $('approve-dialog').close();
    state.docs = answer.documents;
    renderDone();
    show('done');
  } catch (e) {
    $('approve-progress').hidden = true;
    if ($('approve-dialog').open) $('approve-dialog').close();
    say(() => errorText(webauthnError(e)));
  } finally { $('approve-btn').disabled = false; $('approve-passkey').disabled = false; }
}

function fmtSize(n) { return `${Number(n).toLocaleString(state.lang === 'ja' ? 'ja-JP' : 'en-US')} ${t('bytes')}`; }

function field(dl, label, value, cls) {
  const dt = document.createElement('dt'); dt.textContent = label;
  const dd = document.createElement('dd'); dd.textContent = value; if (cls) dd.className = cls;
  dl.append(dt, dd);
}

function renderReview() {
  const list = $('review-list');
  list.replaceChildren(...state.docs.map((d) => {
    const art = document.createElement('article'); art.className = 'doc';
    const h = document.createElement('h3'); h.textContent = d.name;
    const dl = document.createElement('dl');
    field(dl, t('format'), `${d.format.toUpperCase()} · ${d.level}`);
    field(dl, t('size'), fmtSize(d.size));
    if (d.format === 'pdf') field(dl, t('pages'), String(d.pages));
    field(dl, t('sha256'), d.sha256, 'hash');
    field(dl, t('hash'), `${d.hash_algorithm}: ${d.hash}`, 'hash');
    art.append(h, dl);
    if (d.format === 'pdf' && d.page_box && d.page_box.length === 4) art.append(previewOf(d));
    return art;
  }));
}

const STAMP_W = 240, STAMP_H = 80;

// The first page, with the stamp's place; a click (or Enter on the focused preview)
// puts the stamp there: the server prepares the signature again and shows the new hash.
function previewOf(d) {
  const wrap = document.createElement('div'); wrap.className = 'preview';
  const hint = document.createElement('p'); hint.className = 'hint'; hint.textContent = t('stamp_click');
  const frame = document.createElement('div'); frame.className = 'page';
  const img = document.createElement('img');
  img.src = `/api/v1/documents/${d.id}/preview`;
  img.alt = `${t('preview_of')} ${d.name}`;
  img.tabIndex = 0;
  frame.append(img);
  const [x0, y0, x1, y1] = d.page_box;
  const pw = x1 - x0, ph = y1 - y0;
  if (d.stamp && d.stamp.page === 1) {
    const box = document.createElement('div'); box.className = 'stamp-box';
    box.style.left = `${(100 * (d.stamp.x - x0)) / pw}%`;
    box.style.top = `${(100 * (y1 - d.stamp.y - d.stamp.height)) / ph}%`;
    box.style.width = `${(100 * d.stamp.width) / pw}%`;
    box.style.height = `${(100 * d.stamp.height) / ph}%`;
    box.textContent = t('stamp_here');
    frame.append(box);
  }
  const place = async (fx, fy) => {
    const w = (d.stamp && d.stamp.width) || STAMP_W, h = (d.stamp && d.stamp.height) || STAMP_H;
    const cx = x0 + fx * pw, cy = y1 - fy * ph;
    const x = Math.round(Math.min(Math.max(cx - w / 2, x0), x1 - w));
    const y = Math.round(Math.min(Math.max(cy - h / 2, y0), y1 - h));
    const text = (d.stamp && d.stamp.text) || $('stamp-text').value || undefined;
    try {
      const updated = await api('POST', `/api/v1/documents/${d.id}/stamp`,
        { page: 1, x, y, width: w, height: h, text, utc_offset: utcOffset() });
      state.docs = state.docs.map((o) => (o.id === d.id ? updated : o));
      renderReview();
      say(() => t('stamp_placed'), true);
    } catch (e) { say(() => errorText(e)); }
  };
  img.addEventListener('click', (e) => {
    const r = img.getBoundingClientRect();
    place((e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
  });
  img.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); place(0.75, 0.9); } });
  wrap.append(hint, frame);
  if (d.stamp) {
    const remove = document.createElement('button'); remove.type = 'button'; remove.textContent = t('stamp_remove');
    remove.addEventListener('click', async () => {
      try {
        const updated = await api('POST', `/api/v1/documents/${d.id}/stamp`, null);
        state.docs = state.docs.map((o) => (o.id === d.id ? updated : o));
        renderReview();
      } catch (e) { say(() => errorText(e)); }
    });
    wrap.append(remove);
  }
  return wrap;
}

function renderDone() {
  const ul = $('done-list');
  ul.replaceChildren(...state.docs.map((d) => {
    const li = document.createElement('li');
    const st = document.createElement('span'); st.className = `state-${d.state}`; st.textContent = t(d.state) || d.state;
    li.append(st, ' ', d.name, ' ');
    if (d.state === 'signed') {
      const a = document.createElement('a'); a.href = `/api/v1/documents/${d.id}/signed`; a.textContent = t('download');
      a.setAttribute('download', ''); li.append(a);
    } else if (d.error) {
      li.append(`: ${d.error}`);
    }
    return li;
  }));
  const ids = state.docs.filter((d) => d.state === 'signed').map((d) => d.id);
  $('download-all').href = `/api/v1/documents/archive?ids=${ids.join(',')}`;
  $('download-all').hidden = ids.length < 2;
}

function choose(files) {
  state.chosen = Array.from(files).filter((f) => f.size >= 0);
  $('chosen').replaceChildren(...state.chosen.map((f) => {
    const li = document.createElement('li'); li.textContent = `${f.name} (${fmtSize(f.size)})`; return li;
  }));
}

function uploadWithProgress(form) {
  // XMLHttpRequest reports upload progress; fetch does not.
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/documents');
    xhr.setRequestHeader('X-CSRF-Token', state.csrf);
    xhr.responseType = 'json';
    const bar = $('upload-progress'); bar.hidden = false; bar.value = 0;
    xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total; });
    xhr.addEventListener('load', () => {
      bar.hidden = true;
      const body = xhr.response || {};
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        if (!body.reason && xhr.status === 413) body.reason = 'too_large';
        const err = new ApiError(xhr.status, body);
        if (['session_expired', 'signed_out', 'bad_csrf'].includes(err.reason)) signedOut(err);
        reject(err);
      }
    });
    xhr.addEventListener('error', () => { bar.hidden = true; reject(new ApiError(0, { reason: 'network' })); });
    xhr.send(form);
  });
}

async function onUpload(ev) {
  ev.preventDefault();
  say('');
  if (!state.chosen.length) { say(() => t('no_files')); $('files').focus(); return; }
  const options = {
    credential_id: $('credential').value,
    level: $('level').value,
  };
  if ($('reason').value) options.reason = $('reason').value;
  if ($('location').value) options.location = $('location').value;
  if ($('stamp-on').checked) {
    options.stamp = {
      page: Number($('stamp-page').value || 1), x: Number($('stamp-x').value || 0), y: Number($('stamp-y').value || 0),
      width: 240, height: 80, utc_offset: utcOffset(),
    };
    if ($('stamp-text').value) options.stamp.text = $('stamp-text').value;
  }
  const form = new FormData();
  form.append('options', new Blob([JSON.stringify(options)], { type: 'application/json' }));
  const seal = $('stamp-seal').files[0];
  if ($('stamp-on').checked && seal) form.append('seal', seal, seal.name);
  for (const f of state.chosen) form.append('file', f, f.name);
  const btn = $('upload-btn'); btn.disabled = true;
  say(() => t('uploading'), true);
  try {
    const answer = await uploadWithProgress(form);
    say('');
    state.docs = answer.documents;
    renderReview();
    show('review');
  } catch (e) {
    if (e.reason !== 'session_expired') say(() => errorText(e));
  } finally { btn.disabled = false; }
}

function utcOffset() {
  const m = -new Date().getTimezoneOffset();
  const s = m < 0 ? '-' : '+'; const a = Math.abs(m);
  return `${s}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

function openApprove(keep) {
  const ol = $('approve-list');
  ol.replaceChildren(...state.docs.map((d) => {
    const li = document.createElement('li');
    const name = document.createElement('strong'); name.textContent = d.name;
    const hash = document.createElement('div'); hash.className = 'hash'; hash.textContent = `${d.hash_algorithm}: ${d.hash}`;
    li.append(name, hash);
    return li;
  }));
  if (keep === true) return;
  $('approve-pin').value = ''; $('approve-otp').value = '';
  $('approve-progress').hidden = true; $('approve-btn').disabled = false; $('approve-passkey').disabled = false;
  $('approve-dialog').showModal();
  $('approve-pin').focus();
}

async function onApprove(ev) {
  ev.preventDefault();
  say('');
  const body = {
    credential_id: state.docs[0].credential_id,
    pin: $('approve-pin').value,
    otp: $('approve-otp').value,
    documents: state.docs.map((d) => ({ id: d.id, sha256: d.sha256, hash: d.hash })),
  };
  $('approve-btn').disabled = true; $('approve-progress').hidden = false;
  try {
    const answer = await api('POST', '/api/v1/documents/approve', body);
    $('approve-dialog').close();
    state.docs = answer.documents;
    renderDone();
    show('done');
  } catch (e) {
    $('approve-progress').hidden = true; $('approve-btn').disabled = false;
    if ($('approve-dialog').open) {
      $('approve-dialog').close();
      say(() => errorText(e));
      if (e.reason === 'wrong_otp' || e.reason === 'otp_replayed' || e.reason === 'wrong_pin') openApprove();
    } else say(() => errorText(e));
  }
}

async function onCancelReview() {
  for (const d of state.docs) {
    try { await api('DELETE', `/api/v1/documents/${d.id}`); } catch (e) { /* expired already */ }
  }
  state.docs = [];
  show('upload');
}

function resetUpload() {
  state.chosen = []; state.docs = [];
  $('files').value = ''; $('chosen').replaceChildren(); $('upload-form').reset();
  show('upload');
}

function verdictClass(ind) {
  return ind === 'TOTAL-PASSED' ? 'pass' : ind === 'TOTAL-FAILED' ? 'fail' : 'indet';
}

async function onValidate(ev) {
  ev.preventDefault();
  say('');
  const file = $('validate-file').files[0];
  if (!file) return;
  const form = new FormData(); form.append('document', file, file.name);
  const report = $('report');
  report.textContent = t('validating');
  try {
    const r = await api('POST', '/api/v1/validate', form);
    report.replaceChildren();
    if (!r.signatures || !r.signatures.length) { report.textContent = t('no_signature'); return; }
    const table = document.createElement('table');
    const head = document.createElement('tr');
    for (const k of ['signature', 'indication', 'level_reached', 'signer', 'time']) {
      const th = document.createElement('th'); th.textContent = t(k); head.append(th);
    }
    table.append(head);
    for (const s of r.signatures) {
      const tr = document.createElement('tr');
      const ind = document.createElement('td');
      const v = document.createElement('span'); v.className = `verdict ${verdictClass(s.indication)}`; v.textContent = s.indication;
      ind.append(v); if (s.sub_indication) ind.append(` / ${s.sub_indication}`);
      const cells = [s.name, null, s.level || '—', s.signer || '—', s.proven_time || s.claimed_time || '—'];
      cells.forEach((c, i) => {
        if (i === 1) { tr.append(ind); return; }
        const td = document.createElement('td'); td.textContent = c; tr.append(td);
      });
      table.append(tr);
    }
    report.append(table);
  } catch (e) {
    report.textContent = '';
    say(() => errorText(e));
  }
}

async function start() {
  applyLanguage();
  for (const b of document.querySelectorAll('.lang-switch')) {
    b.addEventListener('click', () => {
      state.lang = state.lang === 'ja' ? 'en' : 'ja';
      localStorage.setItem('shomei.lang', state.lang);
      applyLanguage();
    });
  }
  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    say('');
    try {
      const s = await api('POST', '/web/session', {
        user: $('signin-user').value, password: $('signin-password').value, otp: $('signin-otp').value,
      });
      $('signin-password').value = ''; $('signin-otp').value = '';
      signedIn(s);
    } catch (e) { say(() => errorText(e)); }
  });
  $('sign-out').addEventListener('click', async () => {
    try { await api('DELETE', '/web/session'); } catch (e) { /* already ended */ }
    signedOut(null);
    say('');
  });
  $('nav-sign').addEventListener('click', () => { say(''); show(state.docs.length ? 'review' : 'upload'); });
  $('nav-validate').addEventListener('click', () => { say(''); show('validate'); });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); choose(e.dataTransfer.files); });
  drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('files').click(); } });
  $('files').addEventListener('change', () => choose($('files').files));
  $('upload-form').addEventListener('submit', onUpload);
  $('approve-open').addEventListener('click', () => openApprove());
  $('approve-form').addEventListener('submit', onApprove);
  $('approve-cancel').addEventListener('click', () => $('approve-dialog').close());
  $('approve-passkey').addEventListener('click', approveWithPasskey);
  $('passkey-add').addEventListener('click', addPasskey);
  $('signin-passkey').addEventListener('click', signInWithPasskey);
  $('review-cancel').addEventListener('click', onCancelReview);
  $('done-new').addEventListener('click', resetUpload);
  $('validate-form').addEventListener('submit', onValidate);
  try {
    const s = await api('GET', '/web/session');
    signedIn(s);
  } catch (e) {
    show('signin');
    if (e.reason === 'session_expired') say(() => errorText(e));
  }
}

document.addEventListener('DOMContentLoaded', start);
