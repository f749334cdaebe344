// The reference for bench/bench_eth.c: the same operations on the same
// inputs with ethers.js v6, one JSON line per operation.
'use strict';
const { ethers } = require('ethers');

const MIN_MS = 1000;
const key = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const signingKey = new ethers.SigningKey(key);
const wallet = new ethers.Wallet(key);
const iface = new ethers.Interface([
  'function registerContainer(string,string,uint32,uint32,uint32,string,string,uint64)',
]);
const args = ['vm', '6f1c3b1e-55f3-4c1e-9d8a-3e1c2b4a5d6f', 2, 1024, 40, '10.0.0.12',
  'openstack-dc1', 1536677183];

function bench(op, body) {
  const t0 = process.hrtime.bigint();
  let n = 0;
  let el;
  do {
    for (let k = 0; k < 100; k++, n++) body(n);
    el = Number(process.hrtime.bigint() - t0) / 1e6;
  } while (el < MIN_MS);
  console.log(JSON.stringify({ op, ops_per_s: Math.round((n * 1000) / el) }));
}

const hash = new Uint8Array(32).fill(0x5a);
bench('sign', (n) => { hash[0] = n & 0xff; signingKey.sign(hash); });
hash[0] = 0x5a;
const sig = signingKey.sign(hash);
bench('recover', () => { ethers.SigningKey.recoverPublicKey(hash, sig); });
const data = iface.encodeFunctionData('registerContainer', args);
bench('abi_encode_call', () => { iface.encodeFunctionData('registerContainer', args); });
const tx = {
  type: 2, chainId: 31337, gasLimit: 300000, maxFeePerGas: 2000000000,
  maxPriorityFeePerGas: 1000000000, to: '0x3535353535353535353535353535353535353535', data,
};
bench('tx_sign_encode', (n) => {
  const t = ethers.Transaction.from({ ...tx, nonce: n });
  t.signature = signingKey.sign(t.unsignedHash);
  return t.serialized;
});
