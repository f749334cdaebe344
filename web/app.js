/* Catena explorer: a small single-page app over the gateway's JSON API
 * (/api/chain/... for the chain, /api/datacenter and /api/container for
 * the federation, /api/agreements for seed 004's agreements, /api/migrations
 * and /api/usage for seed 001's migrations and metering). Routes live in the
 * URL hash; the current view refreshes every 2 s without reloading the page. */
'use strict';

const POLL_MS = 2000;
const MONITOR_PAGE = 50; // newest logs shown per monitor
const view = document.getElementById('view');
const statusBox = document.getElementById('status');
let refreshTimer = null;
let dcNames = {}; // wallet (lowercase) -> DC name

function esc(v) {
  return String(v === undefined || v === null ? '' : v).replace(/[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

/* A bearer token, kept in this browser only: monitor changes need one, and
 * reads too when the gateway sets reads_need_token. */
function token() { try { return localStorage.getItem('catena-token') || ''; } catch (e) { return ''; } }

async function api(path, opts) {
  opts = Object.assign({}, opts);
  if (token()) opts.headers = Object.assign({}, opts.headers, { Authorization: 'Bearer ' + token() });
  const r = await fetch('/api' + path, opts);
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    const e = new Error((body && body.error) || ('HTTP ' + r.status + ' for ' + path));
    e.body = body;
    throw e;
  }
  return body;
}

function short(h, n) {
  n = n || 10;
  h = String(h || '');
  return h.length > 2 * n + 2 ? h.slice(0, n + 2) + '…' + h.slice(-n) : h;
}
const blockLink = (n) => `<a href="#/block/${esc(n)}">${esc(n)}</a>`;
const txLink = (h) => `<a class="mono" href="#/tx/${esc(h)}" title="${esc(h)}">${esc(short(h))}</a>`;
const vcLink = (t) => `<a class="mono" href="#/vc/${esc(t)}" title="${esc(t)}">${esc(short(t))}</a>`;
function dcLink(w) {
  if (!w) return '';
  const name = dcNames[String(w).toLowerCase()];
  return `<a href="#/dc/${esc(w)}" title="${esc(w)}">${esc(name || short(w, 6))}</a>`;
}
function card(k, v) { return `<div class="card"><div class="k">${esc(k)}</div><div class="v">${v}</div></div>`; }
function kv(obj) {
  return '<dl class="kv">' + Object.keys(obj).map((k) => `<dt>${esc(k)}</dt><dd>${obj[k]}</dd>`).join('') + '</dl>';
}
function argsTable(args) {
  if (!args) return '';
  return '<table><tr><th>Parameter</th><th>Value</th></tr>' + Object.keys(args).map((k) =>
    `<tr><td>${esc(k)}</td><td class="mono">${esc(typeof args[k] === 'object' ? JSON.stringify(args[k]) : args[k])}</td></tr>`).join('') + '</table>';
}

async function loadDcNames() {
  try {
    const list = await api('/datacenter');
    for (const d of list) dcNames[String(d.wallet).toLowerCase()] = d.name;
  } catch (e) { /* names are a nicety */ }
}

/* ---------------------------------------------------------------- views */

async function overview() {
  const [o, b] = await Promise.all([api('/chain/overview'), api('/chain/blocks?limit=10')]);
  const t = o.latest_block;
  return `<h1>Chain overview</h1>
  <div class="cards" id="overview">
    ${card('Chain id', esc(o.chain_id))}
    ${card('Client', esc(o.client_version))}
    ${card('Latest block', blockLink(t.number))}
    ${card('Block time', esc(t.time))}
    ${card('Datacenters', `<a href="#/dcs">${esc(o.datacenters)}</a>`)}
    ${card('Containers', `<a href="#/vcs">${esc(o.containers)}</a>`)}
    ${card('Follower lag', esc(o.follower_lag_blocks) + ' blocks')}
    ${card('Federation contract', `<span class="mono">${esc(o.contract)}</span>`)}
  </div>
  <h2>Latest blocks</h2>${blocksTable(b.blocks)}`;
}

function blocksTable(blocks) {
  return `<table id="blocks"><tr><th>Block</th><th>Time</th><th>Transactions</th><th>Gas used</th><th>Hash</th></tr>` +
    blocks.map((b) => `<tr class="block-row"><td>${blockLink(b.number)}</td><td>${esc(b.time)}</td>
      <td>${esc(b.tx_count)}</td><td>${esc(b.gas_used)}</td><td class="mono">${esc(short(b.hash))}</td></tr>`).join('') +
    '</table>';
}

async function blocks(params) {
  const before = params.get('before');
  const b = await api('/chain/blocks?limit=20' + (before ? '&before=' + encodeURIComponent(before) : ''));
  const last = b.blocks.length ? b.blocks[b.blocks.length - 1].number : 0;
  return `<h1>Blocks</h1>${blocksTable(b.blocks)}
    <div class="pager">${before ? '<a href="#/blocks">Newest</a>' : ''}
    ${last > 0 ? `<a href="#/blocks?before=${last}">Older →</a>` : ''}</div>`;
}

async function block(id) {
  const b = await api('/chain/block/' + encodeURIComponent(id));
  const rows = b.transactions.map((t) => `<tr><td>${txLink(t.hash)}</td><td class="mono">${esc(t.from)}</td>
    <td class="mono">${esc(t.to || '(contract creation)')}</td><td>${esc(t.method || '')}</td></tr>`).join('');
  return `<h1>Block ${esc(b.number)}</h1>
  ${kv({ Number: esc(b.number), Hash: `<span class="mono">${esc(b.hash)}</span>`,
    Parent: b.number > 0 ? `<a class="mono" href="#/block/${esc(b.number - 1)}">${esc(b.parent_hash)}</a>` : esc(b.parent_hash),
    Time: esc(b.time), 'Gas used': esc(b.gas_used) + ' of ' + esc(b.gas_limit), Miner: `<span class="mono">${esc(b.miner)}</span>` })}
  <h2>Transactions (${b.transactions.length})</h2>
  <table id="block-txs"><tr><th>Hash</th><th>From</th><th>To</th><th>Method</th></tr>${rows}</table>`;
}

async function tx(hash) {
  const t = await api('/chain/tx/' + encodeURIComponent(hash));
  const status = `<span class="badge ${t.status === 'success' ? 'ok' : 'bad'}">${esc(t.status)}</span>`;
  const events = t.events.map((e) => `<h3>${esc(e.event || '(undecoded log)')} <small class="mono">log ${esc(e.log_index)} · ${esc(e.address)}</small></h3>` +
    (e.args ? argsTable(e.args) : `<pre>${esc(JSON.stringify({ topics: e.topics, data: e.data }, null, 1))}</pre>`)).join('');
  return `<h1>Transaction</h1>
  ${kv({ Hash: `<span class="mono">${esc(t.hash)}</span>`, Status: status, Block: blockLink(t.block_number),
    From: `<span class="mono">${esc(t.from)}</span>`, To: `<span class="mono">${esc(t.to || '(contract creation)')}</span>`,
    Nonce: esc(t.nonce), Gas: esc(t.gas_used) + ' used of ' + esc(t.gas), Value: esc(t.value) })}
  <h2>Decoded call</h2>
  <div id="decoded-call">${t.method ? `<p>Method <b id="method">${esc(t.method)}</b> of the Federation contract</p>${argsTable(t.args)}` : '<p>Not a Federation contract call.</p>'}</div>
  <h2>Events (${t.events.length})</h2><div id="tx-events">${events || '<p>None.</p>'}</div>
  <h2>Raw input</h2><pre id="raw-input">${esc(t.input)}</pre>`;
}

async function dcs() {
  const list = await api('/datacenter');
  return `<h1>Datacenters</h1><table id="dcs"><tr><th>Name</th><th>Wallet</th><th>Registered at</th><th>Containers</th></tr>` +
    list.map((d) => `<tr><td><a href="#/dc/${esc(d.wallet)}">${esc(d.name)}</a></td><td class="mono">${esc(d.wallet)}</td>
      <td>${esc(d.registered_at)}</td><td>${esc(d.containers)}</td></tr>`).join('') + '</table>';
}

function vcsTable(list) {
  return `<table class="vcs"><tr><th>VC tag</th><th>Type</th><th>Id</th><th>Host</th><th>Available</th><th>Updated</th></tr>` +
    list.map((v) => `<tr><td>${vcLink(v.vc_tag)}</td><td>${esc(v.vc_type)}</td><td class="mono">${esc(v.id)}</td>
      <td>${dcLink(v.host)}</td><td>${v.retired ? '<span class="badge">retired</span>' : `<span class="badge ${v.available ? 'ok' : 'bad'}">${v.available ? 'yes' : 'no'}</span>`}</td>
      <td>${esc(v.updated)}</td></tr>`).join('') + '</table>';
}

async function dc(wallet) {
  const [d, list] = await Promise.all([api('/datacenter/' + encodeURIComponent(wallet) + '/details'),
    api('/container?limit=1000&dc=' + encodeURIComponent(wallet))]);
  return `<h1>Datacenter ${esc(d.name)}</h1>
  ${kv({ Name: esc(d.name), Wallet: `<span class="mono">${esc(d.wallet)}</span>`, Registered: esc(d.registered) })}
  <h2>Containers hosted (${list.length})</h2>${vcsTable(list)}`;
}

async function vcs() {
  const list = await api('/container?limit=1000');
  return `<h1>Containers</h1>${vcsTable(list)}`;
}

/* ---------------------------------------------------------------- VC page */

/* The lifecycle as text per event, following the VC's id across DCs. */
function timelineItems(history) {
  let id = null;
  return history.map((e) => {
    const a = e.args || {};
    let what = '';
    switch (e.name) {
      case 'ContainerRegistered':
        id = a.id;
        what = `Registered at ${dcLink(a.owner)} with id <span class="mono">${esc(a.id)}</span>, ${a.available ? 'available' : 'unavailable'}`;
        break;
      case 'ContainerAvailabilityChanged':
        what = `${a.available ? 'Available' : 'Unavailable'} at ${dcLink(a.host)}`;
        break;
      case 'ContainerMigrationPending':
        what = `Migration intent ${dcLink(a.from)} → ${dcLink(a.to)} (price ${esc(a.price)}, invoice ${esc(a.invoice)})`;
        break;
      case 'ContainerMigrated':
        what = `Migration confirmed ${dcLink(a.from)} → ${dcLink(a.to)}: id <span class="mono">${esc(id)}</span> → <span class="mono">${esc(a.id)}</span>`;
        id = a.id;
        break;
      case 'ContainerRetired':
        what = `Retired at ${dcLink(a.host)}`;
        break;
      default:
        what = esc(JSON.stringify(a));
    }
    return `<li class="event"><b>${esc(e.name)}</b> — ${what}
      <div class="when">reported ${esc(a.timestamp || '')} · block ${blockLink(e.block_number)} · tx ${txLink(e.tx_hash)}</div></li>`;
  }).join('');
}

function toLocalInput(iso) { return iso ? String(iso).slice(0, 16) : ''; }

/* Default SLA window: from registration to a day after the last change. */
function defaultWindow(history) {
  const times = history.map((e) => Date.parse((e.args && e.args.timestamp) || e.created)).filter((x) => !isNaN(x));
  const from = times.length ? Math.min(...times) : Date.now() - 86400000;
  const to = Math.min(Date.now(), (times.length ? Math.max(...times) : Date.now()) + 86400000);
  return [new Date(from).toISOString(), new Date(Math.max(to, from + 60000)).toISOString()];
}

/* Availability over the window as an SVG step line (1 up, 0 down). */
function slaChart(sla) {
  const W = 1000, H = 160, P = 30;
  const t0 = Date.parse(sla.from), t1 = Date.parse(sla.to);
  const x = (t) => P + ((t - t0) / Math.max(1, t1 - t0)) * (W - 2 * P);
  const yUp = 30, yDown = H - 30;
  let d = `M ${x(t0).toFixed(1)} ${yUp}`;
  for (const iv of sla.downtime) {
    const a = Math.max(t0, Date.parse(iv.from)), b = Math.min(t1, Date.parse(iv.to));
    d += ` L ${x(a).toFixed(1)} ${yUp} L ${x(a).toFixed(1)} ${yDown} L ${x(b).toFixed(1)} ${yDown} L ${x(b).toFixed(1)} ${yUp}`;
  }
  d += ` L ${x(t1).toFixed(1)} ${yUp}`;
  const label = (t, anchor) => `<text x="${x(t).toFixed(1)}" y="${H - 6}" font-size="12" text-anchor="${anchor}" fill="#556">${esc(new Date(t).toISOString().slice(0, 16).replace('T', ' '))}</text>`;
  return `<svg id="sla-chart" viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="availability over time">
    <line x1="${P}" y1="${yUp}" x2="${W - P}" y2="${yUp}" stroke="#cde" stroke-dasharray="4 4"/>
    <line x1="${P}" y1="${yDown}" x2="${W - P}" y2="${yDown}" stroke="#cde" stroke-dasharray="4 4"/>
    <text x="2" y="${yUp + 4}" font-size="12" fill="#556">up</text><text x="2" y="${yDown + 4}" font-size="12" fill="#556">down</text>
    <path d="${d}" fill="none" stroke="#2d6cb5" stroke-width="2.5"/>
    ${label(t0, 'start')}${label(t1, 'end')}</svg>`;
}

async function vc(tag) {
  const [d, f, h] = await Promise.all([api(`/container/${tag}/details`), api(`/container/${tag}/flavor`),
    api(`/container/${tag}/history`)]);
  await loadDcNames();
  const [from, to] = defaultWindow(h);
  return {
    html: `<h1>Container <span class="mono">${esc(short(tag, 8))}</span></h1>
    <div id="vc-details">${vcDetails(d, f, tag)}</div>
    <h2>Lifecycle across datacenters</h2><ul class="timeline" id="timeline">${timelineItems(h)}</ul>
    <h2>SLA availability</h2>
    <form class="row" id="sla-form">
      <label>From (UTC)<input type="datetime-local" id="sla-from" value="${toLocalInput(from)}"></label>
      <label>To (UTC)<input type="datetime-local" id="sla-to" value="${toLocalInput(to)}"></label>
      <label>Target %<input type="number" id="sla-target" value="99" min="0" max="100" step="0.1"></label>
      <button type="submit">Show</button>
    </form>
    <div id="sla-summary"></div><div class="chart" id="sla"></div>
    <h2>Verification</h2>
    <div id="vc-verify"><p>Checking this history against the chain…</p></div>
    <button type="button" class="secondary" id="vc-verify-again">Check again</button>`,
    after: () => {
      document.getElementById('sla-form').addEventListener('submit', (ev) => { ev.preventDefault(); drawSla(tag); });
      document.getElementById('vc-verify-again').addEventListener('click', () => drawVerify(tag));
      drawSla(tag);
      drawVerify(tag);
    },
    refresh: async () => {
      const [d2, f2, h2] = await Promise.all([api(`/container/${tag}/details`), api(`/container/${tag}/flavor`),
        api(`/container/${tag}/history`)]);
      setHtml('vc-details', vcDetails(d2, f2, tag));
      setHtml('timeline', timelineItems(h2));
      await drawSla(tag);
    },
  };
}

function vcDetails(d, f, tag) {
  return kv({ 'VC tag': `<span class="mono">${esc(tag)}</span>`, Type: esc(d.vc_type), Id: `<span class="mono">${esc(d.id)}</span>`,
    Host: dcLink(d.host), Owner: dcLink(d.owner),
    Available: d.retired ? 'retired' : `<span class="badge ${d.available ? 'ok' : 'bad'}">${d.available ? 'yes' : 'no'}</span>`,
    'IP address': esc(d.ip_address), Controller: esc(d.controller), Created: esc(d.created), Updated: esc(d.updated),
    Flavour: `${esc(f.vcpu)} vCPU · ${esc(f.vram)} MiB RAM · ${esc(f.vdisk)} GiB disk` });
}

/* The gateway's answers checked against its node's block hashes, receipts
 * and state (GET /container/{tag}/verify/), and how to check them
 * without trusting the gateway (docs/VERIFY.md). Run on demand, not at
 * every refresh: it reads every block since the VC's registration. */
async function drawVerify(tag) {
  setHtml('vc-verify', '<p>Checking this history against the chain…</p>');
  let r;
  try { r = await api(`/container/${tag}/verify/`); } catch (e) {
    setHtml('vc-verify', `<p class="error">${esc(e.message)}</p>`);
    return;
  }
  const problems = (r.problems || []).map((p) => `<li><b>${esc(p.kind)}</b>: ${esc(p.message)}</li>`).join('');
  const state = r.state ? `host ${dcLink(r.state.host)}, available ${r.state.available ? 'yes' : 'no'}${r.state.retired ? ', retired' : ''}`
    : esc(r.state_note || 'not proven');
  setHtml('vc-verify', `<p id="vc-verify-result"><span class="badge ${r.ok ? 'ok' : 'bad'}">${r.ok ? 'verified' : 'does not match the chain'}</span>
    ${esc(r.events)} events proven from the receipts of ${esc(r.blocks_with_receipts)} blocks
    (blooms of all ${esc(r.blocks)} blocks ${esc(r.from)} to ${esc(r.head)} checked), ${esc(r.claimed)} shown here,
    against ${esc(r.against)}. Proven state: ${state}.</p>
    ${problems ? `<ul id="vc-verify-problems">${problems}</ul>` : ''}
    <p>Do not take the gateway's word for it. Check against a node you trust:</p>
    <pre class="mono" id="vc-verify-reproduce">${esc(r.reproduce)}</pre>
    <p>(head block ${esc(r.head)} is <span class="mono">${esc(r.head_hash)}</span>: check that hash on your node first;
    <a href="/api/container/${esc(tag)}/proof/" download="vc-${esc(short(tag, 4))}.json">download the bundle</a>)</p>`);
}

async function drawSla(tag) {
  const from = document.getElementById('sla-from'), to = document.getElementById('sla-to');
  const target = document.getElementById('sla-target');
  if (!from || !to) return;
  const q = `from=${encodeURIComponent(from.value + ':00Z')}&to=${encodeURIComponent(to.value + ':00Z')}&target=${encodeURIComponent(target.value)}`;
  const s = await api(`/container/${tag}/sla/?${q}`);
  setHtml('sla-summary', `<p>Availability <b id="sla-availability">${esc(s.availability)}%</b> (target ${esc(s.target)}%),
    downtime ${esc(s.downtime_seconds)} s over ${esc(s.measured_seconds)} s measured:
    <span class="badge ${s.state === 'ok' ? 'ok' : 'bad'}">${esc(s.state)}</span></p>`);
  setHtml('sla', slaChart(s));
}

/* ---------------------------------------------------------------- event monitor */

async function monitor() {
  const list = await api('/chain/monitor');
  return {
    html: `<h1>Event monitor</h1>
    <p>Register a contract: paste its address and ABI JSON, pick the events to watch. Matching logs appear below, decoded, as blocks arrive.</p>
    <form id="monitor-form">
      <div class="row">
        <label>Contract address<input id="mon-address" size="46" placeholder="0x…" required></label>
        <label>Label<input id="mon-label" placeholder="optional"></label>
        <label>Bearer token<input id="mon-token" type="password" placeholder="a DC's token (needed to add or remove)"></label>
        <button type="button" class="secondary" id="mon-federation">Use the Federation contract</button>
      </div>
      <label>ABI JSON<textarea id="mon-abi" placeholder='[{"type":"event","name":"Transfer",...}]'></textarea></label>
      <div class="events-choice" id="mon-events"></div>
      <button type="submit" id="mon-submit">Watch</button>
    </form>
    <div id="monitors">${monitorsHtml(list)}</div>`,
    after: () => {
      const abiBox = document.getElementById('mon-abi');
      const tokenBox = document.getElementById('mon-token');
      tokenBox.value = token();
      tokenBox.addEventListener('change', () => { try { localStorage.setItem('catena-token', tokenBox.value.trim()); } catch (e) { /* private mode */ } });
      abiBox.addEventListener('input', () => showEventChoices(abiBox.value));
      document.getElementById('mon-federation').addEventListener('click', async () => {
        const f = await api('/chain/abi');
        document.getElementById('mon-address').value = f.address;
        document.getElementById('mon-label').value = f.name;
        abiBox.value = JSON.stringify(f.abi, null, 1);
        showEventChoices(abiBox.value);
      });
      document.getElementById('monitor-form').addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const events = [...document.querySelectorAll('#mon-events input:checked')].map((c) => c.value);
        try {
          await api('/chain/monitor', { method: 'POST', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ address: document.getElementById('mon-address').value.trim(),
              label: document.getElementById('mon-label').value, abi: abiBox.value, events }) });
          setStatus('');
          await refreshMonitors();
        } catch (e) { setStatus(e.message); }
      });
      refreshMonitors();
    },
    refresh: refreshMonitors,
  };
}

