// SPDX-License-Identifier: Apache-2.0
// Invariant tests: forge calls a handler's actions in random order with
// random arguments; the handler keeps a model of what the ledger must
// hold, checks each answer (success or the exact refusal) against it, and
// the invariants compare the whole ledger with the model after every call.
pragma solidity ^0.8.24;

import {Federation} from "../Federation.sol";
import {FederationBase} from "./FederationBase.sol";
import {Vm, vm} from "./Vm.sol";

/// The actions forge calls. Every action predicts the ledger's answer from
/// the model and reverts if the ledger answers otherwise, so a wrong answer
/// fails the run (fail_on_revert in foundry.toml).
contract FederationHandler is FederationBase {
    struct Model {
        address owner; // the registering DC, part of the tag
        address host;
        uint64 created;
        bool available;
        bool retired;
        address retiredBy; // the host when it was retired
        address pendingTo;
        uint256 price;
        uint256 invoice;
        uint64 pendingTimestamp;
        uint256 migrations; // confirmed migrations
    }

    bytes32[] public tags;
    mapping(bytes32 => Model) internal model;
    uint256 public calls;
    uint256 public refusals;
    uint256 public confirmed; // migrations
    uint256 public retired;
    bytes32 internal lastProposed; // the VC of the last intent recorded

    constructor(Federation ledger) {
        fed = ledger;
    }

    function tagCount() external view returns (uint256) {
        return tags.length;
    }

    function vcModel(bytes32 tag) external view returns (Model memory) {
        return model[tag];
    }

    // ------------------------------------------------------------ drawing

    /// forge's fuzzer favours small and edge values; hashed seeds spread
    /// the choices below evenly.
    function _mix(uint256 seed) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed)));
    }

    /// A registered DC, or one time in eight the outsider.
    function _actor(uint256 seed) internal pure returns (address) {
        address[3] memory dcs = [DC1, DC2, DC3];
        seed = _mix(seed);
        return seed % 8 == 0 ? OUTSIDER : dcs[(seed >> 3) % 3];
    }

    /// The VC's host three times in four (so that actions mostly pass),
    /// else anyone.
    function _callerFor(bytes32 tag, uint256 seed) internal view returns (address) {
        address host = model[tag].host;
        seed = _mix(seed);
        return seed % 4 != 0 && host != address(0) ? host : _actor(seed >> 2);
    }

    /// Few distinct values, so that duplicates, empty strings and tags that
    /// collide through abi.encodePacked ("vm" + "1" and "v" + "m1") come up;
    /// each refusal about one time in eight.
    function _draw(uint256 seed) internal pure returns (Federation.ContainerInput memory v) {
        seed = _mix(seed);
        string[8] memory types = ["", "v", "vm", "pod", "vm", "pod", "vm", "pod"];
        string[8] memory ids = ["", "m1", "1", "2", "3", "4", "5", "6"];
        uint256[8] memory created =
            [uint256(type(uint64).max) + 1, type(uint64).max, T0, T0, T0 + 1, T0 + 1, T0 + 2, T0 + 3];
        v = _vc(types[seed % 8], ids[(seed >> 8) % 8], created[(seed >> 16) % 8]);
        v.available = (seed >> 24) & 1 == 1;
        v.vcpu = uint32(seed >> 32);
        v.ipAddress = (seed >> 64) & 1 == 1 ? "" : "10.1.2.3";
    }

    /// A known tag most of the time, sometimes one the ledger never saw.
    function _pick(uint256 seed) internal view returns (bytes32) {
        seed = _mix(seed);
        if (tags.length == 0 || seed % 16 == 0) return keccak256(abi.encode("unknown", seed % 3));
        return tags[(seed >> 8) % tags.length];
    }

    // ------------------------------------------------------------ checking

    /// The ledger answered: success must be what the model predicted ("")
    /// and a refusal exactly the predicted reason.
    function _answered(bool ok, bytes memory ret, string memory want) internal {
        calls++;
        if (ok) {
            require(bytes(want).length == 0, string.concat("ledger accepted what must be refused: ", want));
            return;
        }
        require(bytes(want).length != 0, "ledger refused what must be accepted");
        require(keccak256(ret) == keccak256(_err(want)), string.concat("ledger refused otherwise than: ", want));
        refusals++;
    }

    /// Why registering v from dc must be refused, given VCs already in
    /// this batch ("" if it must pass).
    function _registerRefusal(address dc, Federation.ContainerInput memory v, bytes32[] memory batch, uint256 n)
        internal
        view
        returns (string memory)
    {
        if (dc == OUTSIDER) return "caller is not a registered datacenter";
        if (bytes(v.vcType).length == 0) return "vcType is empty";
        if (bytes(v.id).length == 0) return "id is empty";
        if (v.created > type(uint64).max) return "created out of range";
        bytes32 tag = _tagOf(v, dc);
        if (model[tag].owner != address(0)) return "VC already registered";
        for (uint256 i = 0; i < n; i++) {
            if (batch[i] == tag) return "VC already registered";
        }
        return "";
    }

    /// The onlyHost checks, in the ledger's order.
    function _hostRefusal(bytes32 tag, address caller) internal view returns (string memory) {
        Model storage m = model[tag];
        if (m.owner == address(0)) return "unknown VC tag";
        if (m.retired) return "VC is retired";
        if (m.host != caller) return "caller is not the host datacenter";
        return "";
    }

    function _add(bytes32 tag, address dc, Federation.ContainerInput memory v) internal {
        tags.push(tag);
        Model storage m = model[tag];
        (m.owner, m.host, m.created, m.available) = (dc, dc, uint64(v.created), v.available);
    }

    // ------------------------------------------------------------ actions

    function registerContainer(uint256 actorSeed, uint256 vcSeed) external {
        address dc = _actor(actorSeed);
        Federation.ContainerInput memory v = _draw(vcSeed);
        string memory want = _registerRefusal(dc, v, new bytes32[](0), 0);
        bytes memory call = abi.encodeCall(
            Federation.registerContainer,
            (v.vcType, v.available, v.vcpu, v.vram, v.vdisk, v.id, v.ipAddress, v.controller, v.created)
        );
        (bool ok, bytes memory ret) = _callRaw(dc, call);
        _answered(ok, ret, want);
        if (ok) {
            bytes32 tag = abi.decode(ret, (bytes32));
            require(tag == _tagOf(v, dc), "returned tag");
            _add(tag, dc, v);
        }
    }

    function registerContainers(uint256 actorSeed, uint256 n, uint256 seed) external {
        address dc = _actor(actorSeed);
        n = n % 5;
        Federation.ContainerInput[] memory vs = new Federation.ContainerInput[](n);
        bytes32[] memory batch = new bytes32[](n);
        string memory want;
        for (uint256 i = 0; i < n; i++) {
            vs[i] = _draw(uint256(keccak256(abi.encode(seed, i))));
            if (bytes(want).length == 0) want = _registerRefusal(dc, vs[i], batch, i);
            batch[i] = _tagOf(vs[i], dc);
        }
        if (dc == OUTSIDER) want = "caller is not a registered datacenter";
        (bool ok, bytes memory ret) = _callRaw(dc, abi.encodeCall(Federation.registerContainers, (vs)));
        _answered(ok, ret, want);
        if (ok) {
            for (uint256 i = 0; i < n; i++) {
                _add(batch[i], dc, vs[i]);
            }
        }
    }

    function changeAvailability(uint256 vcSeed, uint256 actorSeed, bool available, uint256 timestamp) external {
        bytes32 tag = _pick(vcSeed);
        address caller = _callerFor(tag, actorSeed);
        string memory want = _hostRefusal(tag, caller);
        (bool ok, bytes memory ret) =
            _callRaw(caller, abi.encodeCall(Federation.changeAvailability, (tag, available, timestamp)));
        _answered(ok, ret, want);
        if (ok) model[tag].available = available;
    }

    function migrationPending(uint256 vcSeed, uint256 actorSeed, uint256 toSeed, uint256 terms, uint256 tsSeed)
        external
    {
        bytes32 tag = _pick(vcSeed);
        address caller = _callerFor(tag, actorSeed);
        address to = _actor(toSeed);
        (uint256 price, uint256 invoice) = (terms % 3, (terms >> 8) % 3);
        uint256[4] memory stamps = [T0, T0 + 1, uint256(type(uint64).max), uint256(type(uint64).max) + 1];
        uint256 timestamp = stamps[tsSeed % 4];
        string memory want = _hostRefusal(tag, caller);
        if (bytes(want).length == 0) {
            if (to == OUTSIDER) want = "target is not a registered datacenter";
            else if (to == caller) want = "target is the host itself";
            else if (timestamp > type(uint64).max) want = "timestamp out of range";
        }
        (bool ok, bytes memory ret) =
            _callRaw(caller, abi.encodeCall(Federation.migrationPending, (tag, to, price, invoice, timestamp)));
        _answered(ok, ret, want);
        if (ok) {
            Model storage m = model[tag];
            (m.pendingTo, m.price, m.invoice, m.pendingTimestamp) = (to, price, invoice, uint64(timestamp));
            lastProposed = tag;
        }
    }

    /// Three times in four the target of the last intent confirms it at
    /// the agreed terms; else a random caller at random terms (which may
    /// still be the agreed ones) on any VC.
    function migrateContainer(uint256 vcSeed, uint256 actorSeed, uint256 terms, uint256 mode, bool emptyId) external {
        bool honest = _mix(mode) % 4 != 0;
        bytes32 tag = honest && lastProposed != 0 ? lastProposed : _pick(vcSeed);
        Model storage m = model[tag];
        address caller = _actor(actorSeed);
        (uint256 price, uint256 invoice) = (terms % 3, (terms >> 8) % 3);
        if (honest && m.pendingTo != address(0)) (caller, price, invoice) = (m.pendingTo, m.price, m.invoice);
        string memory id = emptyId ? "" : "moved";
        string memory want;
        if (m.pendingTo == address(0)) want = "no pending migration for this VC";
        else if (m.pendingTo != caller) want = "caller is not the migration target";
        else if (price != m.price || invoice != m.invoice) want = "price or invoice does not match";
        else if (emptyId) want = "id is empty";
        address from = m.host;
        vm.recordLogs();
        (bool ok, bytes memory ret) = _callRaw(
            caller, abi.encodeCall(Federation.migrateContainer, (tag, id, "10.9.9.9", "ctl", price, invoice, T0))
        );
        Vm.Log[] memory logs = vm.getRecordedLogs();
        _answered(ok, ret, want);
        if (!ok) return;
        // The event names the old and new host and the agreed terms.
        require(logs.length == 1 && logs[0].topics[0] == Federation.ContainerMigrated.selector, "one event");
        require(logs[0].topics[2] == bytes32(uint256(uint160(from))), "from the old host");
        require(logs[0].topics[3] == bytes32(uint256(uint160(caller))), "to the target");
        (,,, uint256 paid, uint256 invoiced,) =
            abi.decode(logs[0].data, (string, string, string, uint256, uint256, uint256));
        require(paid == m.price && invoiced == m.invoice, "at the agreed terms");
        (m.host, m.pendingTo, m.price, m.invoice, m.pendingTimestamp) = (caller, address(0), 0, 0, 0);
        m.migrations++;
        confirmed++;
    }

    function retireContainer(uint256 vcSeed, uint256 actorSeed, uint256 timestamp) external {
        bytes32 tag = _pick(vcSeed);
        address caller = _actor(actorSeed);
        string memory want = _hostRefusal(tag, caller);
        (bool ok, bytes memory ret) = _callRaw(caller, abi.encodeCall(Federation.retireContainer, (tag, timestamp)));
        _answered(ok, ret, want);
        if (ok) {
            Model storage m = model[tag];
            (m.retired, m.retiredBy, m.available) = (true, caller, false);
            retired++;
            (m.pendingTo, m.price, m.invoice, m.pendingTimestamp) = (address(0), 0, 0, 0);
        }
    }
}

