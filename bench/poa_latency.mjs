#!/usr/bin/env node
// On `catena up --chain poa` (three EthereumJS sealers, a block every 2 s):
// how long a registration takes from the gateway's answer until it shows in
// the gateway's history (the gateway follows node 3, DC1's agent sends to
// node 1), beside the chain's block time, and the sustained rate of
// registrations with 8 in flight. Prints one JSON object.
//
//   node bench/poa_latency.mjs [--catena build/catena] [--n 20] [--burst 40]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const catena = arg('catena', 'build/catena');
const N = Number(arg('n', 20));
const BURST = Number(arg('burst', 40));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function rpc(url, method, params = []) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await r.json()).result;
}

const dir = mkdtempSync(join(tmpdir(), 'catena-poa-bench-'));
const up = spawn(catena, ['up', '--dir', dir, '--chain', 'poa', '--rpc-port', '0',
  '--api-port', '0'], { stdio: 'ignore' });
let fed;
try {
  for (let i = 0; !fed; i++) {
    if (up.exitCode !== null || i > 3000) throw new Error(`catena up did not start (${dir})`);
    try { fed = JSON.parse(readFileSync(join(dir, 'federation.json'), 'utf8')); } catch { }
    await sleep(100);
  }
  const api = fed.api_url;
  const token = fed.datacenters[0].token;
  const node3 = fed.nodes[2].url;
  const body = (id) => JSON.stringify({
    vc_type: 'docker:container', available: true, vcpu: 1, vram: 64, vdisk: 1, id,
    ip_address: '', controller: '', created: '2020-01-01T00:00:00Z',
  });
  const register = async (id) => {
    for (;;) {
      const r = await fetch(`${api}/datacenter/DC1/container/register/`, {
        method: 'POST', body: body(id),
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      });
      const j = await r.json();
      if (r.status === 200) return j.tx_hash;
      if (r.status === 202) {
        for (;;) {
          const q = await (await fetch(`${api}/requests/${j.request_id}`,
            { headers: { Authorization: `Bearer ${token}` } })).json();
          if (q.state !== 'pending') return q.tx_hash;
          await sleep(100);
        }
      }
      if (r.status !== 503) throw new Error(`register ${id}: ${r.status} ${j.error}`);
      await sleep(500);
    }
  };
  // Whether the write shows in the gateway within 60 s (false: it did not;
  // counted as never_visible, see docs/CHAIN.md "Open").
  let neverVisible = 0;
  const visible = async (hash) => {
    for (const end = Date.now() + 60000; Date.now() < end;) {
      const r = await fetch(`${api}/transaction/${hash}/vctag/`);
      if (r.status === 200) return true;
      await sleep(50);
    }
    neverVisible++;
    return false;
  };
  const run = `${Date.now()}`;
  const startBlock = parseInt(await rpc(node3, 'eth_blockNumber'), 16);
  const t0 = Date.now();
  const lat = [];
  for (let i = 0; i < N; i++) {
    const hash = await register(`lat-${run}-${i}`);
    const t = Date.now();
    if (await visible(hash)) lat.push(Date.now() - t);
  }
  const endBlock = parseInt(await rpc(node3, 'eth_blockNumber'), 16);
  const blockTime = (Date.now() - t0) / Math.max(1, endBlock - startBlock);
  // Sustained: BURST registrations, 8 in flight, until all are visible.
  const t1 = Date.now();
  const hashes = [];
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < BURST) {
      const i = next++;
      hashes.push(await register(`burst-${run}-${i}`));
    }
  }));
  const acked = Date.now() - t1;
  for (const h of hashes) await visible(h);
  const done = Date.now() - t1;
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  console.log(JSON.stringify({
    writes: N, never_visible: neverVisible, visible_ms_p50: q(0.5), visible_ms_p99: q(0.99), visible_ms_max: lat.at(-1),
    block_time_ms: Math.round(blockTime), burst: BURST,
    burst_acknowledged_per_s: +(BURST / (acked / 1000)).toFixed(2),
    burst_visible_per_s: +(BURST / (done / 1000)).toFixed(2),
  }));
} finally {
  up.kill('SIGTERM');
  await new Promise((r) => (up.exitCode !== null ? r() : up.on('exit', r)));
  rmSync(dir, { recursive: true, force: true });
}
