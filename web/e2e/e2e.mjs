// End-to-end run of the web app in Debian's Chromium (playwright-core) against a real
// `evolveai serve` that web/e2e/run.sh started. Fails on any console error or page error the
// steps did not provoke on purpose, and on any API error shown as a bare code.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const env = (name) => {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`e2e: ${name} is not set (run web/e2e/run.sh)`);
  }
  return value;
};
const base = env('E2E_BASE_URL');
const botToken = env('E2E_BOT_TOKEN');
const results = env('E2E_RESULTS');
const signTool = env('E2E_SIGN_TOOL');
const dist = env('E2E_DIST');

const kStepTimeout = 20_000;
const errorCodes = [
  'bad_request', 'invalid_json', 'validation_failed', 'payload_too_large', 'unsupported_media_type',
  'unauthorized', 'token_expired', 'forbidden', 'not_found', 'rate_limited', 'quota_exceeded',
  'premium_required', 'llm_not_configured', 'upstream_unavailable', 'service_unavailable', 'internal',
];
// A 1x1 PNG.
const tinyPng = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNg+M9QDwADgQF/e5IkGQAAAABJRU5ErkJggg==',
  'base64',
);

let passed = 0;
const openPages = new Set();
let skipped = 0;
const log = (text) => process.stdout.write(`${text}\n`);
async function step(name, work) {
  const started = Date.now();
  try {
    await work();
    passed += 1;
    log(`  ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    log(`  FAIL ${name}: ${error.stack ?? error}`);
    let n = 0;
    for (const page of openPages) {
      n += 1;
      await page.screenshot({ path: join(results, `failure-${n}.png`) }).catch(() => {});
    }
    throw error;
  }
}
function skip(name, why) {
  skipped += 1;
  log(`  skip ${name}: ${why}`);
}
function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

/** Init data for a Telegram user, signed with the bot token by the independent signing tool. */
function signedInitData(user) {
  const dir = mkdtempSync(join(tmpdir(), 'evolveai-e2e-'));
  try {
    const request = join(dir, 'request.json');
    writeFileSync(
      request,
      JSON.stringify({
        kind: 'init_data',
        bot_token: botToken,
        auth_date: Math.floor(Date.now() / 1000),
        data: { user, query_id: `AAE2E${user.id}`, chat_type: 'private' },
      }),
    );
    return execFileSync('node', [signTool, request], { encoding: 'utf8' }).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Login Widget fields as Telegram signs them for a browser sign-in (redirect to the app). */
function signedWidgetFields(fields) {
  const dir = mkdtempSync(join(tmpdir(), 'evolveai-e2e-'));
  try {
    const request = join(dir, 'request.json');
    writeFileSync(request, JSON.stringify({ kind: 'login_widget', bot_token: botToken, fields }));
    return JSON.parse(execFileSync('node', [signTool, request], { encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const theme = {
  bg_color: '#17212b',
  secondary_bg_color: '#232e3c',
  text_color: '#f5f5f5',
  hint_color: '#708499',
  link_color: '#6ab3f3',
  button_color: '#5288c1',
  button_text_color: '#ffffff',
};

function miniAppUrl(initData) {
  const fragment = new URLSearchParams({
    tgWebAppData: initData,
    tgWebAppVersion: '8.0',
    tgWebAppPlatform: 'web',
    tgWebAppThemeParams: JSON.stringify(theme),
  });
  return `${base}/#${fragment.toString()}`;
}

// Telegram's Mini App script as the tests see it: the same API surface, recording calls.
const telegramStub = `(() => {
  const params = new URLSearchParams(location.hash.slice(1));
  const calls = (window.__telegramCalls = []);
  const button = (name) => {
    let handlers = [];
    return {
      text: '', isVisible: false,
      setText(text) { this.text = text; calls.push([name, 'setText', text]); },
      show() { this.isVisible = true; calls.push([name, 'show']); },
      hide() { this.isVisible = false; calls.push([name, 'hide']); },
      onClick(h) { handlers.push(h); },
      offClick(h) { handlers = handlers.filter((x) => x !== h); },
      press() { handlers.forEach((h) => h()); },
    };
  };
  window.Telegram = { WebApp: {
    initData: params.get('tgWebAppData') || '',
    colorScheme: 'dark',
    themeParams: JSON.parse(params.get('tgWebAppThemeParams') || '{}'),
    viewportStableHeight: window.innerHeight,
    MainButton: button('main'), BackButton: button('back'),
    ready() { calls.push(['ready']); }, expand() { calls.push(['expand']); },
    onEvent() {},
    openInvoice(url, callback) { calls.push(['openInvoice', url]); setTimeout(() => callback('cancelled'), 10); },
  } };
})();`;

/** Console and page errors of a page; `allow` lists what a step provokes on purpose. */
function watch(page, label, problems) {
  const allowed = [];
  openPages.add(page);
  page.on('close', () => openPages.delete(page));
  page.on('console', (message) => {
    if (message.type() !== 'error') {
      return;
    }
    const where = message.location()?.url ?? '';
    const text = message.text();
    const index = allowed.findIndex((rule) => rule(text, where));
    if (index >= 0) {
      allowed.splice(index, 1);
      return;
    }
    problems.push(`${label}: console error: ${text} ${where}`);
  });
  page.on('pageerror', (error) => problems.push(`${label}: page error: ${error.message}`));
  return {
    /** The browser logs a failed response once; allow one with this status on a path. */
    allowStatus(status, path) {
      allowed.push((text, where) => text.includes(`status of ${status}`) && where.includes(path));
    },
    allowText(part) {
      allowed.push((text) => text.includes(part));
    },
    allowUrl(prefix) {
      allowed.push((text, where) => where.startsWith(prefix) || text.includes(prefix));
    },
  };
}

async function shot(page, name) {
  await page.screenshot({ path: join(results, `${name}.png`) });
}

async function noBareCodes(page) {
  const text = await page.locator('body').innerText();
  for (const code of errorCodes) {
    check(!new RegExp(`\\b${code}\\b`).test(text), `an error is shown as its code "${code}": ${text.slice(0, 400)}`);
  }
}

function bundleCheck() {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  check(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'index.html has an inline script');
  let gzipped = 0;
  for (const match of html.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="\/(assets\/[^"]+\.js)"/g)) {
    gzipped += gzipSync(readFileSync(join(dist, match[1])), { level: 9 }).length;
  }
  log(`  chat page JavaScript: ${(gzipped / 1024).toFixed(1)} KB gzipped (budget 150 KB)`);
  check(gzipped > 0 && gzipped < 150 * 1024, 'the chat page JavaScript is over 150 KB gzipped');
}

