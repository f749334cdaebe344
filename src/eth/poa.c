/* A local Clique proof-of-authority network of EthereumJS client nodes on
 * 127.0.0.1: keys, geth-style genesis, start in an order that does not
 * fork, stop, kill, pause, restart, and waits for agreement. */
#include "catena/eth.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLIENT_CLI "node_modules/@ethereumjs/client/dist/esm/bin/cli.js"
#define CLIENT_BLOCK "node_modules/@ethereumjs/block/dist/esm/index.js"
#define CLIENT_VM "node_modules/@ethereumjs/vm/dist/esm/buildBlock.js"
#define CLIENT_EVM "node_modules/@ethereumjs/evm/dist/esm/evm.js"
#define CLIENT_SRC "node_modules/@ethereumjs/client/dist/esm/src"
#define CLIENT_TX "node_modules/@ethereumjs/tx/dist/esm/index.js"
#define CLIQUE_EPOCH 30000
#define GAS_LIMIT "0x1c9c380" /* 30 million, as mainnet */
/* The client closes its databases on SIGTERM; it took about 10 s here. */
#define STOP_GRACE_MS 15000
#define RPC_TIMEOUT_MS 3000
#define POLL_MS 200

typedef struct poa_node {
    ct_proc proc;
    bool paused;
    bool isolated; /* listens on lone_port and names no bootnodes */
    bool wanted;   /* started and not stopped: respawned if it dies (fix 11) */
    uint16_t rpc_port, p2p_port, lone_port;
    ct_address signer;
    char url[64];
    char enode[160]; /* "" until the node has answered once */
    char dir[PATH_MAX];
    char key_path[PATH_MAX];
    char log_path[PATH_MAX];
    ct_rpc *rpc;
} poa_node;

struct ct_poa {
    int n;
    int period_s;
    uint64_t chain_id;
    bool stock_client;
    char root[PATH_MAX];
    char genesis_path[PATH_MAX];
    char hook_path[PATH_MAX];
    poa_node nodes[CT_POA_MAX_NODES];
};

/* The hook loaded into every node with `node --import` unless
 * opts->stock_client: fixes for defects of @ethereumjs/client 0.10.5 that
 * make a Clique network of several nodes unusable (docs/CHAIN.md):
 * 1. No contract code runs: the EVM refuses to start its interpreter on a
 *    Clique chain unless it has a function naming a block's sealer (for
 *    COINBASE), and the client gives it none.
 * 2. No transaction is mined, and eth_estimateGas fails: the miner and the
 *    RPC run transactions in a template block without extraData (the seal
 *    comes when the block is built), which the header's Clique format
 *    check refuses ("extraData must be 97 bytes"). Let through, the miner
 *    would credit the fees to the zero address while every node executing
 *    the block credits the sealer: a state root mismatch.
 * 3. A node never mines an account's transactions again once another node
 *    has mined one it also held: blocks from peers do not remove their
 *    transactions from its pool, and the pool offers an account's
 *    transactions only when the lowest nonce it holds is the account's.
 * 4. eth_gasPrice fails ("Cannot mix BigInt and other types") when the
 *    newest block holds a legacy transaction (it lacks
 *    maxPriorityFeePerGas).
 * 5. Two signers seal the same height at once often enough (each waits a
 *    random 0 to 500 ms per signer when out of turn), and when they are two
 *    of three that can seal, neither can seal again: each signed the last
 *    block of its own fork, the forks weigh the same and neither node
 *    switches, until the third signer returns. Here out-of-turn signers
 *    wait 500 ms per step of their distance from the in-turn one.
 * 6. A node that misses one block (a fork between two sealers, a pause, a
 *    late start) stays behind for good: the client inserts an announced
 *    block only when it extends its head (other blocks go to a sync
 *    fetcher that exists only while a sync runs), and syncs only from a
 *    peer that was ahead when the two connected; in a network of three,
 *    one node never gets whole blocks at all (each goes to sqrt(peers) = 1
 *    peer, the others get its hash).
 * 7. The client exits when the miner assembles a block on a parent whose
 *    state it is still writing ("State trie does not contain state root",
 *    an unhandled rejection): the attempt is dropped and the next one
 *    queued.
 * 8. The RPC answers about blocks it has not executed yet: a block inserted
 *    by a sync or a catch-up is the chain's head ("latest", eth_blockNumber)
 *    before its transactions have run, and eth_getLogs then skips it as a
 *    block without receipts. A follower that read such a range lost its
 *    events for good (writes that never showed in the gateway). Here every
 *    eth_ method sees the chain's head as the last executed block.
 * 9. Transactions of blocks a reorganisation drops are lost: the client
 *    does not put them back into its pool (nor did fix 3 keep them), so
 *    a write acknowledged on the losing fork never lands. They go back
 *    into the pool once the new head has been executed. (The blockchain's
 *    'deletedCanonicalBlocks' names only blocks above the new head.)
 * 10. Two sealers that sealed the same height out of turn keep their own
 *    forks for good when the two weigh the same (each needs the other's
 *    seal for the next block): the client switches only to a heavier
 *    chain. Here the fork with the lower head hash wins a tie, as every
 *    node decides alike, and a node whose head has not moved for two
 *    periods asks its peers for theirs (an announcement can be lost).
 * 11. A node that executed a block of its own and then took another at the
 *    same height (a reorganisation) can fail to execute the new block
 *    ("invalid receiptTrie") while every other node and the same node after
 *    a restart execute it: its in-memory state is stale, and it stays
 *    behind for good. The hook logs it and exits, so its supervisor
 *    (catena up, or ct_poa_wait_synced) starts it again on its data.
 * 12. eth_sendRawTransaction fails ("State trie does not contain state
 *    root") while the node has imported a block it has not executed: the
 *    pool checks a new transaction against the chain's head state. The
 *    check waits for the state (up to 3 s) instead.
 * @ROOT@ stands for root as a JSON string. */
