// The explorer's Migrations and Usage pages in a real browser, on the two
// real clouds of scripts/clouds (CATENA_CLOUDS_DIR): `catena up --clouds`
// runs the gateway with migrations on and DC1's agent watching cloud a.
// An instance booted in cloud a with Nova's API shows up as DC1's VC; a
// spec pasted on the Migrations page is refused with its findings when
// invalid, and when valid runs its nine steps, watched live, to an
// instance in cloud b; Reset undoes it. The Usage page shows the source
// instance with its ledger uptime and its price. Screenshots go to
// $CATENA_ARTIFACTS/s2d.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const browser = require('../../support/browser.js');

const CLOUDS = process.env.CATENA_CLOUDS_DIR;
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPkkhD60nTQJTCO5HmlKgCyX2OOwopAz6aYCBhbs6yDc s2d-web';
const NAME = 's2d-web-src';
const MIGRATION_MS = 300000;

let session, cloud, srcId;

// clouds.env: KEY=VALUE lines, VALUE quoted as bash's %q does.
function cloudsEnv() {
  const env = {};
  for (const line of fs.readFileSync(path.join(CLOUDS, 'clouds.env'), 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2].replace(/\\(.)/g, '$1');
  }
  return env;
}

// A Keystone v3 session with cloud a as the test user: { token, nova }.
async function login(env) {
  const r = await fetch(env.CLOUD_A_AUTH_URL + '/auth/tokens', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth: {
      identity: { methods: ['password'], password: { user: { name: env.CLOUDS_USERNAME,
        domain: { name: 'Default' }, password: env.CLOUDS_PASSWORD } } },
      scope: { project: { name: env.CLOUDS_PROJECT, domain: { name: 'Default' } } } } }),
  });
  assert.equal(r.status, 201, 'keystone login');
  const body = await r.json();
  const nova = body.token.catalog.find((s) => s.type === 'compute').endpoints
    .find((e) => e.interface === 'public').url.replace(/\/$/, '');
  return { token: r.headers.get('x-subject-token'), nova };
}