function showEventChoices(text) {
  const box = document.getElementById('mon-events');
  let abi;
  try { abi = JSON.parse(text); } catch (e) { box.innerHTML = '<span>ABI is not valid JSON yet.</span>'; return; }
  const names = (Array.isArray(abi) ? abi : []).filter((e) => e.type === 'event').map((e) => e.name);
  box.innerHTML = names.length ? names.map((n) => `<label><input type="checkbox" value="${esc(n)}" checked> ${esc(n)}</label>`).join('') : '<span>No events in this ABI.</span>';
}

function monitorsHtml(list) {
  if (!list.length) return '<p>No contracts registered yet.</p>';
  return list.map((m) => `<section class="monitor" data-id="${esc(m.id)}">
    <h2>#${esc(m.id)} ${esc(m.label)} <small class="mono">${esc(m.address)}</small>
      <button class="secondary" data-del="${esc(m.id)}">Remove</button></h2>
    <p>Watching: ${esc(m.events.length ? m.events.join(', ') : 'all events')};
      read up to block <span class="synced">${esc(m.synced_block === null ? '…' : m.synced_block)}</span> (newest ${MONITOR_PAGE} below)</p>
    <div class="logs" id="logs-${esc(m.id)}">Loading…</div></section>`).join('');
}

async function refreshMonitors() {
  const box = document.getElementById('monitors');
  if (!box) return;
  const list = await api('/chain/monitor');
  const ids = list.map((m) => String(m.id)).join(',');
  if (box.dataset.ids !== ids) {
    box.innerHTML = monitorsHtml(list);
    box.dataset.ids = ids;
    box.querySelectorAll('[data-del]').forEach((b) => b.addEventListener('click', async () => {
      await api('/chain/monitor/' + b.dataset.del, { method: 'DELETE' });
      refreshMonitors();
    }));
  }
  for (const m of list) {
    const r = await api(`/chain/monitor/${m.id}/events?limit=${MONITOR_PAGE}`);
    setHtml('logs-' + m.id, r.logs.length ? `<table class="decoded-logs"><tr><th>Block</th><th>Tx</th><th>Event</th><th>Arguments</th></tr>` +
      r.logs.map((l) => `<tr class="decoded-log"><td>${blockLink(l.block_number)}</td><td>${txLink(l.tx_hash)}</td>
        <td class="event-name">${esc(l.event)}</td><td class="mono">${esc(Object.keys(l.args).map((k) => k + '=' + l.args[k]).join(', '))}</td></tr>`).join('') + '</table>'
      : '<p>No matching events yet.</p>');
  }
}