static const char hook_js[] =
    "// Written by Catena (src/eth/poa.c): fixes for @ethereumjs/client 0.10.5 in a Clique\n"
    "// network, loaded with `node --import`. See docs/CHAIN.md, 'PoA network'.\n"
    "const ROOT = @ROOT@;\n"
    "const block = await import(ROOT + '/" CLIENT_BLOCK "');\n"
    "const { BlockHeader, cliqueSigner, createBlockFromBytesArray } = block;\n"
    "const { EVM } = await import(ROOT + '/" CLIENT_EVM "');\n"
    "const { BlockBuilder } = await import(ROOT + '/" CLIENT_VM "');\n"
    "const { TxPool } = await import(ROOT + '/" CLIENT_SRC "/service/txpool.js');\n"
    "const { Eth } = await import(ROOT + '/" CLIENT_SRC "/rpc/modules/eth.js');\n"
    "const { FullEthereumService } =\n"
    "  await import(ROOT + '/" CLIENT_SRC "/service/fullethereumservice.js');\n"
    "const { Miner } = await import(ROOT + '/" CLIENT_SRC "/miner/miner.js');\n"
    "const { Chain } = await import(ROOT + '/" CLIENT_SRC "/blockchain/chain.js');\n"
    "const { Event } = await import(ROOT + '/" CLIENT_SRC "/types.js');\n"
    "const { createTxFromRLP } = await import(ROOT + '/" CLIENT_TX "');\n"
    "const fs = await import('node:fs');\n"
    "\n"
    "// 1. The EVM names a Clique block's sealer (COINBASE) with @ethereumjs/block's function.\n"
    "const runInterpreter = EVM.prototype.runInterpreter;\n"
    "EVM.prototype.runInterpreter = function (...args) {\n"
    "  this._optsCached.cliqueSigner = this._optsCached.cliqueSigner ?? cliqueSigner;\n"
    "  return runInterpreter.apply(this, args);\n"
    "};\n"
    "\n"
    "// 2. The miner runs transactions in a template sealed by this node (fees go to the\n"
    "// sealer, as when the block is executed); unsealed templates (eth_estimateGas) pass\n"
    "// the Clique format check. A header with empty extraData never enters the chain.\n"
    "const addTransaction = BlockBuilder.prototype.addTransaction;\n"
    "BlockBuilder.prototype.addTransaction = async function (tx, opts) {\n"
    "  const key = this.blockOpts.cliqueSigner;\n"
    "  if (key === undefined) return addTransaction.call(this, tx, opts);\n"
    "  this.headerData.extraData = block.createSealedCliqueBlockHeader(\n"
    "    { ...this.headerData, gasUsed: this.gasUsed }, key,\n"
    "    { common: this.vm.common, freeze: false }).extraData;\n"
    "  try {\n"
    "    return await addTransaction.call(this, tx, opts);\n"
    "  } finally {\n"
    "    delete this.headerData.extraData;\n"
    "  }\n"
    "};\n"
    "const formatCheck = BlockHeader.prototype._consensusFormatValidation;\n"
    "BlockHeader.prototype._consensusFormatValidation = function () {\n"
    "  const clique = this.common.consensusAlgorithm() === 'clique';\n"
    "  if (clique && this.extraData.length === 0) return;\n"
    "  return formatCheck.call(this);\n"
    "};\n"
    "\n"
    "// 3. Transactions another node mined leave the pool before it picks the next ones.\n"
    "const txsByPriceAndNonce = TxPool.prototype.txsByPriceAndNonce;\n"
    "TxPool.prototype.txsByPriceAndNonce = async function (vm, opts) {\n"
    "  for (const objects of [...this.pool.values()]) {\n"
    "    const account = await vm.stateManager.getAccount(objects[0].tx.getSenderAddress());\n"
    "    const nonce = account?.nonce ?? 0n;\n"
    "    for (const obj of objects) {\n"
    "      if (obj.tx.nonce < nonce) this.removeByHash(obj.hash, obj.tx);\n"
    "    }\n"
    "  }\n"
    "  return txsByPriceAndNonce.call(this, vm, opts);\n"
    "};\n"
    "\n"
    "// 12. A new transaction is checked against the head's state once it has been executed.\n"
    "const validate = TxPool.prototype.validate;\n"
    "TxPool.prototype.validate = async function (...args) {\n"
    "  for (let attempt = 0; ; attempt++) {\n"
    "    try {\n"
    "      return await validate.apply(this, args);\n"
    "    } catch (e) {\n"
    "      if (attempt >= 15 || !/does not contain state root/i.test(`${e?.message}`)) throw e;\n"
    "      await new Promise((resolve) => setTimeout(resolve, 200));\n"
    "    }\n"
    "  }\n"
    "};\n"
    "\n"
    "// 4. eth_gasPrice counts a legacy transaction's tip as its price above the base fee.\n"
    "const gasPrice = Eth.prototype.gasPrice;\n"
    "Eth.prototype.gasPrice = async function () {\n"
    "  if (this._vm === undefined || !this._vm.common.isActivatedEIP(1559))\n"
    "    return gasPrice.call(this);\n"
    "  const latest = await this._chain.getCanonicalHeadHeader();\n"
    "  const block = await this._chain.getBlock(latest.number);\n"
    "  const base = block.header.baseFeePerGas ?? 0n;\n"
    "  let tip = 0n;\n"
    "  for (const tx of block.transactions)\n"
    "    tip += tx.maxPriorityFeePerGas ?? (tx.gasPrice > base ? tx.gasPrice - base : 0n);\n"
    "  tip = tip !== 0n ? tip / BigInt(block.transactions.length) : 1n;\n"
    "  return '0x' + (latest.calcNextBaseFee() + tip).toString(16);\n"
    "};\n"
    "\n"
    "// 5. Out-of-turn sealers wait 500 ms per step of their distance from the in-turn\n"
    "// one, instead of a random 0 to 500 ms per signer, so two never seal together.\n"
    "Miner.prototype.queueNextAssembly = async function (timeout) {\n"
    "  if (this._nextAssemblyTimeoutId) clearTimeout(this._nextAssemblyTimeoutId);\n"
    "  if (!this.running) return;\n"
    "  const [signer] = this.config.accounts[0];\n"
    "  const number = this.service.chain.blocks.latest.header.number + 1n;\n"
    "  const signers = this.service.chain.blockchain.consensus.cliqueActiveSigners(number);\n"
    "  const n = signers.length;\n"
    "  const index = signers.findIndex((a) => a.equals(signer));\n"
    "  const distance = index < 0 ? 0 : (index - Number(number % BigInt(n)) + n) % n;\n"
    "  const wait = (timeout ?? this.period) + distance * 500;\n"
    "  this._nextAssemblyTimeoutId = setTimeout(this.assembleBlock.bind(this), wait);\n"
    "};\n"
    "\n"
    "// 7. A block assembled on a parent whose state is still being written fails\n"
    "// ('State trie does not contain state root') and the rejection stops the client:\n"
    "// the attempt is dropped and the next one queued.\n"
    "const assembleBlock = Miner.prototype.assembleBlock;\n"
    "Miner.prototype.assembleBlock = async function (...args) {\n"
    "  try {\n"
    "    return await assembleBlock.apply(this, args);\n"
    "  } catch (e) {\n"
    "    this.assembling = false;\n"
    "    log(this.service, `Catena: block assembly failed (${e.message}); trying again`);\n"
    "    this.queueNextAssembly(500);\n"
    "  }\n"
    "};\n"
    "\n"
    "// 8. eth_ methods see the last executed block as the head: blocks inserted ahead of\n"
    "// execution have no receipts yet, and eth_getLogs would pass them as empty.\n"
    "function executedView(chain, eth) {\n"
    "  const behind = () => eth.catenaHead !== undefined &&\n"
    "    eth.catenaHead.header.number < chain.blocks.latest.header.number;\n"
    "  return new Proxy(chain, {\n"
    "    get(target, prop) {\n"
    "      if (prop === 'blocks' && behind()) {\n"
    "        const head = eth.catenaHead;\n"
    "        return { ...target.blocks, latest: head, height: head.header.number };\n"
    "      }\n"
    "      if (prop === 'headers' && behind()) {\n"
    "        const head = eth.catenaHead.header;\n"
    "        return { ...target.headers, latest: head, height: head.number };\n"
    "      }\n"
    "      if (prop === 'getCanonicalHeadHeader' && behind())\n"
    "        return async () => eth.catenaHead.header;\n"
    "      if (prop === 'getCanonicalHeadBlock' && behind()) return async () => eth.catenaHead;\n"
    "      const value = Reflect.get(target, prop, target);\n"
    "      return typeof value === 'function' ? value.bind(target) : value;\n"
    "    },\n"
    "  });\n"
    "}\n"
    "async function noteExecutedHead(eth) {\n"
    "  if (eth.catenaChain === undefined) {\n"
    "    eth.catenaChain = eth._chain;\n"
    "    eth._chain = executedView(eth._chain, eth);\n"
    "  }\n"
    "  const blockchain = eth.catenaChain.blockchain;\n"
    "  const hash = blockchain._heads?.vm ?? blockchain.genesisBlock?.hash();\n"
    "  try {\n"
    "    eth.catenaHead = hash !== undefined ? await blockchain.getBlock(hash) : undefined;\n"
    "  } catch {\n"
    "    eth.catenaHead = undefined;\n"
    "  }\n"
    "}\n"
    "for (const name of Object.getOwnPropertyNames(Eth.prototype)) {\n"
    "  const method = Object.getOwnPropertyDescriptor(Eth.prototype, name).value;\n"
    "  if (name === 'constructor' || typeof method !== 'function') continue;\n"
    "  Eth.prototype[name] = async function (...args) {\n"
    "    await noteExecutedHead(this);\n"
    "    return method.apply(this, args);\n"
    "  };\n"
    "}\n"
    "\n"
    "// 6. A node that lacks an announced block asks the announcing peer for the missing\n"
    "// blocks, from a little below its head (further back while the first one's parent\n"
    "// is unknown), and the chain chooses by total difficulty.\n"
    "const MAX = 64n;\n"
    "const handleEth = FullEthereumService.prototype.handleEth;\n"
    "FullEthereumService.prototype.handleEth = async function (message, peer) {\n"
    "  const result = await handleEth.call(this, message, peer);\n"
    "  if (message.name === 'NewBlock')\n"
    "    void catchUp(this, peer, message.data[0].hash(), message.data[0].header.number);\n"
    "  else if (message.name === 'NewBlockHashes' && message.data.length > 0)\n"
    "    void catchUp(this, peer, ...message.data[message.data.length - 1]);\n"
    "  return result;\n"
    "};\n"
    "function log(service, text) {\n"
    "  service.config.logger?.info(text);\n"
    "}\n"
    "// A peer that never answers must not hold the catch-up for good (seen: a minute).\n"
    "function within(ms, promise) {\n"
    "  let timer;\n"
    "  const late = new Promise((_, reject) => {\n"
    "    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);\n"
    "  });\n"
    "  return Promise.race([promise, late]).finally(() => clearTimeout(timer));\n"
    "}\n"
    "async function known(chain, hash) {\n"
    "  try { await chain.getBlock(hash); return true; } catch { return false; }\n"
    "}\n"
    "async function catchUp(service, peer, hash, number) {\n"
    "  const chain = service.chain;\n"
    "  if (service.catenaCatchingUp || peer.eth === undefined) return;\n"
    "  if (await known(chain, hash)) return void (await tieBreak(service, hash));\n"
    "  service.catenaCatchingUp = true;\n"
    "  try {\n"
    "    for (let back = 4n; back <= 4096n; back *= 8n) {\n"
    "      const height = chain.blocks.height;\n"
    "      const first = height > back ? height - back : 1n;\n"
    "      if (number < first) return;\n"
    "      const count = number - first + 1n > MAX ? MAX : number - first + 1n;\n"
    "      const headers =\n"
    "        (await within(5000, peer.eth.getBlockHeaders({ block: first, max: Number(count) })))\n"
    "          ?.[1] ?? [];\n"
    "      if (headers.length === 0) return;\n"
    "      if (!(await known(chain, headers[0].parentHash))) continue;\n"
    "      const hashes = headers.map((h) => h.hash());\n"
    "      const bodies = (await within(5000, peer.eth.getBlockBodies({ hashes })))?.[1] ?? [];\n"
    "      if (bodies.length !== headers.length) return;\n"
    "      await chain.putBlocks(headers.map((h, i) =>\n"
    "        createBlockFromBytesArray([h.raw(), ...bodies[i]], { common: h.common })));\n"
    "      const last = first + BigInt(headers.length) - 1n;\n"
    "      const from = peer.id.slice(0, 8);\n"
    "      log(service, `Catena catch-up: blocks ${first}..${last} from ${from}`);\n"
    "      await tieBreak(service, hashes[hashes.length - 1]);\n"
    "      return;\n"
    "    }\n"
    "  } catch (e) {\n"
    "    log(service, `Catena catch-up from ${peer.id.slice(0, 8)} failed: ${e.message}`);\n"
    "  } finally {\n"
    "    service.catenaCatchingUp = false;\n"
    "  }\n"
    "}\n"
    "\n"
    "// 10. At equal total difficulty the head with the lower hash wins: the canonical chain\n"
    "// is cut back to the common ancestor and the other fork put again.\n"
    "function lower(a, b) {\n"
    "  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];\n"
    "  return false;\n"
    "}\n"
    "async function tieBreak(service, hash) {\n"
    "  const chain = service.chain, blockchain = chain.blockchain;\n"
    "  try {\n"
    "    const head = await blockchain.getCanonicalHeadHeader();\n"
    "    const other = (await blockchain.getBlock(hash)).header;\n"
    "    if (!lower(hash, head.hash())) return;\n"
    "    const td = await blockchain.getTotalDifficulty(head.hash(), head.number);\n"
    "    if (td !== (await blockchain.getTotalDifficulty(hash, other.number))) return;\n"
    "    const fork = [];\n"
    "    let at = other;\n"
    "    for (;;) {\n"
    "      const canonical = await blockchain.getBlock(at.number).catch(() => undefined);\n"
    "      if (canonical !== undefined && canonical.hash().every((x, i) => x === at.hash()[i]))\n"
    "        break;\n"
    "      fork.unshift(await blockchain.getBlock(at.hash()));\n"
    "      if (fork.length > 64) return;\n"
    "      at = (await blockchain.getBlock(at.parentHash)).header;\n"
    "    }\n"
    "    await blockchain.resetCanonicalHead(at.number);\n"
    "    await chain.putBlocks(fork);\n"
    "    log(service, `Catena tie-break: blocks ${fork[0].header.number}..${other.number} ` +\n"
    "      `of the lower-hash fork are canonical`);\n"
    "  } catch (e) {\n"
    "    log(service, `Catena tie-break failed: ${e.message}`);\n"
    "  }\n"
    "}\n"
    "// A head that has not moved for two periods: ask each peer for its blocks from ours on.\n"
    "async function probePeers(service) {\n"
    "  const chain = service.chain;\n"
    "  const head = chain.blocks.latest;\n"
    "  if (head === undefined || service.catenaCatchingUp) return;\n"
    "  const period = service.miner?.period ?? 2000;\n"
    "  if (Date.now() - Number(head.header.timestamp) * 1000 < 2 * period) return;\n"
    "  for (const peer of service.pool.peers) {\n"
    "    if (peer.eth === undefined) continue;\n"
    "    try {\n"
    "      const request = { block: head.header.number, max: Number(MAX) };\n"
    "      const headers = (await within(5000, peer.eth.getBlockHeaders(request)))?.[1] ?? [];\n"
    "      const last = headers[headers.length - 1];\n"
    "      if (last === undefined || head.hash().every((x, i) => x === last.hash()[i])) continue;\n"
    "      if (last.number > head.header.number || lower(last.hash(), head.hash()))\n"
    "        await catchUp(service, peer, last.hash(), last.number);\n"
    "    } catch (e) {\n"
    "      log(service, `Catena probe of ${peer.id.slice(0, 8)} failed: ${e.message}`);\n"
    "    }\n"
    "  }\n"
    "}\n"
    "\n"
    "// 9. Transactions of dropped blocks go back into the pool once the new head has run,\n"
    "// and to the peers. The blockchain's 'deletedCanonicalBlocks' names only blocks above\n"
    "// the new head, not those replaced at the same heights: the old head's branch is\n"
    "// walked instead. The list is kept in the data directory too: a node that exits to\n"
    "// restart (fix 11) right after a reorganisation would otherwise lose them for good.\n"
    "const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);\n"
    "const droppedFile = (config) => `${config.datadir}/catena-dropped.json`;\n"
    "function saveDropped(chain) {\n"
    "  const file = droppedFile(chain.config);\n"
    "  try {\n"
    "    if (chain.catenaDropped.length === 0) { fs.rmSync(file, { force: true }); return; }\n"
    "    const list = chain.catenaDropped.map((item) => ({ at: item.at,\n"
    "      tx: Buffer.from(item.tx.serialize()).toString('hex') }));\n"
    "    fs.writeFileSync(file + '.tmp', JSON.stringify(list));\n"
    "    fs.renameSync(file + '.tmp', file);\n"
    "  } catch (e) {\n"
    "    log({ config: chain.config }, `Catena: ${file} not written: ${e.message}`);\n"
    "  }\n"
    "}\n"
    "function loadDropped(chain) {\n"
    "  try {\n"
    "    const file = droppedFile(chain.config);\n"
    "    if (!fs.existsSync(file)) return;\n"
    "    for (const item of JSON.parse(fs.readFileSync(file, 'utf8'))) {\n"
    "      const tx = createTxFromRLP(Uint8Array.from(Buffer.from(item.tx, 'hex')),\n"
    "        { common: chain.config.chainCommon });\n"
    "      chain.catenaDropped.push({ tx, at: item.at,\n"
    "        hash: '0x' + Buffer.from(tx.hash()).toString('hex') });\n"
    "    }\n"
    "  } catch (e) {\n"
    "    log({ config: chain.config }, `Catena: dropped transactions not read: ${e.message}`);\n"
    "  }\n"
    "}\n"
    "const putBlocks = Chain.prototype.putBlocks;\n"
    "Chain.prototype.putBlocks = async function (...args) {\n"
    "  const before = this.blocks.latest;\n"
    "  const result = await putBlocks.apply(this, args);\n"
    "  if (before && this.catenaDropped !== undefined) await noteDropped(this, before);\n"
    "  return result;\n"
    "};\n"
    "async function noteDropped(chain, head) {\n"
    "  const blockchain = chain.blockchain;\n"
    "  const count = chain.catenaDropped.length;\n"
    "  try {\n"
    "    for (let block = head, n = 0; block.header.number > 0n && n < 64; n++) {\n"
    "      const number = block.header.number;\n"
    "      const canonical = await blockchain.getBlock(number).catch(() => undefined);\n"
    "      if (canonical !== undefined && same(canonical.hash(), block.hash())) break;\n"
    "      for (const tx of block.transactions)\n"
    "        chain.catenaDropped.push({ tx, at: Date.now(), hash: '0x' +\n"
    "          Buffer.from(tx.hash()).toString('hex') });\n"
    "      log({ config: chain.config }, `Catena: block ${block.header.number} dropped ` +\n"
    "        `(${block.transactions.length} txs to pool again)`);\n"
    "      block = await blockchain.getBlock(block.header.parentHash);\n"
    "    }\n"
    "  } catch (e) {\n"
    "    log({ config: chain.config }, `Catena: dropped blocks not read: ${e.message}`);\n"
    "  }\n"
    "  if (chain.catenaDropped.length !== count) saveDropped(chain);\n"
    "}\n"
    "async function readdDropped(service) {\n"
    "  const keep = [];\n"
    "  const items = service.chain.catenaDropped.splice(0);\n"
    "  for (const item of items) {\n"
    "    try {\n"
    "      await service.txPool.add(item.tx, true);\n"
    "      service.txPool.sendTransactions([item.tx], service.pool.peers);\n"
    "      log(service, `Catena: transaction ${item.hash} of a dropped block is pooled again`);\n"
    "    } catch (e) {\n"
    "      const final = /nonce too low|already in the TxPool/.test(e.message);\n"
    "      if (!final && Date.now() - item.at < 60000) keep.push(item);\n"
    "    }\n"
    "  }\n"
    "  service.chain.catenaDropped.push(...keep);\n"
    "  if (items.length > 0) saveDropped(service.chain);\n"
    "}\n"
    "const start = FullEthereumService.prototype.start;\n"
    "FullEthereumService.prototype.start = async function (...args) {\n"
    "  const started = await start.apply(this, args);\n"
    "  if (!started || this.catenaTimer !== undefined) return started;\n"
    "  this.chain.catenaDropped = [];\n"
    "  loadDropped(this.chain);\n"
    "  // 11. A block the node cannot execute though its parent state is there: exit, so\n"
    "  // the supervisor starts it again with fresh state (a restart executes it).\n"
    "  this.config.events.on(Event.SYNC_EXECUTION_VM_ERROR, (e) => {\n"
    "    if (`${e}`.toLowerCase().includes('does not contain state root')) return;\n"
    "    const stopping = !this.running || this.config.shutdown;\n"
    "    if (stopping || `${e}`.includes('Execution stopped')) return;\n"
    "    log(this, `Catena: block execution failed (${e?.message ?? e}); exiting to restart ` +\n"
    "      'with fresh state');\n"
    "    setTimeout(() => process.exit(75), 100);\n"
    "  });\n"
    "  let busy = false;\n"
    "  this.catenaTimer = setInterval(async () => {\n"
    "    if (busy || !this.running) return;\n"
    "    busy = true;\n"
    "    try {\n"
    "      if (this.chain.catenaDropped.length > 0) await readdDropped(this);\n"
    "      await probePeers(this);\n"
    "    } finally {\n"
    "      busy = false;\n"
    "    }\n"
    "  }, 1000);\n"
    "  return started;\n"
    "};\n"
    "const stop = FullEthereumService.prototype.stop;\n"
    "FullEthereumService.prototype.stop = async function (...args) {\n"
    "  clearInterval(this.catenaTimer);\n"
    "  this.catenaTimer = undefined;\n"
    "  return stop.apply(this, args);\n"
    "};\n";