contract FederationInvariantTest is FederationBase {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    FederationHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new FederationHandler(fed);
    }

    /// forge fuzzes the handler only, never the ledger directly.
    function targetContracts() public view returns (address[] memory list) {
        list = new address[](1);
        list[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory list) {
        bytes4[] memory actions = new bytes4[](6);
        actions[0] = FederationHandler.registerContainer.selector;
        actions[1] = FederationHandler.registerContainers.selector;
        actions[2] = FederationHandler.changeAvailability.selector;
        actions[3] = FederationHandler.migrationPending.selector;
        actions[4] = FederationHandler.migrateContainer.selector;
        actions[5] = FederationHandler.retireContainer.selector;
        list = new FuzzSelector[](1);
        list[0] = FuzzSelector(address(handler), actions);
    }

    /// Every VC's slot and intent are what the calls so far must have left.
    function invariant_ledgerMatchesModel() public view {
        uint256 n = handler.tagCount();
        vm.assertEq(fed.containerCount(), n, "containerCount");
        vm.assertEq(fed.datacenterCount(), 3, "datacenterCount");
        for (uint256 i = 0; i < n; i++) {
            bytes32 tag = handler.tags(i);
            FederationHandler.Model memory m = handler.vcModel(tag);
            Federation.Container memory c = fed.container(tag);
            vm.assertEq(c.host, m.host, "host");
            vm.assertEq(uint256(c.created), m.created, "created");
            vm.assertEq(c.available, m.available, "available");
            vm.assertEq(c.retired, m.retired, "retired");
            Federation.Migration memory p = fed.pendingMigration(tag);
            vm.assertEq(p.to, m.pendingTo, "pending target");
            vm.assertEq(uint256(p.timestamp), m.pendingTimestamp, "pending timestamp");
            bytes32 terms = m.pendingTo == address(0) ? bytes32(0) : keccak256(abi.encode(m.price, m.invoice));
            vm.assertEq(p.terms, terms, "pending terms");
        }
    }

    /// A VC has exactly one host, a registered DC; its registrant until a
    /// migration is confirmed.
    function invariant_oneRegisteredHost() public view {
        for (uint256 i = 0; i < handler.tagCount(); i++) {
            bytes32 tag = handler.tags(i);
            FederationHandler.Model memory m = handler.vcModel(tag);
            address host = fed.container(tag).host;
            (, bool registered) = fed.datacenter(host);
            vm.assertTrue(registered, "host is a registered DC");
            if (m.migrations == 0) vm.assertEq(host, m.owner, "the registrant hosts it");
            Federation.Migration memory p = fed.pendingMigration(tag);
            vm.assertTrue(p.to != host, "never pending to its own host");
        }
    }

    /// A retired VC stays as it was retired: unavailable, same host, no
    /// intent.
    function invariant_retiredVcsAreFrozen() public view {
        for (uint256 i = 0; i < handler.tagCount(); i++) {
            bytes32 tag = handler.tags(i);
            FederationHandler.Model memory m = handler.vcModel(tag);
            if (!m.retired) continue;
            Federation.Container memory c = fed.container(tag);
            vm.assertTrue(c.retired, "retired");
            vm.assertEq(c.available, false, "unavailable");
            vm.assertEq(c.host, m.retiredBy, "host at retirement");
            vm.assertEq(fed.pendingMigration(tag).to, address(0), "no intent");
        }
    }
}