/* ---------------------------------------------------------------- agreements */

const agLink = (a) => `<a class="mono" href="#/agreement/${esc(a)}" title="${esc(a)}">${esc(short(a, 6))}</a>`;
const acct = (a) => (!a || /^0x0{40}$/i.test(a)) ? '' : `<span class="mono" title="${esc(a)}">${esc(short(a, 6))}</span>`;
function sessionLink(a) {
  return a.session_url ? `<a class="session" href="${esc(a.session_url)}" target="_blank" rel="noopener">${esc(a.session_url)}</a>` : '';
}
function stateBadge(s) {
  const cls = { active: 'ok', session: 'ok', settled: '', accepted: '', rejected: 'bad' }[s];
  return `<span class="badge ${cls === undefined ? '' : cls}">${esc(s)}</span>`;
}

function agreementsTable(list) {
  return `<table id="agreements"><tr><th>Agreement</th><th>Kind</th><th>State</th><th>Provider</th><th>User</th>
    <th>Price (wei)</th><th>Charged</th><th>Refunded</th><th>Session</th></tr>` +
    list.map((a) => `<tr data-address="${esc(String(a.address).toLowerCase())}"><td>${agLink(a.address)}</td><td>${esc(a.kind)}</td>
      <td class="state">${stateBadge(a.state)}</td><td>${acct(a.provider || a.owner)}</td><td>${acct(a.user)}</td>
      <td>${esc(a.price || a.price_per_minute || '')}</td><td class="charged">${esc(a.charged || '')}</td>
      <td class="refunded">${esc(a.refunded || '')}</td><td>${sessionLink(a)}</td></tr>`).join('') + '</table>';
}