/* ---------------------------------------------------------------- files */

static int make_dir(const char *path)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return ct_error_set(CT_EIO, "poa: cannot create %s: %s", path, strerror(errno));
    return 0;
}

static int path_join(char *out, const char *dir, const char *name)
{
    if ((size_t)snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
        return ct_error_set(CT_EINVAL, "poa: path too long: %.64s", dir);
    return 0;
}

/* Writes text (NUL terminated) to path. */
static int write_text(const char *path, const char *text, unsigned mode)
{
    return ct_file_write_atomic(path, text, strlen(text), mode);
}

/* Writes hook_js with root, as a JSON string, in place of @ROOT@. */
static int write_hook(ct_poa *poa)
{
    json_t *root = json_string(poa->root);
    char *lit = root != NULL ? json_dumps(root, JSON_ENCODE_ANY) : NULL;
    const char *at = strstr(hook_js, "@ROOT@");
    ct_buf js;
    int rc;

    assert(at != NULL);
    ct_buf_init(&js, 64 * 1024);
    if (lit == NULL)
        rc = ct_error_set(CT_ENOMEM, "poa: out of memory");
    else if ((rc = ct_buf_append(&js, hook_js, (size_t)(at - hook_js))) == 0 &&
             (rc = ct_buf_append(&js, lit, strlen(lit))) == 0 &&
             (rc = ct_buf_append(&js, at + 6, strlen(at + 6))) == 0)
        rc = write_text(poa->hook_path, js.data, 0644);
    free(lit);
    json_decref(root);
    ct_buf_free(&js);
    return rc;
}

/* A generated sealer key and its address, sorted by address. */
typedef struct gen_key {
    uint8_t key[CT_SECKEY_SIZE];
    ct_address addr;
} gen_key;

static int cmp_addr(const void *a, const void *b)
{
    return memcmp(((const gen_key *)a)->addr.b, ((const gen_key *)b)->addr.b, CT_ADDRESS_SIZE);
}

/* Writes the key as the client's --unlock reads it: hex without 0x. */
static int write_key(const char *path, const uint8_t key[CT_SECKEY_SIZE])
{
    char hex[2 * CT_SECKEY_SIZE + 1];
    int rc;

    if ((rc = ct_hex_encode(hex, sizeof(hex), key, CT_SECKEY_SIZE, false)) == 0)
        rc = write_text(path, hex, 0600);
    ct_wipe(hex, sizeof(hex));
    return rc;
}

/* The genesis config: every fork before the merge at block 0, so the EVM
 * is London's (docs/CHAIN.md says why not Shanghai or Cancun), and Clique. */
static json_t *genesis_config(const ct_poa *poa)
{
    static const char *const forks[] = {
        "homesteadBlock",   "eip150Block",         "eip155Block",     "eip158Block",
        "byzantiumBlock",   "constantinopleBlock", "petersburgBlock", "istanbulBlock",
        "muirGlacierBlock", "berlinBlock",         "londonBlock",     "arrowGlacierBlock",
        "grayGlacierBlock",
    };
    json_t *c = json_pack("{s:I, s:{s:i, s:i}}", "chainId", (json_int_t)poa->chain_id, "clique",
                          "period", poa->period_s, "epoch", CLIQUE_EPOCH);

    for (size_t i = 0; c != NULL && i < sizeof(forks) / sizeof(forks[0]); i++)
        json_object_set_new(c, forks[i], json_integer(0));
    return c;
}

/* extraData: 32 vanity bytes, the signers in the order of the nodes
 * (ascending addresses, as geth sorts them), 65 bytes for a seal. */
static json_t *genesis_extra(const ct_poa *poa)
{
    uint8_t extra[32 + CT_POA_MAX_NODES * CT_ADDRESS_SIZE + 65];
    size_t len = 0;

    memset(extra, 0, sizeof(extra));
    len += 32;
    for (int i = 0; i < poa->n; i++, len += CT_ADDRESS_SIZE)
        memcpy(extra + len, poa->nodes[i].signer.b, CT_ADDRESS_SIZE);
    return ct_json_hex(extra, len + 65);
}

static json_t *genesis_alloc(const ct_poa_opts *o)
{
    json_t *alloc = json_object();

    for (size_t i = 0; alloc != NULL && i < o->n_accounts; i++) {
        char addr[2 * CT_ADDRESS_SIZE + 1], wei[CT_U256_HEX_SIZE];
        ct_hex_encode(addr, sizeof(addr), o->accounts[i].address.b, CT_ADDRESS_SIZE, false);
        ct_u256_format_hex(wei, &o->accounts[i].balance);
        json_object_set_new(alloc, addr, json_pack("{s:s}", "balance", wei));
    }
    return alloc;
}

static int write_genesis(const ct_poa *poa, const ct_poa_opts *o)
{
    uint8_t zero[32] = {0};
    json_t *g =
        json_pack("{s:o, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "config", genesis_config(poa),
                  "nonce", "0x0", "timestamp", "0x0", "gasLimit", GAS_LIMIT, "difficulty", "0x1",
                  "mixHash", ct_json_hex(zero, 32), "coinbase", ct_json_hex(zero, CT_ADDRESS_SIZE),
                  "extraData", genesis_extra(poa), "alloc", genesis_alloc(o));
    char *text = g != NULL ? json_dumps(g, JSON_INDENT(1)) : NULL;
    int rc = text != NULL ? write_text(poa->genesis_path, text, 0644)
                          : ct_error_set(CT_ENOMEM, "poa: out of memory");

    free(text);
    json_decref(g);
    return rc;
}

/* ---------------------------------------------------------------- nodes */

/* Keys, paths and ports of every node. Keys are sorted by address, so
 * node i is signer i of the genesis, and the in-turn sealer of blocks
 * i, i + n, ... */
static int plan_nodes(ct_poa *poa, const char *dir)
{
    gen_key keys[CT_POA_MAX_NODES];
    char name[32];
    int rc = 0;

    for (int i = 0; i < poa->n && rc == 0; i++) {
        if ((rc = ct_seckey_generate(keys[i].key)) == 0)
            rc = ct_address_from_seckey(&keys[i].addr, keys[i].key);
    }
    if (rc == 0)
        qsort(keys, (size_t)poa->n, sizeof(keys[0]), cmp_addr);
    for (int i = 0; i < poa->n && rc == 0; i++) {
        poa_node *node = &poa->nodes[i];
        node->signer = keys[i].addr;
        snprintf(name, sizeof(name), "node%d", i);
        if ((rc = path_join(node->dir, dir, name)) < 0 || (rc = make_dir(node->dir)) < 0 ||
            (rc = path_join(node->key_path, node->dir, "key")) < 0 ||
            (rc = path_join(node->log_path, node->dir, "client.log")) < 0 ||
            (rc = write_key(node->key_path, keys[i].key)) < 0 ||
            (rc = ct_net_free_port(&node->rpc_port)) < 0 ||
            (rc = ct_net_free_port(&node->p2p_port)) < 0)
            break;
        snprintf(node->url, sizeof(node->url), "http://127.0.0.1:%u", (unsigned)node->rpc_port);
        rc = ct_rpc_new(&node->rpc, node->url, RPC_TIMEOUT_MS);
    }
    ct_wipe(keys, sizeof(keys));
    return rc;
}

/* The enodes of the other nodes that have answered once, as --bootnodes
 * wants them. */
static void bootnodes(const ct_poa *poa, int self, char *out, size_t size)
{
    size_t len = 0;

    out[0] = '\0';
    for (int i = 0; i < poa->n; i++) {
        if (i == self || poa->nodes[i].enode[0] == '\0')
            continue;
        len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%s%s", len ? "," : "",
                                poa->nodes[i].enode);
    }
}

