// The explorer in a real browser: `catena up`, seed 000's flow over REST
// (Listings 5-13: register the VM, availability false, migration DC1 ->
// DC2 confirmed by DC2), then playwright-core drives Debian's chromium
// through the explorer pages (an agreement's too: offered and accepted
// with `catena agreement`, its session deployed) and Swagger UI. Screenshots go to
// $CATENA_ARTIFACTS/explorer. Everything started here is stopped in the
// after hook, also when a test fails.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const browser = require('../../support/browser.js');

const { ROOT, BIN } = browser;

const VM = {
  vc_type: 'openstack:vm', available: true, vcpu: 1, vram: 1024, vdisk: 10,
  id: 'b55f090c-67f0-4691-a736-104ebe82c2e9', ip_address: 'http://10.0.9.39',
  controller: 'http://10.0.9.2', created: '2018-09-11T14:46:23.470Z',
};

let session, fed, base, context, http, expectOk, until, shot;
const state = {};

before(async () => {
  session = await browser.start('explorer');
  ({ fed, base, context, http, expectOk, until, shot } = session);
});

after(async () => { await browser.stop(session); });

test('seed flow over REST', async () => {
  const [dc1, dc2] = fed.datacenters;
  state.dc1 = dc1;
  state.dc2 = dc2;
  const reg = await expectOk('POST', '/datacenter/DC1/container/register/', dc1.token, VM);
  state.tx = reg.tx_hash;
  const t = await until(`/transaction/${state.tx}/vctag/`, () => true);
  state.tag = t.vc_tag;
  await expectOk('POST', `/datacenter/DC1/container/${state.tag}/availability/change/`, dc1.token,
    { status: false, timestamp: '2018-09-13T09:08:10.768Z' });
  await expectOk('POST', `/datacenter/DC1/container/${state.tag}/migrate/pending/`, dc1.token,
    { target: 'DC2', price: 5, invoice: 13, timestamp: '2018-09-13T09:28:48.222Z' });
  await expectOk('POST', `/datacenter/DC2/container/${state.tag}/migrate/confirm/`, dc2.token, {
    id: 'c55f090c-67f0-4784-a736-215ebeb2c2e9', ip_address: 'http://10.9.0.12',
    controller: 'http://10.9.0.1', price: 5, invoice: 13, timestamp: '2018-09-13T09:48:48.222Z',
  });
  await expectOk('POST', `/datacenter/DC2/container/${state.tag}/availability/change/`, dc2.token,
    { status: true, timestamp: '2018-09-13T10:08:10Z' });
  const h = await until(`/container/${state.tag}/history/`, (j) => j.length === 5);
  assert.equal(h[3].name, 'ContainerMigrated');
});

test('overview and blocks list', async () => {
  const page = await context.newPage();
  await page.goto(base + '/explorer/');
  await page.locator('#overview').waitFor();
  await page.locator('#blocks tr.block-row').first().waitFor();
  assert.ok(await page.locator('#blocks tr.block-row').count() >= 5);
  // The page follows new blocks without a reload.
  const head = (await http('GET', '/chain/blocks?limit=1')).json.latest;
  await page.locator(`#blocks a[href="#/block/${head}"]`).waitFor();
  await shot(page, '01-overview');
  await page.click('nav a[href="#/blocks"]');
  await page.locator('h1', { hasText: 'Blocks' }).waitFor();
  await page.locator('#blocks tr.block-row').first().waitFor();
  await shot(page, '02-blocks');
  await page.close();
});

test('transaction of the registration shows the decoded registerContainer call', async () => {
  const page = await context.newPage();
  await page.goto(base + '/explorer/');
  await page.locator('#overview').waitFor();
  // Through the search box, as a user would.
  await page.fill('#q', state.tx);
  await page.click('#search button');
  await page.locator('#method').waitFor();
  assert.equal(await page.locator('#method').textContent(), 'registerContainer');
  const call = await page.locator('#decoded-call').textContent();
  assert.match(call, /b55f090c-67f0-4691-a736-104ebe82c2e9/);
  assert.match(await page.locator('#tx-events').textContent(), /ContainerRegistered/);
  assert.match(await page.locator('#raw-input').textContent(), /^0x[0-9a-f]{8}/);
  await shot(page, '03-tx-registerContainer');
  // Its block lists it with the method.
  await page.click('a[href^="#/block/"]');
  await page.locator('#block-txs').waitFor();
  assert.match(await page.locator('#block-txs').textContent(), /registerContainer/);
  await shot(page, '04-block');
  await page.close();
});