async function agreements() {
  const r = await api('/agreements?limit=100');
  return `<h1>Agreements</h1><p>${esc(r.total)} offered on this chain (seed 004), newest first.</p>
    <div id="agreement-list">${r.agreements.length ? agreementsTable(r.agreements) : '<p>None yet.</p>'}</div>`;
}

function agreementDetails(a) {
  const fields = {
    Address: `<span class="mono">${esc(a.address)}</span>`, Contract: esc(a.contract), Kind: esc(a.kind),
    State: `<span id="agreement-state">${stateBadge(a.state)}</span>`,
  };
  for (const k of ['provider', 'owner', 'user']) if (a[k]) fields[k[0].toUpperCase() + k.slice(1)] = acct(a[k]) || '—';
  for (const k of ['price', 'price_per_minute', 'minimum', 'max_seconds', 'credit', 'quorum', 'yes', 'no',
    'started_at', 'ended_at', 'seconds_used', 'charged', 'refunded', 'balance', 'sla_percent', 'availability']) {
    if (a[k] !== undefined && a[k] !== null) fields[k.replace(/_/g, ' ')] = `<span id="ag-${k}">${esc(a[k])}</span>`;
  }
  if (a.session_url !== undefined) fields.Session = `<span id="ag-session">${sessionLink(a) || '—'}</span>`;
  if (a.vc_tag) fields['Serving VC'] = vcLink(a.vc_tag);
  if (a.host_dc) fields['Host DC'] = dcLink(a.host_dc.wallet);
  if (a.constraints && a.constraints.length) fields.Constraints = a.constraints.map((c) => `${esc(c.key)}=${esc(c.value)}`).join(', ');
  const owed = Object.keys(a.owed || {});
  const flows = `<table id="owed"><tr><th>Party</th><th>Share</th><th>Owed, not yet withdrawn (wei)</th></tr>` +
    owed.map((w) => {
      const p = (a.parties || []).find((x) => String(x.address).toLowerCase() === w.toLowerCase());
      const role = String(w).toLowerCase() === String(a.user || '').toLowerCase() ? 'user'
        : String(w).toLowerCase() === String(a.provider || '').toLowerCase() ? 'provider' : '';
      return `<tr><td class="mono">${esc(w)} ${role ? `<small>(${role})</small>` : ''}</td><td>${esc(p ? p.share : '')}</td><td>${esc(a.owed[w])}</td></tr>`;
    }).join('') + '</table>';
  return kv(fields) + '<h2>Money</h2>' + flows;
}