static int spawn_node(ct_poa *poa, int i)
{
    poa_node *node = &poa->nodes[i];
    char cli[PATH_MAX], data[PATH_MAX], rpc_port[8], p2p_port[8];
    char boot[CT_POA_MAX_NODES * 162];
    char *argv[40];
    int n = 0, rc;

    if ((rc = path_join(cli, poa->root, CLIENT_CLI)) < 0 ||
        (rc = path_join(data, node->dir, "data")) < 0)
        return rc;
    snprintf(rpc_port, sizeof(rpc_port), "%u", (unsigned)node->rpc_port);
    snprintf(p2p_port, sizeof(p2p_port), "%u",
             (unsigned)(node->isolated ? node->lone_port : node->p2p_port));
    if (node->isolated)
        boot[0] = '\0';
    else
        bootnodes(poa, i, boot, sizeof(boot));
    argv[n++] = "node";
    if (!poa->stock_client) {
        argv[n++] = "--import";
        argv[n++] = poa->hook_path;
    }
    argv[n++] = cli;
    argv[n++] = "--gethGenesis";
    argv[n++] = poa->genesis_path;
    argv[n++] = "--mine";
    argv[n++] = "--unlock";
    argv[n++] = node->key_path;
    argv[n++] = "--discV4=false";
    argv[n++] = "--discDns=false";
    argv[n++] = "--rpc";
    argv[n++] = "--rpcAddr";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--rpcPort";
    argv[n++] = rpc_port;
    argv[n++] = "--port";
    argv[n++] = p2p_port;
    argv[n++] = "--dataDir";
    argv[n++] = data;
    argv[n++] = "--no-logFile"; /* its output goes to client.log already */
    if (boot[0] != '\0') {
        argv[n++] = "--bootnodes";
        argv[n++] = boot;
    }
    argv[n] = NULL;
    node->paused = false;
    /* In the node's directory, so nothing the client writes relative to
     * its working directory lands in the caller's. */
    if ((rc = ct_proc_spawn(&node->proc, argv, node->dir, node->log_path)) == 0)
        node->wanted = true;
    return rc;
}