test('VC page: timeline across both DCs and the SLA chart', async () => {
  const page = await context.newPage();
  await page.goto(base + '/explorer/#/vc/' + state.tag);
  await page.locator('#timeline li.event').nth(4).waitFor();
  const tl = await page.locator('#timeline').textContent();
  assert.match(tl, /DC1/);
  assert.match(tl, /DC2/);
  assert.match(tl, /ContainerMigrated/);
  assert.match(tl, /c55f090c-67f0-4784-a736-215ebeb2c2e9/);
  assert.match(await page.locator('#vc-details').textContent(), /1 vCPU/);
  // The seed's day: one hour down.
  await page.fill('#sla-from', '2018-09-13T00:00');
  await page.fill('#sla-to', '2018-09-14T00:00');
  await page.click('#sla-form button');
  await page.locator('#sla-chart path').waitFor();
  const d = await page.locator('#sla-chart path').getAttribute('d');
  assert.ok(d && d.split('L').length > 4, 'chart path has the downtime step: ' + d);
  await page.locator('#sla-availability', { hasText: '95.8' }).waitFor();
  // The history checked against the chain, and how to check it oneself.
  await page.locator('#vc-verify-result .badge', { hasText: 'verified' }).waitFor();
  assert.match(await page.locator('#vc-verify-result').textContent(), /events proven/);
  assert.match(await page.locator('#vc-verify-reproduce').textContent(),
    new RegExp('catena verify bundle bundle.json --trust 0x[0-9a-f]{64}@\\d+'));
  await shot(page, '05-vc');
  // The DC pages list it at its new host.
  await page.goto(base + '/explorer/#/dcs');
  await page.locator('#dcs a', { hasText: 'DC2' }).click();
  await page.locator('table.vcs a[href="#/vc/' + state.tag + '"]').waitFor();
  await shot(page, '06-dc2');
  await page.close();
});

test('event monitor decodes events of a contract registered through the UI', async () => {
  const page = await context.newPage();
  await page.goto(base + '/explorer/#/monitor');
  await page.locator('#monitor-form').waitFor();
  // The ABI as a user would paste it, from the build's contract artefact
  // when present, else from the gateway.
  let abi, address = fed.contract;
  const artefact = path.join(path.dirname(BIN), 'contracts', 'catena-contracts.json');
  try {
    const j = JSON.parse(fs.readFileSync(artefact, 'utf8'));
    const find = (o) => (o && typeof o === 'object'
      ? (o.Federation && o.Federation.abi) || Object.values(o).map(find).find(Boolean) : null);
    abi = find(j);
  } catch (e) { abi = null; }
  if (!abi) abi = (await http('GET', '/chain/abi')).json.abi;
  await page.fill('#mon-address', address);
  await page.fill('#mon-label', 'Federation (pasted)');
  // Registering needs a DC's bearer token (kept by the page).
  await page.fill('#mon-token', state.dc1.token);
  await page.locator('#mon-token').dispatchEvent('change');
  await page.fill('#mon-abi', JSON.stringify(abi));
  await page.locator('#mon-events input[value="ContainerMigrated"]').waitFor();
  // Watch only the migrations.
  for (const box of await page.locator('#mon-events input').all())
    if ((await box.getAttribute('value')) !== 'ContainerMigrated') await box.uncheck();
  await page.click('#mon-submit');
  const row = page.locator('tr.decoded-log', { hasText: 'ContainerMigrated' }).first();
  await row.waitFor();
  assert.match(await row.textContent(), /c55f090c-67f0-4784-a736-215ebeb2c2e9/);
  assert.equal(await page.locator('tr.decoded-log').count(), 1);
  // The registration persists in the gateway's cache.
  const list = (await http('GET', '/chain/monitor')).json;
  assert.equal(list.length, 1);
  assert.deepEqual(list[0].events, ['ContainerMigrated']);
  // A new matching event shows up without a reload: retire is not
  // watched, so register a second VM and migrate it.
  const vm2 = { ...VM, id: 'a0000000-0000-4000-8000-000000000002' };
  const r = await expectOk('POST', '/datacenter/DC1/container/register/', state.dc1.token, vm2);
  const t2 = (await until(`/transaction/${r.tx_hash}/vctag/`, () => true)).vc_tag;
  await expectOk('POST', `/datacenter/DC1/container/${t2}/migrate/pending/`, state.dc1.token,
    { target: 'DC2', price: 1, invoice: 2, timestamp: '2018-09-14T09:00:00Z' });
  await expectOk('POST', `/datacenter/DC2/container/${t2}/migrate/confirm/`, state.dc2.token, {
    id: 'a0000000-0000-4000-8000-000000000003', ip_address: 'http://10.9.0.13',
    controller: 'http://10.9.0.1', price: 1, invoice: 2, timestamp: '2018-09-14T09:10:00Z',
  });
  await page.locator('tr.decoded-log', { hasText: 'a0000000-0000-4000-8000-000000000003' }).waitFor();
  await shot(page, '07-monitor');
  await page.close();
});