async function agreement(addr) {
  const a = await api('/agreements/' + encodeURIComponent(addr));
  return `<h1>Agreement <span class="mono">${esc(short(addr, 6))}</span></h1><div id="agreement">${agreementDetails(a)}</div>`;
}

/* ---------------------------------------------------------------- migrations (seed 001) */

/* The bearer token field shared by the pages that write or read a DC's
 * data (kept in this browser only). */
function tokenField(id) {
  return `<label>Bearer token<input id="${id}" type="password" placeholder="a DC's token"></label>`;
}
function bindToken(id) {
  const box = document.getElementById(id);
  box.value = token();
  box.addEventListener('change', () => { try { localStorage.setItem('catena-token', box.value.trim()); } catch (e) { /* private mode */ } });
}
const migLink = (id) => `<a class="mono" href="#/migration/${esc(id)}">${esc(short(id, 6))}</a>`;
function migBadge(s) {
  const cls = { done: 'ok', running: '', new: '', failed: 'bad', reset: '' }[s];
  return `<span class="badge ${cls || ''}">${esc(s)}</span>`;
}
function when(ms) { return ms ? esc(new Date(ms).toISOString().replace('T', ' ').slice(0, 19)) : ''; }

function migrationsTable(list) {
  if (!list.length) return '<p>No migrations yet.</p>';
  return `<table id="migration-list"><tr><th>Migration</th><th>Name</th><th>Status</th><th>Steps done</th><th>Updated (UTC)</th></tr>` +
    list.map((m) => `<tr data-id="${esc(m.id)}"><td>${migLink(m.id)}</td><td>${esc(m.name)}</td><td class="status">${migBadge(m.status)}</td>
      <td>${esc(m.step)} of ${esc(m.steps)}</td><td>${when(m.updated_ms)}</td></tr>`).join('') + '</table>';
}