/* Reads the node's enode (admin_nodeInfo) and keeps it with 127.0.0.1,
 * since the client reports the address it listens on (0.0.0.0). */
static int read_enode(poa_node *node)
{
    json_t *info = NULL;
    const char *id;
    int rc;

    if ((rc = ct_rpc_call(node->rpc, &info, "admin_nodeInfo", NULL)) < 0)
        return rc;
    id = json_string_value(json_object_get(info, "id"));
    if (id == NULL || strlen(id) != 128 || strspn(id, "0123456789abcdef") != 128)
        rc = ct_error_set(CT_ERPC, "poa: %s: admin_nodeInfo has no node id", node->url);
    else
        snprintf(node->enode, sizeof(node->enode), "enode://%s@127.0.0.1:%u", id,
                 (unsigned)node->p2p_port);
    json_decref(info);
    return rc;
}

/* Waits until the node answers eth_chainId with the network's id and
 * reads its enode. */
static int wait_answers(ct_poa *poa, int i, int64_t deadline)
{
    poa_node *node = &poa->nodes[i];
    uint64_t id;

    for (;;) {
        int rc = ct_rpc_chain_id(node->rpc, &id);
        if (rc == 0 && id != poa->chain_id)
            return ct_error_set(CT_ESTATE, "poa: %s is on chain %llu, not %llu", node->url,
                                (unsigned long long)id, (unsigned long long)poa->chain_id);
        if (rc == 0)
            return read_enode(node);
        if (!ct_proc_alive(&node->proc)) {
            ct_log_file_end(CT_LOG_ERROR, "poa: the exited node's log", node->log_path);
            return ct_error_set(CT_EIO, "poa: node %d exited before answering (see %s)", i,
                                node->log_path);
        }
        if (ct_time_mono_ms() >= deadline)
            return ct_error_set(CT_ETIMEOUT, "poa: node %d did not answer on %s", i, node->url);
        ct_sleep_ms(POLL_MS);
    }
}

