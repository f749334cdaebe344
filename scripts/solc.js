#!/usr/bin/env node
// Compiles Solidity sources with the pinned solc-js (no network, no native
// compiler) and writes one JSON file: {"ContractName": {"abi": [...],
// "bytecode": "0x...", "deployedBytecode": "0x...", "storageLayout": {...}}}.
// usage: node scripts/solc.js OUT.json SOURCE.sol...
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const [out, ...sources] = process.argv.slice(2);
if (!out || sources.length === 0) {
  console.error('usage: node scripts/solc.js OUT.json SOURCE.sol...');
  process.exit(2);
}
const input = {
  language: 'Solidity',
  sources: {},
  settings: {
    optimizer: { enabled: true, runs: 200 },
    viaIR: true, // the ledger's wide functions need it (stack too deep otherwise)
    // London: the newest EVM every supported chain runs (the EthereumJS
    // client's Clique network cannot go past it; docs/CHAIN.md).
    evmVersion: 'london',
    outputSelection: {
      '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'storageLayout'] },
    },
  },
};
for (const s of sources) input.sources[path.basename(s)] = { content: fs.readFileSync(s, 'utf8') };
// Imports: "./X.sol" beside the sources, "@openzeppelin/..." from node_modules.
const root = path.join(__dirname, '..');
function findImports(name) {
  const file = name.startsWith('@') ? path.join(root, 'node_modules', name) : path.join(path.dirname(sources[0]), name);
  try {
    return { contents: fs.readFileSync(file, 'utf8') };
  } catch (e) {
    return { error: `${name}: ${e.message}` };
  }
}
const result = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (result.errors || []).filter((e) => e.severity === 'error');
// Warnings about OpenZeppelin's sources are theirs; ours and all errors show.
for (const e of result.errors || []) {
  const file = e.sourceLocation?.file ?? '';
  if (e.severity === 'error' || !file.startsWith('@')) console.error(e.formattedMessage);
}
if (errors.length > 0) process.exit(1);
const contracts = {};
for (const file of Object.keys(result.contracts)) {
  for (const [name, c] of Object.entries(result.contracts[file])) {
    contracts[name] = {
      abi: c.abi,
      bytecode: '0x' + c.evm.bytecode.object,
      deployedBytecode: '0x' + c.evm.deployedBytecode.object,
      // Where state variables live, for storage proofs (catena verify).
      storageLayout: c.storageLayout,
    };
  }
}
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out + '.tmp', JSON.stringify(contracts, null, 1));
fs.renameSync(out + '.tmp', out);