async function migrations() {
  let list = null, note = '';
  try { list = await api('/migrations'); } catch (e) { note = e.message; }
  return {
    html: `<h1>Migrations</h1>
    <p>Seed 001's Software to Data: paste a <code>MigrationSpecs</code> document (the XML of <code>catena migrate</code>,
    schema in docs/migration-spec.xsd) and the gateway runs its nine steps between the clouds of its clouds.yaml.</p>
    <form id="migration-form">
      <div class="row">${tokenField('mig-token')}</div>
      <label>Migration spec (XML)<textarea id="mig-spec" rows="14" placeholder="&lt;MigrationSpecs&gt;…&lt;/MigrationSpecs&gt;"></textarea></label>
      <button type="submit" id="mig-submit">Migrate</button>
    </form>
    <div id="mig-findings"></div>
    <h2>Migrations of this gateway</h2><div id="migrations">${list ? migrationsTable(list) : `<p class="error">${esc(note)}</p>`}</div>`,
    after: () => {
      bindToken('mig-token');
      document.getElementById('migration-form').addEventListener('submit', async (ev) => {
        ev.preventDefault();
        setHtml('mig-findings', '');
        try {
          const r = await api('/migrations', { method: 'POST', headers: { 'Content-Type': 'application/xml' },
            body: document.getElementById('mig-spec').value });
          location.hash = '#/migration/' + r.id;
        } catch (e) {
          const findings = (e.body && e.body.findings) || [];
          setHtml('mig-findings', `<p class="error">${esc(e.message)}</p>` +
            (findings.length ? `<ul id="mig-finding-list">${findings.map((f) => `<li class="mono">${esc(f)}</li>`).join('')}</ul>` : ''));
        }
      });
    },
    refresh: async () => { setHtml('migrations', migrationsTable(await api('/migrations'))); },
  };
}