static int head_number(poa_node *node, uint64_t *out)
{
    return ct_rpc_block_number(node->rpc, out);
}

static int peer_count(poa_node *node, uint64_t *out)
{
    json_t *res = NULL;
    int rc = ct_rpc_call(node->rpc, &res, "net_peerCount", NULL);

    if (rc == 0)
        rc = ct_quantity_parse_u64(out, res);
    json_decref(res);
    return rc;
}

/* Whether the node's process is there (and not a zombie: a node killed
 * from outside, or one that crashed, counts as stopped). */
static bool running(poa_node *node)
{
    return ct_proc_alive(&node->proc);
}

/* Whether the node takes part in the network: running, not paused, not
 * isolated. */
static bool in_network(poa_node *node)
{
    return running(node) && !node->paused && !node->isolated;
}

/* ---------------------------------------------------------------- agreement */

/* Reads block `number`'s hash from node into hash (67 bytes). */
static int block_hash(poa_node *node, char hash[CT_U256_HEX_SIZE], uint64_t number)
{
    char tag[24];
    json_t *block = NULL;
    const char *h;
    int rc;

    snprintf(tag, sizeof(tag), "0x%llx", (unsigned long long)number);
    if ((rc = ct_rpc_get_block_by_number(node->rpc, &block, tag, false)) < 0)
        return rc;
    h = json_string_value(json_object_get(block, "hash"));
    if (h == NULL || strlen(h) != 66)
        rc = ct_error_set(CT_ERPC, "poa: %s: block %s has no hash", node->url, tag);
    else
        snprintf(hash, CT_U256_HEX_SIZE, "%s", h);
    json_decref(block);
    return rc;
}