/** One of the app's TypeScript modules (with its imports) bundled for Node and loaded. */
async function loadAppModule(relative) {
  const bundled = await build({
    entryPoints: [join(import.meta.dirname, '..', 'src', relative)],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
    logLevel: 'silent',
  });
  return import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString('base64')}`);
}

async function openapiPaths() {
  const response = await fetch(`${base}/api/v1/openapi.json`);
  const document = await response.json();
  return new Set(Object.keys(document.paths ?? {}));
}

async function main() {
  const started = Date.now();
  const problems = [];
  const paths = await openapiPaths();
  const browser = await chromium.launch({
    executablePath: env('E2E_CHROMIUM'),
    headless: true,
    args: ['--autoplay-policy=no-user-gesture-required', '--disable-gpu'],
  });
  const user = { id: 770001, first_name: 'Eve', last_name: 'Tester', username: 'eve_e2e', language_code: 'en' };
  try {
    await step('chat page JavaScript within budget and no inline scripts', async () => bundleCheck());

    await step('every error code of the API has words, with waits and reset times', async () => {
      // errors.ts bundles its own copy of api.ts: take ApiError from the same bundle.
      const { describeError, ApiError } = await loadAppModule('shared/error_check.ts');
      const now = new Date('2030-01-01T10:00:00Z');
      const codes = [...errorCodes, 'conflict', 'method_not_allowed', 'signup_closed', 'bot_not_configured',
        'refunds_unavailable', 'network', 'header_too_large', 'some_future_code'];
      for (const code of codes) {
        const words = describeError(new ApiError({ status: 400, code, message: 'm' }), now);
        check(words.length > 10 && !words.includes(code) && !/\b[a-z]+_[a-z_]+\b/.test(words), `${code} -> ${words}`);
      }
      const limited = describeError(new ApiError({ status: 429, code: 'rate_limited', message: '', retryAfter: 12 }), now);
      check(limited.includes('12 seconds'), `rate limit without its wait: ${limited}`);
      const quota = describeError(
        new ApiError({ status: 429, code: 'quota_exceeded', message: '', resetsAt: '2030-01-01T13:30:00Z' }),
        now,
      );
      check(quota.includes('(in 3 h 30 min)'), `quota without its reset time: ${quota}`);
      const field = describeError(
        new ApiError({ status: 400, code: 'validation_failed', message: 'must be 1..8000 characters', field: 'message' }),
        now,
      );
      check(field.includes('(message)') && field.includes('must be 1..8000 characters.'), field);
    });

    await step('console errors and failed responses are caught (self-check of the watcher)', async () => {
      const context = await browser.newContext();
      const probe = await context.newPage();
      const seen = [];
      watch(probe, 'self-check', seen);
      await probe.goto(`${base}/favicon.svg`);
      await probe.evaluate(async () => {
        console.error('e2e self-check');
        await fetch('/api/v1/no-such-route').catch(() => {});
      });
      await probe.waitForTimeout(200);
      await context.close();
      check(seen.some((p) => p.includes('e2e self-check')), `console.error was not caught: ${seen}`);
      check(seen.some((p) => p.includes('status of 404')), `a failed response was not caught: ${seen}`);
    });

    await step('pages are served with a content policy that forbids inline scripts', async () => {
      for (const path of ['/', '/admin']) {
        const response = await fetch(`${base}${path}`);
        const policy = response.headers.get('content-security-policy') ?? '';
        const scripts = policy.split(';').map((part) => part.trim()).find((part) => part.startsWith('script-src')) ?? '';
        check(scripts.startsWith("script-src 'self'") && !scripts.includes('unsafe-inline'), `${path}: ${policy}`);
      }
    });

    // ------------------------------------------------------------ the chat app as a Mini App, 360 px phone
    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 1 });
    await phone.route('https://telegram.org/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript', body: telegramStub }),
    );
    const page = await phone.newPage();
    page.setDefaultTimeout(kStepTimeout);
    const chat = watch(page, 'chat', problems);

    await step('signs in with signed initData as a Mini App, Telegram theme applied', async () => {
      await page.goto(miniAppUrl(signedInitData(user)));
      await page.getByRole('button', { name: 'Chat' }).waitFor();
      await page.getByText('Hi Eve!').waitFor();
      const scheme = await page.evaluate(() => document.documentElement.dataset.theme);
      check(scheme === 'dark', `Telegram's colour scheme was not applied (${scheme})`);
      const calls = await page.evaluate(() => window.__telegramCalls.map((c) => c[0]));
      check(calls.includes('ready') && calls.includes('expand'), `Telegram was not told the app is ready: ${calls}`);
      await shot(page, 'chat-empty');
    });

    await step('the browser enforces the content policy: an injected inline script does not run', async () => {
      chat.allowText('Content Security Policy');
      const ran = await page.evaluate(() => {
        window.__inlineRan = false;
        const script = document.createElement('script');
        script.textContent = 'window.__inlineRan = true;';
        document.body.appendChild(script);
        script.remove();
        return window.__inlineRan;
      });
      check(ran === false, 'an inline script ran despite the content policy');
    });

    await step('sends a message and sees the reply stream in, Markdown and code rendered', async () => {
      await page.getByLabel('Message').fill('Hi! I like jazz and long walks.');
      await page.keyboard.press('Enter');
      const reply = page.locator('.bubble.assistant').last();
      // Seen while still streaming: some text, not yet all of it.
      await page.locator('.bubble.assistant.streaming .md').filter({ hasText: 'Nice' }).waitFor();
      const partial = await reply.innerText();
      check(!partial.includes('talk about next'), 'the reply arrived whole, not streamed');
      await page.locator('.bubble.assistant:not(.streaming)').last().waitFor();
      await reply.locator('pre code').filter({ hasText: 'print("hello from EvolveAI")' }).waitFor();
      await reply.locator('strong').filter({ hasText: 'remember' }).waitFor();
      check((await reply.locator('b, [onmouseover]').count()) === 0, 'raw HTML from the model became markup');
      check((await reply.innerText()).includes('<b onmouseover="alert(1)">this</b>'), 'raw HTML not shown as text');
      check((await reply.innerText()).includes('talk about next'), 'the whole reply did not arrive');
      await shot(page, 'chat-reply');
    });

    await step('refuses an image over 10 MB on the client, in words', async () => {
      await page.locator('#attach-input').setInputFiles({
        name: 'huge.png',
        mimeType: 'image/png',
        buffer: Buffer.alloc(10 * 1024 * 1024 + 1),
      });
      await page.getByText('images can be up to 10 MB').waitFor();
    });

    await step('attaches an image and gets a reply to it', async () => {
      await page.locator('#attach-input').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: tinyPng });
      await page.locator('.attachment img').waitFor();
      await page.getByLabel('Message').fill('What is in this picture?');
      const sent = page.waitForResponse((r) => r.url().endsWith('/api/v1/chat') && r.request().method() === 'POST');
      await page.getByRole('button', { name: 'Send' }).click();
      const response = await sent;
      check(response.status() === 200, `chat with an image answered ${response.status()}`);
      const body = JSON.parse(response.request().postData() ?? '{}');
      check(body.image?.mime_type === 'image/png' && body.image.data === tinyPng.toString('base64'), 'image not sent');
      await page.locator('.bubble.user img.attached').last().waitFor();
      await page.locator('.bubble.assistant:not(.streaming)').nth(1).waitFor();
    });

    await step('plays a voice reply', async () => {
      const listen = page.locator('.bubble.assistant').last().getByRole('button', { name: /Listen/ });
      const spoken = page.waitForResponse((r) => r.url().endsWith('/api/v1/tts'));
      await listen.click();
      const response = await spoken;
      check(response.status() === 200, `TTS answered ${response.status()}`);
      check(/^audio\//.test(response.headers()['content-type'] ?? ''), 'TTS did not answer with audio');
      await page.locator('.bubble.assistant button.speak[data-playing="true"]').waitFor();
      await shot(page, 'chat-voice');
    });

    await step('finds the message via search, match highlighted', async () => {
      await page.getByRole('button', { name: 'Search' }).click();
      // Telegram's back button shows on every screen but the chat.
      await page.waitForFunction(() => window.Telegram.WebApp.BackButton.isVisible, null, { timeout: 5000 });
      await page.getByLabel('Search text').fill('jazz');
      await page.getByLabel('Search text').press('Enter');
      await page.locator('.result mark').first().waitFor();
      const marked = await page.locator('.result mark').first().innerText();
      check(marked.toLowerCase() === 'jazz', `highlighted "${marked}"`);
      await noBareCodes(page);
      await shot(page, 'search');
    });

    await step('an expired token is renewed from the init data and the request retried', async () => {
      await page.evaluate(() => window.Telegram.WebApp.BackButton.press());
      await page.getByLabel('Message').waitFor();
      let refused = 0;
      await page.route('**/api/v1/memory', async (route) => {
        if (refused === 0) {
          refused += 1;
          const body = { error: { code: 'token_expired', message: 'The token has expired' } };
          await route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify(body) });
          return;
        }
        await route.continue();
      });
      chat.allowStatus(401, '/api/v1/memory');
      const signIn = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth'));
      await page.getByRole('button', { name: 'Memory' }).click();
      check((await signIn).status() === 200, 'no new sign-in after the token was refused');
      await page.getByRole('heading', { name: 'Facts' }).waitFor();
      check(refused === 1, 'the expired token was never refused');
      await page.unroute('**/api/v1/memory');
    });

    await step('adds, pins and edits a fact', async () => {
      await page.getByLabel('New fact').fill('Loves jazz');
      await page.getByRole('button', { name: 'Add fact' }).click();
      const fact = page.locator('li.fact').filter({ hasText: 'Loves jazz' });
      await fact.waitFor();
      await fact.getByRole('button', { name: /^Pin/ }).click();
      await page.locator('li.fact.pinned').filter({ hasText: 'Loves jazz' }).waitFor();
      check((await fact.getByRole('button', { name: /Unpin/ }).getAttribute('aria-pressed')) === 'true', 'not pinned');
      await fact.getByRole('button', { name: /^Edit/ }).click();
      await page.getByLabel('Fact text').fill('Loves jazz and blues');
      await page.getByLabel('Fact text').press('Enter');
      await page.locator('li.fact.pinned').filter({ hasText: 'Loves jazz and blues' }).waitFor();
      check((await page.locator('li.fact').count()) === 1, 'editing a fact left the old one behind');
      await shot(page, 'memory');
    });

    await step('hits the free limit and sees the premium offer with the reset time', async () => {
      await page.getByRole('button', { name: 'Chat' }).click();
      await page.getByLabel('Message').fill('One more thing before I go.');
      await page.keyboard.press('Enter');
      await page.locator('.bubble.assistant:not(.streaming)').nth(2).waitFor();
      chat.allowStatus(429, '/api/v1/chat');
      await page.getByLabel('Message').fill('And another one?');
      await page.keyboard.press('Enter');
      await page.getByText("You've used all your free messages for today").first().waitFor();
      await page.locator('.messages .premium-offer').waitFor();
      const text = await page.locator('.bubble.user .bubble-error').last().innerText();
      check(/More are available at .+ \(in .+\)/.test(text), `no reset time in "${text}"`);
      await page.locator('.messages .premium-offer button.primary').first().waitFor();
      await noBareCodes(page);
      await shot(page, 'quota-premium-offer');
    });

    if (paths.has('/api/v1/premium/invoice')) {
      await step('the purchase button opens a Stars invoice through Telegram', async () => {
        await page.locator('.messages .premium-offer button.primary').first().click();
        await page.getByText('The payment was cancelled.').waitFor();
        const calls = await page.evaluate(() => window.__telegramCalls.filter((c) => c[0] === 'openInvoice'));
        check(calls.length === 1 && String(calls[0][1]).length > 0, 'openInvoice was not called with a link');
      });
    } else {
      skip('purchase through openInvoice', 'the server has no POST /api/v1/premium/invoice yet');
    }

    await step('account: usage, settings saved, export downloaded', async () => {
      await page.getByRole('button', { name: 'Account' }).click();
      await page.getByText('3 of 3 free messages used').waitFor();
      await page.getByLabel('Persona').selectOption('mentor');
      await page.getByLabel('Reply language').selectOption('en');
      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.getByText('Settings saved.').waitFor();
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Export my data' }).click();
      const file = await download;
      check(file.suggestedFilename().startsWith('evolveai-export-'), `export named ${file.suggestedFilename()}`);
      await shot(page, 'account');
    });

    // ------------------------------------------------------------ the admin panel, desktop
    let premiumGranted = false;
    let userPage = '';
    if (paths.has('/api/v1/admin/users') && paths.has('/api/v1/admin/stats')) {
      const desk = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const admin = await desk.newPage();
      admin.setDefaultTimeout(kStepTimeout);
      const adminWatch = watch(admin, 'admin', problems);

      await step('admin: a wrong password is refused in words', async () => {
        await admin.goto(`${base}/admin`);
        await admin.getByLabel('Username').fill(env('E2E_ADMIN_USER'));
        await admin.getByLabel('Password').fill('not-the-password');
        adminWatch.allowStatus(401, '/api/v1/admin/login');
        await admin.getByRole('button', { name: 'Log in' }).click();
        await admin.getByText('The username or password is not right.').waitFor();
        await shot(admin, 'admin-login');
      });

      await step('admin: logs in; the dashboard charts render with data', async () => {
        await admin.getByLabel('Password').fill(env('E2E_ADMIN_PASSWORD'));
        await admin.getByRole('button', { name: 'Log in' }).click();
        await admin.getByRole('heading', { name: 'Dashboard' }).waitFor();
        await admin.locator('.chart canvas').nth(5).waitFor();
        const messages = await admin.locator('.tile').first().locator('strong').innerText();
        check(Number(messages.replace(/\D/g, '')) > 0, `dashboard shows ${messages} messages`);
        await admin.getByRole('button', { name: '7 days' }).click();
        await admin.locator('.chart canvas').nth(5).waitFor();
        await shot(admin, 'admin-dashboard');
      });

      await step('admin: finds the user, grants premium, and the user page shows it after reload', async () => {
        await admin.getByRole('link', { name: 'Users', exact: true }).click();
        await admin.getByLabel('Search').fill(String(user.id));
        await admin.getByRole('button', { name: 'Search' }).click();
        await admin.getByRole('link', { name: 'Eve Tester' }).waitFor();
        await shot(admin, 'admin-users');
        await admin.getByRole('link', { name: 'Eve Tester' }).click();
        await admin.getByRole('heading', { name: /Eve Tester/ }).waitFor();
        userPage = new URL(admin.url()).pathname;
        check((await admin.locator('.premium-state').innerText()).startsWith('Not active'), 'premium already active');
        await admin.getByLabel('Reason (written to the audit log)').fill('E2E: thank-you gift');
        await admin.getByRole('button', { name: 'Grant premium' }).click();
        await admin.getByText('Premium granted for 30 days.').waitFor();
        await admin.reload();
        await admin.getByRole('heading', { name: /Eve Tester/ }).waitFor();
        const state = await admin.locator('.premium-state').innerText();
        check(state.startsWith('Active until'), `after reload the user page shows "${state}"`);
        await admin.locator('h1 .badge.premium').waitFor();
        premiumGranted = true;
        await shot(admin, 'admin-user');
      });

      await step('admin: users filter by premium and banned', async () => {
        await admin.getByRole('link', { name: 'Users', exact: true }).click();
        await admin.getByLabel('Premium').selectOption('true');
        await admin.getByRole('button', { name: 'Search' }).click();
        await admin.getByRole('link', { name: 'Eve Tester' }).waitFor();
        await admin.getByLabel('Banned').selectOption('true');
        await admin.getByRole('button', { name: 'Search' }).click();
        await admin.getByText('No users match.').waitFor();
      });

      await step('admin: a ban stops the user at once (shown in words), unban lets them back', async () => {
        await admin.goto(`${base}${userPage}`);
        await admin.getByRole('heading', { name: /Eve Tester/ }).waitFor();
        await admin.getByRole('button', { name: 'Ban' }).click();
        await admin.getByText('User banned.').waitFor();
        chat.allowStatus(403, '/api/v1/search');
        await page.getByRole('button', { name: 'Search' }).click();
        await page.getByLabel('Search text').fill('walks');
        await page.getByLabel('Search text').press('Enter');
        await page.getByText('If your account was blocked, please contact the operator.').waitFor();
        await noBareCodes(page);
        await admin.getByRole('button', { name: 'Unban' }).click();
        await admin.getByText('User unbanned.').waitFor();
        await page.getByRole('button', { name: 'Search', exact: true }).last().click();
        await page.locator('.result mark').first().waitFor();
      });

      await step('admin: payments, cleanup, backups, audit, flags and health screens', async () => {
        const visit = async (link, heading, name) => {
          await admin.getByRole('link', { name: link, exact: true }).click();
          await admin.getByRole('heading', { name: heading, exact: true }).waitFor();
          await shot(admin, name);
        };
        await visit('Payments', 'Payments', 'admin-payments');
        await visit('Cleanup', 'Cleanup', 'admin-cleanup');
        await admin.getByRole('button', { name: 'Delete old messages…' }).click();
        await admin.getByRole('button', { name: 'Yes, delete them' }).click();
        await admin.getByText(/Deleted \d+ messages older than 90 days/).waitFor();
        await visit('Backups', 'Backups', 'admin-backups');
        await admin.getByRole('button', { name: 'Create backup' }).click();
        await admin.getByText(/^Backup .+ created\.$/).waitFor();
        await admin.locator('table tbody tr').first().waitFor();
        await visit('Audit log', 'Audit log', 'admin-audit');
        await admin.locator('td').filter({ hasText: 'E2E: thank-you gift' }).first().waitFor();
        await visit('Feature flags', 'Feature flags', 'admin-flags');
        await visit('Health', 'Health', 'admin-health');
        await admin.getByText('Readiness:').waitFor();
        await noBareCodes(admin);
      });
      await desk.close();
    } else {
      skip('admin panel', 'the server under test has no /api/v1/admin/users and /stats routes yet (openapi.json)');
    }

    if (premiumGranted) {
      await step('the chat app shows premium after reload and the limit is lifted', async () => {
        await page.reload();
        await page.locator('.topbar .badge.premium').waitFor();
        await page.getByText('Premium: unlimited messages').waitFor();
        await page.getByLabel('Message').fill('Premium now, thank you!');
        await page.keyboard.press('Enter');
        await page.locator('.bubble.assistant:not(.streaming)').last().filter({ hasText: 'talk about next' }).waitFor();
      });
    }

    if (premiumGranted) {
      await step('history loads older messages when scrolled to the top', async () => {
        const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('evolveai.session')).token);
        for (let i = 0; i < 13; i += 1) {
          const response = await fetch(`${base}/api/v1/chat`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ message: `Seeded message ${i}` }),
          });
          check(response.status === 200, `seeding a message answered ${response.status}`);
        }
        await page.reload();
        await page.locator('.bubble.user').filter({ hasText: 'Seeded message 12' }).waitFor();
        const first = page.locator('.bubble.user').filter({ hasText: 'Hi! I like jazz and long walks.' });
        check((await first.count()) === 0, 'the whole history came in the first page');
        await page.locator('.messages').evaluate((element) => {
          element.scrollTop = 0;
        });
        await first.waitFor();
        await page.getByText('This is the beginning of your conversation.').waitFor();
        await shot(page, 'chat-history');
      });
    }

    await step('forget-me removes the conversation after a confirmation', async () => {
      await page.getByRole('button', { name: 'Account' }).click();
      await page.getByRole('button', { name: 'Forget me…' }).click();
      await page.getByRole('button', { name: 'Yes, forget everything' }).click();
      await page.getByText('your messages, summary and facts are forgotten').waitFor();
      await page.getByRole('button', { name: 'Chat' }).click();
      await page.getByText('Hi Eve!').waitFor();
    });
    await phone.close();

    // ------------------------------------------------------------ without Telegram's script; plain browser
    await step("signs in from the launch data alone when Telegram's script is unreachable", async () => {
      const context = await browser.newContext({ viewport: { width: 390, height: 800 }, colorScheme: 'light' });
      await context.route('https://telegram.org/**', (route) => route.abort('internetdisconnected'));
      const other = await context.newPage();
      other.setDefaultTimeout(kStepTimeout);
      watch(other, 'no-script', problems).allowUrl('https://telegram.org/');
      const second = { id: 770002, first_name: 'Sam', language_code: 'en' };
      await other.goto(miniAppUrl(signedInitData(second)));
      await other.getByText('Hi Sam!').waitFor();
      await context.close();
    });

    await step('a plain browser visit without sign-in data explains how to sign in', async () => {
      const context = await browser.newContext({ viewport: { width: 1024, height: 700 }, colorScheme: 'light' });
      const other = await context.newPage();
      other.setDefaultTimeout(kStepTimeout);
      watch(other, 'browser', problems);
      await other.goto(base);
      await other.getByText('Open EvolveAI from its Telegram bot to sign in.').waitFor();
      await shot(other, 'signin-browser');
      await context.close();
    });

    await step('signs in in a browser from the Login Widget redirect, light theme', async () => {
      const context = await browser.newContext({ viewport: { width: 1024, height: 700 }, colorScheme: 'light' });
      const other = await context.newPage();
      other.setDefaultTimeout(kStepTimeout);
      watch(other, 'widget', problems);
      const fields = signedWidgetFields({
        id: '770004',
        first_name: 'Lin',
        username: 'lin_e2e',
        auth_date: String(Math.floor(Date.now() / 1000)),
      });
      await other.goto(`${base}/?${new URLSearchParams(fields).toString()}`);
      await other.getByText('Hi Lin!').waitFor();
      check(new URL(other.url()).search === '', `the signed fields stay in the address: ${other.url()}`);
      const scheme = await other.evaluate(() => getComputedStyle(document.documentElement).colorScheme);
      check(scheme === 'light', `not the light theme: ${scheme}`);
      await shot(other, 'chat-browser-light');
      await context.close();
    });

    await step('a tampered initData is refused in words', async () => {
      const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
      await context.route('https://telegram.org/**', (route) => route.abort('internetdisconnected'));
      const other = await context.newPage();
      other.setDefaultTimeout(kStepTimeout);
      const watcher = watch(other, 'tampered', problems);
      watcher.allowUrl('https://telegram.org/');
      watcher.allowStatus(401, '/api/v1/auth');
      const forged = signedInitData({ id: 770003, first_name: 'Mallory' }).replace('Mallory', 'Mal');
      await other.goto(miniAppUrl(forged));
      await other.getByText('Please sign in again.').waitFor();
      await noBareCodes(other);
      await context.close();
    });
  } finally {
    await browser.close();
  }
  if (problems.length > 0) {
    for (const problem of problems) {
      log(`  console: ${problem}`);
    }
    throw new Error(`${problems.length} console or page error(s) during the run`);
  }
  log(`web e2e: ${passed} passed, 0 failed${skipped > 0 ? `, ${skipped} skipped` : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  log(`web e2e: failed: ${error.message}`);
  log(`web e2e: ${passed} passed, 1 failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  process.exit(1);
});