/* The nine steps: done, running, failed or waiting, with their times. */
function stepsTable(m) {
  const names = m.step_names || [];
  const times = (m.data && m.data.step_ms) || {};
  return `<table id="mig-steps"><tr><th>#</th><th>Step</th><th>State</th><th>Took</th></tr>` + names.map((n, i) => {
    let st = i < m.step ? 'done' : 'waiting';
    if (i === m.step && (m.status === 'running' || m.status === 'failed')) st = m.status;
    if (m.status === 'reset') st = i < m.step ? 'undone' : 'waiting';
    const cls = { done: 'ok', failed: 'bad' }[st] || '';
    return `<tr class="step" data-state="${st}"><td>${i + 1}</td><td>${esc(n)}</td><td><span class="badge ${cls}">${esc(st)}</span></td>
      <td>${times[n] !== undefined ? esc((times[n] / 1000).toFixed(1)) + ' s' : ''}</td></tr>`;
  }).join('') + '</table>';
}

function migrationHtml(m) {
  const ov = (m.data && m.data.overview) || null;
  const spec = m.spec || {};
  const fields = { Status: `<span id="mig-status">${migBadge(m.status)}</span>`, Name: esc(m.name),
    'Steps done': `${esc(m.step)} of ${esc(m.steps)}`, Created: when(m.created_ms), Updated: when(m.updated_ms) };
  if (m.error) fields.Error = `<span id="mig-error" class="error">${esc(m.error)}</span>`;
  if (spec.instance) fields['Instance in A'] = `<span class="mono">${esc(spec.instance)}</span>`;
  const buttons = (m.status === 'failed' ? '<button type="button" data-act="resume">Resume</button> ' : '') +
    (m.status !== 'running' && m.status !== 'reset' ? '<button type="button" class="secondary" data-act="reset">Reset (remove what it made)</button>' : '');
  return kv(fields) + `<h2>Steps</h2>${stepsTable(m)}` +
    (ov ? `<h2>Launched in B</h2>${kv({ 'Instance': `<span class="mono" id="mig-new-id">${esc(ov.id)}</span>`,
      'Floating IP': `<span id="mig-fip">${esc(ov.floating_ip)}</span>`, Status: esc(ov.status), Flavor: esc(ov.flavor && (ov.flavor.original_name || ov.flavor.id || ov.flavor)) })}` : '') +
    `<div class="row">${buttons}</div>`;
}

async function migration(id) {
  const m = await api('/migrations/' + encodeURIComponent(id));
  return {
    html: `<h1>Migration <span class="mono">${esc(short(id, 8))}</span></h1><div id="migration">${migrationHtml(m)}</div>`,
    after: () => {
      document.getElementById('migration').addEventListener('click', async (ev) => {
        const act = ev.target && ev.target.dataset && ev.target.dataset.act;
        if (!act) return;
        try {
          await api(`/migrations/${encodeURIComponent(id)}/${act}`, { method: 'POST' });
          setStatus('');
        } catch (e) { setStatus(e.message); }
      });
    },
    refresh: async () => { setHtml('migration', migrationHtml(await api('/migrations/' + encodeURIComponent(id)))); },
  };
}

/* ---------------------------------------------------------------- usage (seed 001 4.2.5) */

function num3(v) { return v === undefined || v === null ? '' : Number(v).toFixed(3); }

function usageTable(u) {
  const rows = (u.instances || []).map((i) => `<tr class="usage-row" data-id="${esc(i.id)}"><td class="mono">${esc(i.id)}</td><td>${esc(i.name)}</td>
    <td>${esc(i.state)}</td><td>${esc(i.flavor)}</td><td>${num3(i.hours)}</td><td>${num3(i.vcpu_hours)}</td>
    <td>${num3((i.ram_mb_hours || 0) / 1024)}</td><td>${num3(i.disk_gb_hours)}</td>
    <td class="ledger-hours">${i.vc_tag ? `${num3(i.ledger_hours)} (${vcLink(i.vc_tag)})` : '—'}</td>
    <td class="amount">${i.amount !== undefined ? Number(i.amount).toFixed(4) : ''}</td></tr>`).join('');
  const t = u.totals || {};
  return `<p>Project <span class="mono">${esc(u.project_id)}</span> of cloud <b>${esc(u.cloud)}</b>, ${esc(u.from)} to ${esc(u.to)} (UTC).</p>
    <table id="usage"><tr><th>Instance</th><th>Name</th><th>State</th><th>Flavor</th><th>Hours</th><th>vCPU h</th><th>RAM GiB h</th>
    <th>Disk GiB h</th><th>Ledger uptime h (VC)</th><th>Amount</th></tr>${rows}
    <tr class="totals"><th colspan="4">Total</th><th>${num3(t.hours)}</th><th>${num3(t.vcpu_hours)}</th><th>${num3((t.ram_mb_hours || 0) / 1024)}</th>
    <th>${num3(t.disk_gb_hours)}</th><th></th><th id="usage-total">${t.amount !== undefined ? Number(t.amount).toFixed(4) : ''}</th></tr></table>`;
}