/* One look at the nodes in the network. Returns: 1 when their heads are
 * at most one block apart, at least min_height, and they agree on the
 * block at the lowest head (*height); 0 when not yet; <0 when a node does
 * not answer. */
static int synced_now(ct_poa *poa, uint64_t min_height, uint64_t *height)
{
    uint64_t lo = UINT64_MAX, hi = 0, h;
    char first[CT_U256_HEX_SIZE] = "", hash[CT_U256_HEX_SIZE];
    int rc;

    for (int i = 0; i < poa->n; i++) {
        if (!in_network(&poa->nodes[i]))
            continue;
        if ((rc = head_number(&poa->nodes[i], &h)) < 0)
            return rc;
        lo = h < lo ? h : lo;
        hi = h > hi ? h : hi;
    }
    if (lo == UINT64_MAX || lo < min_height || hi - lo > 1)
        return 0;
    for (int i = 0; i < poa->n; i++) {
        if (!in_network(&poa->nodes[i]))
            continue;
        if ((rc = block_hash(&poa->nodes[i], hash, lo)) < 0)
            return rc;
        if (first[0] == '\0')
            memcpy(first, hash, sizeof(hash));
        else if (strcmp(first, hash) != 0)
            return 0;
    }
    *height = lo;
    return 1;
}

int ct_poa_respawn_dead(ct_poa *poa)
{
    int started = 0;

    for (int i = 0; i < poa->n; i++) {
        poa_node *node = &poa->nodes[i];
        if (!node->wanted || running(node))
            continue;
        ct_log(CT_LOG_ERROR, "PoA node %d exited; starting it again on its data (see %s)", i + 1,
               node->log_path);
        ct_proc_stop(&node->proc, 0); /* reaps it */
        if (spawn_node(poa, i) < 0) {
            ct_log(CT_LOG_ERROR, "starting PoA node %d again: %s", i + 1, ct_error_last());
            ct_error_clear(); /* tried again at the next call */
        } else
            started++;
    }
    return started;
}

int ct_poa_wait_synced(ct_poa *poa, uint64_t *height, uint64_t min_height, int timeout_ms)
{
    int64_t deadline = ct_time_mono_ms() + timeout_ms;
    uint64_t h = 0;
    int rc;

    for (;;) {
        ct_poa_respawn_dead(poa);
        if ((rc = synced_now(poa, min_height, &h)) == 1) {
            if (height != NULL)
                *height = h;
            return 0;
        }
        if (ct_time_mono_ms() >= deadline) {
            if (rc < 0)
                return ct_error_wrap("poa: nodes not in agreement after %d ms", timeout_ms);
            return ct_error_set(CT_ETIMEOUT,
                                "poa: nodes not in agreement at a height >= %llu after %d ms",
                                (unsigned long long)min_height, timeout_ms);
        }
        ct_sleep_ms(POLL_MS);
    }
}

/* Waits until every running node has a peer in every other running node. */
static int wait_peered(ct_poa *poa, int64_t deadline)
{
    for (;;) {
        int want = -1, ok = 0, alive = 0;
        uint64_t peers;

        for (int i = 0; i < poa->n; i++)
            want += in_network(&poa->nodes[i]);
        for (int i = 0; i < poa->n; i++) {
            if (!in_network(&poa->nodes[i]))
                continue;
            alive++;
            ok += peer_count(&poa->nodes[i], &peers) == 0 && peers >= (uint64_t)want;
        }
        if (ok == alive)
            return 0;
        if (ct_time_mono_ms() >= deadline)
            return ct_error_set(CT_ETIMEOUT, "poa: %d of %d nodes have all their peers", ok, alive);
        ct_sleep_ms(POLL_MS);
    }
}

/* ---------------------------------------------------------------- start */

static void opts_default(ct_poa_opts *o, const ct_poa_opts *given)
{
    *o = *given;
    if (o->nodes == 0)
        o->nodes = 3;
    if (o->period_s == 0)
        o->period_s = 2;
    if (o->chain_id == 0)
        o->chain_id = 1337;
    if (o->timeout_ms <= 0)
        o->timeout_ms = 180000;
}

/* Writes everything the nodes need under dir. */
static int prepare(ct_poa *poa, const ct_poa_opts *o)
{
    char cli[PATH_MAX];
    int rc;

    if ((rc = path_join(cli, poa->root, CLIENT_CLI)) < 0)
        return rc;
    if (access(cli, R_OK) != 0)
        return ct_error_set(CT_ENOTFOUND,
                            "poa: the EthereumJS client is not installed in %s (run "
                            "scripts/bootstrap there)",
                            poa->root);
    if ((rc = make_dir(o->dir)) < 0 ||
        (rc = path_join(poa->genesis_path, o->dir, "genesis.json")) < 0 ||
        (rc = path_join(poa->hook_path, o->dir, "ethjs-fixes.mjs")) < 0 ||
        (rc = plan_nodes(poa, o->dir)) < 0 || (rc = write_genesis(poa, o)) < 0)
        return rc;
    return poa->stock_client ? 0 : write_hook(poa);
}