async function nova(method, p, body) {
  const r = await fetch(cloud.nova + '/' + p, {
    method, headers: { 'Content-Type': 'application/json', 'X-Auth-Token': cloud.token,
      'OpenStack-API-Version': 'compute 2.79' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

async function cleanup() {
  const list = await nova('GET', `servers?name=^${NAME}$`);
  for (const s of (list.json && list.json.servers) || []) await nova('DELETE', `servers/${s.id}`);
  await nova('DELETE', `os-keypairs/${NAME}`);
}

before(async () => {
  assert.ok(CLOUDS && fs.existsSync(path.join(CLOUDS, 'clouds.yaml')), 'the clouds are not up (CATENA_CLOUDS_DIR)');
  const env = cloudsEnv();
  cloud = await login(env);
  await cleanup();
  assert.equal((await nova('POST', 'os-keypairs', { keypair: { name: NAME, public_key: PUBLIC_KEY } })).status, 201);
  const flavor = (await nova('GET', 'flavors')).json.flavors.find((f) => f.name === 'm1.small');
  const r = await nova('POST', 'servers', { server: { name: NAME, imageRef: env.CLOUD_A_IMAGE_ID,
    flavorRef: flavor.id, key_name: NAME, networks: [{ uuid: env.CLOUD_A_PRIVATE_NET_ID }] } });
  assert.equal(r.status, 202, JSON.stringify(r.json));
  srcId = r.json.server.id;
  for (let i = 0; ; i++) {
    const s = (await nova('GET', `servers/${srcId}`)).json.server;
    if (s.status === 'ACTIVE') break;
    assert.ok(s.status !== 'ERROR' && i < 600, `source server ${s.status}`);
    await browser.sleep(200);
  }
  session = await browser.start('s2d', ['--clouds', CLOUDS]);
});

after(async () => {
  await browser.stop(session);
  if (cloud) await cleanup();
});

function spec(instance) {
  return `<?xml version="1.0"?>
<MigrationSpecs>
  <CloudAlogIn><cloud>a</cloud></CloudAlogIn>
  <SnapshotToCreate><InstanceID>${instance}</InstanceID><SnapshotName>s2d-web-snap</SnapshotName></SnapshotToCreate>
  <CloudBlogIn><cloud>b</cloud></CloudBlogIn>
  <ImageToUpload><ImageName>s2d-web-image</ImageName><Format>raw</Format><Access>False</Access></ImageToUpload>
  <Keypair><Name>${NAME}</Name></Keypair>
  <InstanceToLaunch><InstanceName>s2d-web-dst</InstanceName><SecurityGroup>default</SecurityGroup></InstanceToLaunch>
  <AllocateIP><IP>new</IP></AllocateIP>
</MigrationSpecs>
`;
}

test('the instance booted in cloud a is DC1\'s VC (the agent watches its cloud)', async () => {
  const dc1 = session.fed.datacenters[0];
  const list = await session.until(`/container?id=${srcId}`, (j) => j.length === 1 && j[0].available === true);
  assert.equal(list[0].host.toLowerCase(), dc1.wallet.toLowerCase());
});

test('a spec pasted on the Migrations page: findings when invalid, nine steps watched live when valid, then reset', async () => {
  const token = session.fed.datacenters[0].token;
  const page = await session.context.newPage();
  await page.goto(session.base + '/explorer/#/migrations');
  await page.fill('#mig-token', token);
  await page.dispatchEvent('#mig-token', 'change');
  // Invalid: the schema's findings, element and line.
  await page.fill('#mig-spec', '<MigrationSpecs>\n<CloudAlogIn><cloud>a</cloud></CloudAlogIn>\n</MigrationSpecs>');
  await page.click('#mig-submit');
  await page.locator('#mig-finding-list li').first().waitFor();
  assert.match(await page.locator('#mig-finding-list').innerText(), /spec:\d+: Element/);
  await session.shot(page, '01-invalid-spec');

  await page.fill('#mig-spec', spec(srcId));
  await page.click('#mig-submit');
  await page.waitForURL(/#\/migration\/[0-9a-f-]+$/);
  const id = page.url().split('/').pop();
  // Live: the page follows the steps without a reload.
  await page.locator('#mig-steps tr.step[data-state="done"]').first().waitFor({ timeout: MIGRATION_MS });
  await page.locator('#mig-status', { hasText: 'done' }).waitFor({ timeout: MIGRATION_MS });
  assert.equal(await page.locator('#mig-steps tr.step[data-state="done"]').count(), 9);
  assert.match(await page.locator('#mig-fip').innerText(), /^\d+\.\d+\.\d+\.\d+$/);
  await session.shot(page, '02-migration-done');
  const m = (await session.http('GET', `/migrations/${id}`, token)).json;
  assert.equal(m.status, 'done');
  assert.equal(await page.locator('#mig-new-id').innerText(), m.data.overview.id);

  // The list shows it; Reset removes what it made.
  await page.goto(session.base + '/explorer/#/migrations');
  await page.locator(`#migration-list tr[data-id="${id}"]`).waitFor();
  await page.click(`#migration-list tr[data-id="${id}"] a`);
  await page.click('button[data-act="reset"]');
  await page.locator('#mig-status', { hasText: 'reset' }).waitFor({ timeout: MIGRATION_MS });
  await session.shot(page, '03-migration-reset');
  await page.close();
});

test('the Usage page shows the source instance with its ledger uptime and its price', async () => {
  const page = await session.context.newPage();
  await page.goto(session.base + '/explorer/#/usage');
  await page.fill('#usage-token', session.fed.datacenters[0].token);
  await page.dispatchEvent('#usage-token', 'change');
  await page.fill('#usage-cloud', 'a');
  await page.fill('#usage-vcpu', '2');
  await page.click('#usage-submit');
  const row = page.locator(`#usage tr.usage-row[data-id="${srcId}"]`);
  await page.locator('#usage, #usage-result .error').first().waitFor();
  assert.equal(await row.count(), 1, await page.locator('#usage-result').innerText());
  assert.match(await row.locator('.ledger-hours').innerText(), /^\d+\.\d{3} \(0x/);
  assert.match(await row.locator('.amount').innerText(), /^\d+\.\d{4}$/);
  assert.match(await page.locator('#usage-total').innerText(), /^\d+\.\d{4}$/);
  await session.shot(page, '04-usage');
  // A cloud the gateway does not know: named, no table.
  await page.fill('#usage-cloud', 'nowhere');
  await page.click('#usage-submit');
  await page.locator('#usage-result .error').waitFor();
  await page.close();
});
