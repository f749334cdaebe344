// What the browser tests share: a `catena up` of their own (stopped with
// everything it started, also when a test fails; logs checked for
// sanitizer reports), the gateway's REST API, and Debian's chromium driven
// by playwright-core. Screenshots go to $CATENA_ARTIFACTS/<suite>.
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = process.env.CATENA_ROOT || path.resolve(__dirname, '../..');
const BIN = process.env.CATENA_BIN || path.join(ROOT, 'build/catena');
const { chromium } = require(path.join(ROOT, 'node_modules/playwright-core'));
// Under ASan the binary is slow; every wait is generous.
const WAIT_MS = 60000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return false; }
}

function childrenOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch (e) { return []; }
}

// Kills the process groups of up and its services at once (SIGKILL).
function killAll(s) {
  for (const pid of [s.up && s.up.pid, ...(s.children || [])]) {
    if (!pid) continue;
    try { process.kill(-pid, 'SIGKILL'); } catch (e) { /* gone */ }
    try { process.kill(pid, 'SIGKILL'); } catch (e) { /* gone */ }
  }
}

// `catena up` runs in a group of its own (detached), so a signal to this
// test's group does not reach it: a test stopped by a signal (a runner's
// timeout, an operator's Ctrl-C) kills what it started before it goes.
const live = new Set();
process.on('exit', () => { for (const s of live) killAll(s); });
for (const [sig, code] of [['SIGTERM', 143], ['SIGINT', 130], ['SIGHUP', 129]])
  process.on(sig, () => process.exit(code));

// Starts `catena up` (extra arguments appended) in a new temporary folder
// and a headless chromium. Returns the session: { tmp, fed, base,
// context, http, expectOk, until, shot, stop }.
async function start(suite, extra) {
  const s = { suite, artifacts: path.join(process.env.CATENA_ARTIFACTS || path.join(os.tmpdir(), 'catena-artifacts'), suite) };
  fs.mkdirSync(s.artifacts, { recursive: true });
  s.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `catena-${suite}-`));
  const log = fs.openSync(path.join(s.tmp, 'up.log'), 'w');
  s.up = spawn(BIN, ['up', '--dir', path.join(s.tmp, 'up'), '--rpc-port', '0', '--api-port', '0', ...(extra || [])],
    { cwd: ROOT, detached: true, stdio: ['ignore', log, log], env: { ...process.env, CATENA_ROOT: ROOT } });
  s.children = [];
  s.stop = () => stop(s);
  live.add(s);
  const fedPath = path.join(s.tmp, 'up', 'federation.json');
  const end = Date.now() + 180000;
  while (!fs.existsSync(fedPath)) {
    if (s.up.exitCode !== null || Date.now() > end)
      throw new Error('catena up did not start: ' + fs.readFileSync(path.join(s.tmp, 'up.log'), 'utf8'));
    await sleep(200);
  }
  await sleep(100);
  s.fed = JSON.parse(fs.readFileSync(fedPath, 'utf8'));
  s.children = childrenOf(s.up.pid);
  s.base = s.fed.api_url.replace(/\/api\/?$/, '');
  s.http = async (method, p, token, body, contentType) => {
    const headers = { 'Content-Type': contentType || 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    const r = await fetch(s.base + '/api' + p, { method, headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch (e) { json = text; }
    return { status: r.status, json };
  };
  s.expectOk = async (method, p, token, body) => {
    const r = await s.http(method, p, token, body);
    assert.equal(r.status, 200, `${method} ${p}: ${JSON.stringify(r.json)}`);
    return r.json;
  };
  // GETs p until pred(json) holds (the follower may lag a little).
  s.until = async (p, pred, token, waitMs) => {
    const until = Date.now() + (waitMs || WAIT_MS);
    let last;
    while (Date.now() < until) {
      last = await s.http('GET', p, token);
      if (last.status === 200 && pred(last.json)) return last.json;
      await sleep(200);
    }
    throw new Error(`GET ${p}: condition not met, last ${last.status} ${JSON.stringify(last.json)}`);
  };
  s.shot = (page, name) => page.screenshot({ path: path.join(s.artifacts, name + '.png'), fullPage: true });
  s.context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(s.tmp, 'chromium-')), {
    executablePath: process.env.CATENA_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1366, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    timeout: WAIT_MS,
  });
  s.context.setDefaultTimeout(WAIT_MS);
  return s;
}

// Stops the browser and everything `catena up` started; throws when a
// service's log holds a sanitizer report (the logs are then kept).
async function stop(s) {
  if (!s) return;
  if (s.context) await s.context.close().catch(() => {});
  if (s.up && s.up.exitCode === null) {
    try { process.kill(s.up.pid, 'SIGTERM'); } catch (e) { /* gone */ }
    const end = Date.now() + 20000;
    while (alive(s.up.pid) && s.up.exitCode === null && Date.now() < end) await sleep(100);
  }
  // Whatever survived: kill the process groups of up and its services.
  killAll(s);
  live.delete(s);
  // Under ASan/UBSan the services report at exit into their logs.
  const reports = [];
  for (const dir of [s.tmp, path.join(s.tmp, 'up'), path.join(s.tmp, 'up', 'sessions')]) {
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      if (!f.endsWith('.log')) continue;
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      if (/ERROR: (Address|Leak)Sanitizer|runtime error:/.test(text)) reports.push(`${f}:\n${text}`);
    }
  }
  if (!process.env.CATENA_KEEP_TMP && reports.length === 0)
    fs.rmSync(s.tmp, { recursive: true, force: true });
  if (reports.length > 0) throw new Error('sanitizer reports (logs kept in ' + s.tmp + '):\n' + reports.join('\n'));
}

module.exports = { ROOT, BIN, WAIT_MS, sleep, start, stop };