test('monitor registrations are bounded (count and label)', async () => {
  const abi = (await http('GET', '/chain/abi')).json.abi;
  const body = (label) => ({ address: fed.contract, label, abi: JSON.stringify(abi), events: ['ContainerRetired'] });
  const tok = state.dc1.token;
  assert.equal((await http('POST', '/chain/monitor', null, body('no token'))).status, 401);
  const long = await http('POST', '/chain/monitor', tok, body('x'.repeat(129)));
  assert.equal(long.status, 400);
  assert.match(long.json.error, /label/);
  const before = (await http('GET', '/chain/monitor')).json.length;
  const added = [];
  for (let i = before; i < 64; i++) {
    const r = await http('POST', '/chain/monitor', tok, body(`bound ${i}`));
    assert.equal(r.status, 201, JSON.stringify(r.json));
    added.push(r.json.id);
  }
  const over = await http('POST', '/chain/monitor', tok, body('one too many'));
  assert.equal(over.status, 400);
  assert.match(over.json.error, /at most 64 monitors/);
  for (const id of added) assert.equal((await http('DELETE', `/chain/monitor/${id}`, tok)).status, 200);
  assert.equal((await http('GET', '/chain/monitor')).json.length, before);
});

// `catena agreement ARGS --up-dir DIR`; resolves with its stdout.
function agreementCli(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, ['agreement', ...args, '--up-dir', path.join(session.tmp, 'up')], { cwd: ROOT });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`catena agreement ${args.join(' ')}: ${err}`))));
  });
}

test('agreements page: the session deployed on accept, its link, and the settlement', async () => {
  const price = 1000000000000n;
  const addr = JSON.parse(await agreementCli(['offer', '--kind', 'dynamic', '--price', String(price),
    '--max-seconds', '3600', '--json'])).agreement;
  await agreementCli(['accept', addr, '--deposit', String(price)]);
  const a = await until('/agreements/' + addr, (j) => j.session_url);
  const page = await context.newPage();
  await page.goto(base + '/explorer/#/agreements');
  const row = page.locator(`#agreements tr[data-address="${addr.toLowerCase()}"]`);
  await row.locator('.state', { hasText: 'active' }).waitFor();
  assert.equal(await row.locator('a.session').getAttribute('href'), a.session_url);
  await shot(page, '09-agreements');
  await row.locator('a[href^="#/agreement/"]').click();
  await page.locator('#ag-session a.session').waitFor();
  await page.locator(`#agreement a[href="#/vc/${a.vc_tag}"]`).waitFor();
  assert.match(await page.locator('#agreement').textContent(), /DC1/);
  assert.equal((await fetch(a.session_url)).status, 200); // the session the link leads to
  await agreementCli(['stop', addr]);
  await page.locator('#agreement-state', { hasText: 'settled' }).waitFor();
  const settled = await expectOk('GET', '/agreements/' + addr);
  assert.equal(BigInt(settled.charged) + BigInt(settled.refunded), price);
  await page.locator('#ag-refunded', { hasText: settled.refunded }).waitFor();
  assert.match(await page.locator('#owed').textContent(), /\(user\)/);
  await shot(page, '10-agreement');
  await page.close();
});

test('Swagger UI loads and a "try it out" GET succeeds', async () => {
  const page = await context.newPage();
  await page.goto(base + '/api/swagger/');
  const opblock = page.locator('.opblock-get', { hasText: '/chain/overview' }).first();
  await opblock.waitFor();
  await opblock.locator('.opblock-summary').click();
  await opblock.locator('button.try-out__btn').click();
  await opblock.locator('button.execute').click();
  const status = opblock.locator('.live-responses-table .response .response-col_status').first();
  await status.waitFor();
  assert.match(await status.textContent(), /200/);
  // The response body, as Swagger UI shows it.
  await opblock.locator('.live-responses-table', { hasText: 'chain_id' }).first().waitFor();
  await shot(page, '08-swagger-try-it-out');
  await page.close();
});