async function usage() {
  const now = new Date(Date.now() + 60000); /* the input drops the seconds: include this minute */
  const from = new Date(now.getTime() - 86400000);
  return {
    html: `<h1>Usage</h1>
    <p>What each instance of a cloud project used (Nova's os-simple-tenant-usage), beside the uptime the ledger records
    for the same VC, so provider and consumer can compare; priced per hour when prices are given.</p>
    <form id="usage-form">
      <div class="row">
        <label>Cloud<input id="usage-cloud" value="a" size="8"></label>
        <label>From (UTC)<input type="datetime-local" id="usage-from" value="${toLocalInput(from.toISOString())}"></label>
        <label>To (UTC)<input type="datetime-local" id="usage-to" value="${toLocalInput(now.toISOString())}"></label>
      </div>
      <div class="row">
        <label>vCPU hour<input type="number" id="usage-vcpu" min="0" step="any" placeholder="price"></label>
        <label>RAM GiB hour<input type="number" id="usage-ram" min="0" step="any" placeholder="price"></label>
        <label>Disk GiB hour<input type="number" id="usage-disk" min="0" step="any" placeholder="price"></label>
        ${tokenField('usage-token')}
        <button type="submit" id="usage-submit">Show</button>
      </div>
    </form>
    <div id="usage-result"></div>`,
    after: () => {
      bindToken('usage-token');
      document.getElementById('usage-form').addEventListener('submit', (ev) => { ev.preventDefault(); drawUsage(); });
    },
  };
}

async function drawUsage() {
  const v = (id) => document.getElementById(id).value.trim();
  const prices = [['vcpu', v('usage-vcpu')], ['ram_gb', v('usage-ram')], ['disk_gb', v('usage-disk')]]
    .filter((p) => p[1] !== '').map((p) => p[0] + '=' + p[1]).join(',');
  const q = `cloud=${encodeURIComponent(v('usage-cloud'))}&from=${encodeURIComponent(v('usage-from') + ':00Z')}` +
    `&to=${encodeURIComponent(v('usage-to') + ':00Z')}` + (prices ? '&price=' + encodeURIComponent(prices) : '');
  setHtml('usage-result', '<p>Asking the cloud…</p>');
  try { setHtml('usage-result', usageTable(await api('/usage?' + q))); } catch (e) { setHtml('usage-result', `<p class="error">${esc(e.message)}</p>`); }
}

/* ---------------------------------------------------------------- router */

function setHtml(id, html) {
  const el = document.getElementById(id);
  if (el && el.innerHTML !== html) el.innerHTML = html;
}
function setStatus(msg) { statusBox.textContent = msg; }

async function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = hash.split('?');
  const params = new URLSearchParams(qs || '');
  const parts = path.split('/').filter(Boolean);
  const table = {
    '': () => overview(), blocks: () => blocks(params), block: () => block(parts[1]), tx: () => tx(parts[1]),
    dcs: () => dcs(), dc: () => dc(parts[1]), vcs: () => vcs(), vc: () => vc(parts[1]), monitor: () => monitor(),
    agreements: () => agreements(), agreement: () => agreement(parts[1]),
    migrations: () => migrations(), migration: () => migration(parts[1]), usage: () => usage(),
  };
  const fn = table[parts[0] || ''];
  if (!fn) { view.innerHTML = '<h1>Not found</h1>'; return null; }
  await loadDcNames();
  let r = await fn();
  if (typeof r === 'string') {
    const again = fn;
    r = { html: r, refresh: async () => { const h = await again(); if (typeof h === 'string' && view.dataset.html !== h) { view.innerHTML = h; view.dataset.html = h; } } };
  }
  view.innerHTML = r.html;
  view.dataset.html = r.html;
  if (r.after) r.after();
  return r;
}

let current = null;
async function navigate() {
  clearTimeout(refreshTimer);
  const at = location.hash;
  try {
    setStatus('');
    current = await route();
  } catch (e) {
    current = null;
    view.innerHTML = `<h1>Cannot show this page</h1><p>${esc(e.message)}</p>`;
  }
  schedule(at);
}

function schedule(at) {
  refreshTimer = setTimeout(async () => {
    if (location.hash !== at) return;
    try {
      if (current && current.refresh) await current.refresh();
      setStatus('');
    } catch (e) { setStatus('Update failed: ' + e.message); }
    schedule(at);
  }, POLL_MS);
}

document.getElementById('search').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const q = document.getElementById('q').value.trim();
  if (!q) return;
  try {
    const r = await api('/chain/search?q=' + encodeURIComponent(q));
    location.hash = `#/${r.kind}/${r.id}`;
  } catch (e) { setStatus(e.message); }
});
window.addEventListener('hashchange', navigate);
navigate();