/* Starts the nodes one after another, each once the previous answers (so
 * its discovery port is bound when the next pings it), each naming all
 * started nodes as bootnodes. The first is the in-turn sealer of block 1
 * and seals it alone: a later node may seal a block 1 of its own before
 * it syncs, but out of turn (difficulty 1 against 2), so it gives way. */
static int start_all(ct_poa *poa, int64_t deadline)
{
    int first = 1 % poa->n, rc;
    uint64_t h = 0;

    if ((rc = spawn_node(poa, first)) < 0 || (rc = wait_answers(poa, first, deadline)) < 0)
        return rc;
    while (poa->n > 1 && (rc = head_number(&poa->nodes[first], &h)) == 0 && h < 1) {
        if (ct_time_mono_ms() >= deadline)
            return ct_error_set(CT_ETIMEOUT, "poa: node %d sealed no block", first);
        ct_sleep_ms(POLL_MS);
    }
    if (rc < 0)
        return rc;
    for (int i = 0; i < poa->n; i++) {
        if (i != first &&
            ((rc = spawn_node(poa, i)) < 0 || (rc = wait_answers(poa, i, deadline)) < 0))
            return rc;
    }
    if ((rc = wait_peered(poa, deadline)) < 0)
        return rc;
    /* Height 2 at least: a block sealed on top of the first node's. */
    return ct_poa_wait_synced(
        poa, NULL, poa->n > 1 ? 2 : 1,
        (int)(deadline - ct_time_mono_ms() > 0 ? deadline - ct_time_mono_ms() : 0));
}

int ct_poa_start(ct_poa **out, const char *root, const ct_poa_opts *opts)
{
    ct_poa_opts o;
    ct_poa *poa;
    int rc;

    opts_default(&o, opts);
    if (o.dir == NULL || o.nodes < 1 || o.nodes > CT_POA_MAX_NODES || o.period_s < 1 ||
        (o.n_accounts > 0 && o.accounts == NULL))
        return ct_error_set(CT_EINVAL, "poa: need a dir, 1 to %d nodes and a period >= 1 s",
                            CT_POA_MAX_NODES);
    if ((poa = calloc(1, sizeof(*poa))) == NULL)
        return ct_error_set(CT_ENOMEM, "poa: out of memory");
    poa->n = o.nodes;
    poa->period_s = o.period_s;
    poa->chain_id = o.chain_id;
    poa->stock_client = o.stock_client;
    if (realpath(root, poa->root) == NULL) {
        rc = ct_error_set(CT_ENOTFOUND, "poa: %s: %s", root, strerror(errno));
        goto fail;
    }
    if ((rc = prepare(poa, &o)) < 0 || (rc = start_all(poa, ct_time_mono_ms() + o.timeout_ms)) < 0)
        goto fail;
    *out = poa;
    return 0;
fail:
    ct_poa_stop(poa);
    return rc;
}

/* ---------------------------------------------------------------- control */

void ct_poa_stop(ct_poa *poa)
{
    if (poa == NULL)
        return;
    /* No clean shutdown: nothing starts this network again, and the
     * client's takes about 10 s. */
    for (int i = 0; i < poa->n; i++)
        ct_proc_signal(&poa->nodes[i].proc, SIGKILL);
    for (int i = 0; i < poa->n; i++) {
        ct_proc_stop(&poa->nodes[i].proc, 0);
        ct_rpc_free(poa->nodes[i].rpc);
    }
    free(poa);
}

int ct_poa_nodes(const ct_poa *poa)
{
    return poa->n;
}

static poa_node *node_at(const ct_poa *poa, int i)
{
    assert(i >= 0 && i < poa->n);
    return (poa_node *)&poa->nodes[i];
}

const char *ct_poa_url(const ct_poa *poa, int i)
{
    return node_at(poa, i)->url;
}

pid_t ct_poa_pid(const ct_poa *poa, int i)
{
    poa_node *node = node_at(poa, i);

    return running(node) ? node->proc.pid : 0;
}

const char *ct_poa_enode(const ct_poa *poa, int i)
{
    return node_at(poa, i)->enode;
}

const ct_address *ct_poa_signer(const ct_poa *poa, int i)
{
    return &node_at(poa, i)->signer;
}

const char *ct_poa_log_path(const ct_poa *poa, int i)
{
    return node_at(poa, i)->log_path;
}

int ct_poa_stop_node(ct_poa *poa, int i)
{
    poa_node *node = node_at(poa, i);

    node->wanted = false;
    if (node->paused)
        ct_proc_signal(&node->proc, SIGCONT);
    node->paused = false;
    return ct_proc_stop(&node->proc, STOP_GRACE_MS);
}

int ct_poa_kill_node(ct_poa *poa, int i)
{
    poa_node *node = node_at(poa, i);

    node->wanted = false;
    ct_proc_signal(&node->proc, SIGKILL);
    node->paused = false;
    return ct_proc_stop(&node->proc, 0);
}

int ct_poa_pause_node(ct_poa *poa, int i, bool paused)
{
    poa_node *node = node_at(poa, i);

    if (!running(node))
        return ct_error_set(CT_ESTATE, "poa: node %d is not running", i);
    ct_proc_signal(&node->proc, paused ? SIGSTOP : SIGCONT);
    node->paused = paused;
    return 0;
}

int ct_poa_restart_node(ct_poa *poa, int i, int timeout_ms)
{
    poa_node *node = node_at(poa, i);
    int64_t deadline = ct_time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 120000);
    int rc;

    if (running(node))
        return ct_error_set(CT_ESTATE, "poa: node %d is running", i);
    ct_proc_stop(&node->proc, 0); /* reaps one that died on its own */
    if ((rc = spawn_node(poa, i)) < 0)
        return rc;
    if ((rc = wait_answers(poa, i, deadline)) < 0 || (rc = wait_peered(poa, deadline)) < 0) {
        node->wanted = false;
        ct_proc_stop(&node->proc, STOP_GRACE_MS);
        return rc;
    }
    return 0;
}

int ct_poa_isolate_node(ct_poa *poa, int i, bool isolated, int timeout_ms)
{
    poa_node *node = node_at(poa, i);
    int64_t deadline = ct_time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 120000);
    int rc;

    ct_proc_signal(&node->proc, SIGKILL);
    ct_proc_stop(&node->proc, 0);
    node->paused = false;
    node->isolated = isolated;
    if ((isolated && (rc = ct_net_free_port(&node->lone_port)) < 0) ||
        (rc = spawn_node(poa, i)) < 0)
        return rc;
    if ((rc = wait_answers(poa, i, deadline)) < 0 ||
        (!isolated && (rc = wait_peered(poa, deadline)) < 0)) {
        node->wanted = false;
        ct_proc_stop(&node->proc, STOP_GRACE_MS);
        return rc;
    }
    return 0;
}
