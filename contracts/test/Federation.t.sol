// SPDX-License-Identifier: Apache-2.0
// Unit tests of every Federation function: the success path (state, views
// and events) and every revert reason, in the order the contract checks.
pragma solidity ^0.8.24;

import {Federation} from "../Federation.sol";
import {FederationBase} from "./FederationBase.sol";
import {vm} from "./Vm.sol";

contract FederationTest is FederationBase {
    /// A copy of calldata with ABI word `word` set to value.
    function _altered(bytes memory data, uint256 word, uint256 value) internal pure returns (bytes memory bad) {
        bad = bytes.concat(data);
        _setWord(bad, word, value);
    }

    /// Sends data from DC1 and checks that it reverts with exactly `want`.
    function _assertRefused(bytes memory data, bytes memory want, string memory what) internal {
        (bool ok, bytes memory ret) = _callRaw(DC1, data);
        vm.assertEq(ok, false, what);
        vm.assertEq(ret, want, what);
    }

    // ------------------------------------------------------------ deployment

    function test_constructor_setsAdminAndMode() public {
        Federation consortium = new Federation(false);
        vm.assertEq(fed.admin(), address(this), "admin is the deployer");
        vm.assertTrue(fed.openRegistration(), "open ledger");
        vm.assertEq(consortium.admin(), address(this), "consortium admin");
        vm.assertEq(consortium.openRegistration(), false, "consortium ledger");
        vm.assertEq(consortium.datacenterCount(), 0, "no DCs yet");
        vm.assertEq(consortium.containerCount(), 0, "no VCs yet");
    }

    // ------------------------------------------------------------ datacenters

    function test_admitDatacenter_admitsAndEmits() public {
        Federation consortium = new Federation(false);
        vm.expectEmit(true, true, true, true, address(consortium));
        emit Federation.DatacenterAdmitted(OUTSIDER);
        consortium.admitDatacenter(OUTSIDER);
        vm.assertTrue(consortium.admitted(OUTSIDER), "admitted");
        vm.assertEq(consortium.admitted(DC1), false, "others are not");
    }

    function test_admitDatacenter_revertsForOthers() public {
        Federation consortium = new Federation(false);
        _expectRefusal(DC1, "only the federation admin admits datacenters");
        consortium.admitDatacenter(DC1);
    }

    function test_admitDatacenter_revertsOnZeroWallet() public {
        vm.expectRevert(_err("zero wallet"));
        fed.admitDatacenter(address(0));
    }

    function test_registerDatacenter_recordsAndEmits() public {
        vm.warp(T0 + 77);
        vm.expectEmit(true, true, true, true, address(fed));
        emit Federation.DatacenterRegistered(OUTSIDER, "new-dc", T0 + 77);
        _registerDatacenter(OUTSIDER, "new-dc");
        (string memory name, bool registered) = fed.datacenter(OUTSIDER);
        vm.assertEq(name, "new-dc", "name");
        vm.assertTrue(registered, "registered");
        vm.assertEq(fed.datacenterByName(keccak256("new-dc")), OUTSIDER, "by name");
        vm.assertEq(fed.datacenterCount(), 4, "count");
    }

    function test_registerDatacenter_nameLengthBounds() public {
        _registerDatacenter(address(0xA1), "x");
        _registerDatacenter(address(0xA2), _bytesOf(64, 1));
        _expectRefusal(address(0xA3), "name must be 1 to 64 bytes");
        fed.registerDatacenter("");
        _expectRefusal(address(0xA3), "name must be 1 to 64 bytes");
        fed.registerDatacenter(_bytesOf(65, 1));
        vm.assertEq(fed.datacenterCount(), 5, "two more");
    }

    function test_registerDatacenter_consortiumNeedsAdmission() public {
        Federation consortium = new Federation(false);
        _expectRefusal(DC1, "wallet not admitted to the federation");
        consortium.registerDatacenter("dc-one");
        consortium.admitDatacenter(DC1);
        vm.prank(DC1);
        consortium.registerDatacenter("dc-one");
        (, bool registered) = consortium.datacenter(DC1);
        vm.assertTrue(registered, "registered once admitted");
    }

    function test_registerDatacenter_revertsWhenRegistered() public {
        _expectRefusal(DC1, "datacenter already registered");
        fed.registerDatacenter("another-name");
    }

    function test_registerDatacenter_revertsWhenNameTaken() public {
        _expectRefusal(OUTSIDER, "datacenter name taken");
        fed.registerDatacenter("dc-two");
    }

    function test_datacenter_unknownWallet() public view {
        (string memory name, bool registered) = fed.datacenter(OUTSIDER);
        vm.assertEq(name, "", "no name");
        vm.assertEq(registered, false, "not registered");
        vm.assertEq(fed.datacenterByName(keccak256("nope")), address(0), "no wallet by name");
    }

    // ------------------------------------------------------------ registration

    function test_vcTagOf_isPackedHash() public view {
        bytes32 want = keccak256(abi.encodePacked("openstack:vm", "vm-1", DC1, uint256(T0)));
        vm.assertEq(fed.vcTagOf("openstack:vm", "vm-1", DC1, T0), want, "tag");
    }

    /// The tag hashes vcType and id packed, without lengths, so one DC's
    /// ("vm", "1") and ("v", "m1") created at the same second share a tag
    /// and the second is refused. Other DCs are not affected (the owner is
    /// in the hash). catena computes the same tag (ct_ledger_vc_tag), so
    /// this pins the scheme: changing it changes every tag.
    function test_vcTagOf_packedFieldsOfOneDcCanCollide() public {
        vm.assertEq(fed.vcTagOf("vm", "1", DC1, T0), fed.vcTagOf("v", "m1", DC1, T0), "same packed bytes");
        _register(DC1, _vc("vm", "1", T0));
        vm.expectRevert(_err("VC already registered"));
        _register(DC1, _vc("v", "m1", T0));
        _register(DC2, _vc("v", "m1", T0));
    }

    function test_registerContainer_storesAndEmits() public {
        Federation.ContainerInput memory v = _vc("openstack:vm", "vm-1", T0 - 5);
        v.available = false;
        bytes32 tag = _tagOf(v, DC1);
        vm.expectEmit(true, true, true, true, address(fed));
        emit Federation.ContainerRegistered(
            tag, v.created, DC1, v.vcType, v.id, v.ipAddress, v.controller, v.vcpu, v.vram, v.vdisk, false
        );
        vm.assertEq(_register(DC1, v), tag, "returned tag");
        Federation.Container memory c = fed.container(tag);
        vm.assertEq(c.host, DC1, "host");
        vm.assertEq(uint256(c.created), T0 - 5, "created");
        vm.assertEq(c.available, false, "available");
        vm.assertEq(c.retired, false, "retired");
        vm.assertEq(fed.containerCount(), 1, "count");
    }

    function test_registerContainer_sameVcFromAnotherDcIsAnotherTag() public {
        bytes32 a = _registerSimple(DC1, "vm-1");
        bytes32 b = _registerSimple(DC2, "vm-1");
        vm.assertTrue(a != b, "tags differ by owner");
        vm.assertEq(fed.container(b).host, DC2, "second host");
        vm.assertEq(fed.containerCount(), 2, "count");
    }

    function test_registerContainer_revertsForNonDatacenter() public {
        Federation.ContainerInput memory v = _vc("openstack:vm", "vm-1", T0);
        vm.expectRevert(_err("caller is not a registered datacenter"));
        _register(OUTSIDER, v);
    }

    function test_registerContainer_revertsOnEmptyVcType() public {
        vm.expectRevert(_err("vcType is empty"));
        _register(DC1, _vc("", "vm-1", T0));
    }

    function test_registerContainer_revertsOnEmptyId() public {
        vm.expectRevert(_err("id is empty"));
        _register(DC1, _vc("openstack:vm", "", T0));
    }

    function test_registerContainer_createdBounds() public {
        _register(DC1, _vc("openstack:vm", "vm-max", type(uint64).max));
        vm.expectRevert(_err("created out of range"));
        _register(DC1, _vc("openstack:vm", "vm-1", uint256(type(uint64).max) + 1));
        vm.expectRevert(_err("created out of range"));
        _register(DC1, _vc("openstack:vm", "vm-1", type(uint256).max));
    }

    function test_registerContainer_revertsWhenRegistered() public {
        _registerSimple(DC1, "vm-1");
        vm.expectRevert(_err("VC already registered"));
        _registerSimple(DC1, "vm-1");
        vm.assertEq(fed.containerCount(), 1, "count unchanged");
    }

    /// The compiler decodes registerContainer's arguments before
    /// _registerAt reads them: out-of-range values never reach it.
    function test_registerContainer_compilerRefusesMalformedArguments() public {
        Federation.ContainerInput memory v = _vc("openstack:vm", "vm-1", T0);
        bytes memory good = abi.encodeCall(
            Federation.registerContainer,
            (v.vcType, v.available, v.vcpu, v.vram, v.vdisk, v.id, v.ipAddress, v.controller, v.created)
        );
        uint256[5] memory words = [uint256(1), 2, 3, 4, 0];
        uint256[5] memory values = [uint256(2), 1 << 32, 1 << 32, 1 << 32, 1 << 32];
        for (uint256 k = 0; k < words.length; k++) {
            _assertRefused(_altered(good, words[k], values[k]), "", "by the compiler's decoder");
        }
        (bool sent,) = _callRaw(DC1, good);
        vm.assertTrue(sent, "the unaltered call passes");
    }

    function test_registerContainers_storesAndEmitsInOrder() public {
        Federation.ContainerInput[] memory vs = new Federation.ContainerInput[](3);
        vs[0] = _vc("openstack:vm", "vm-1", T0);
        vs[1] = _vc("k8s:pod", "pod-1", T0 + 1);
        vs[1].available = false;
        vs[2] = _vc("openstack:vm", "vm-2", T0 + 2);
        for (uint256 i = 0; i < vs.length; i++) {
            Federation.ContainerInput memory v = vs[i];
            vm.expectEmit(true, true, true, true, address(fed));
            emit Federation.ContainerRegistered(
                _tagOf(v, DC2),
                v.created,
                DC2,
                v.vcType,
                v.id,
                v.ipAddress,
                v.controller,
                v.vcpu,
                v.vram,
                v.vdisk,
                v.available
            );
        }
        _registerBatch(DC2, vs);
        for (uint256 i = 0; i < vs.length; i++) {
            Federation.Container memory c = fed.container(_tagOf(vs[i], DC2));
            vm.assertEq(c.host, DC2, "host");
            vm.assertEq(uint256(c.created), vs[i].created, "created");
            vm.assertEq(c.available, vs[i].available, "available");
        }
        vm.assertEq(fed.containerCount(), 3, "count");
    }

    function test_registerContainers_emptyBatch() public {
        vm.recordLogs();
        _registerBatch(DC1, new Federation.ContainerInput[](0));
        vm.assertEq(vm.getRecordedLogs().length, 0, "no events");
        vm.assertEq(fed.containerCount(), 0, "count");
    }

    function test_registerContainers_revertsForNonDatacenter() public {
        vm.expectRevert(_err("caller is not a registered datacenter"));
        _registerBatch(OUTSIDER, _one(_vc("openstack:vm", "vm-1", T0)));
    }

    /// A refused VC anywhere in a batch refuses it all: the first VC is
    /// still unregistered afterwards.
    function test_registerContainers_refusalsUndoTheBatch() public {
        _registerSimple(DC1, "taken");
        Federation.ContainerInput[5] memory second = [
            _vc("", "x", T0),
            _vc("openstack:vm", "", T0),
            _vc("openstack:vm", "x", uint256(type(uint64).max) + 1),
            _vc("openstack:vm", "fresh", T0), // the batch's own first VC again
            _vc("openstack:vm", "taken", T0)
        ];
        string[5] memory reasons = [
            "vcType is empty", "id is empty", "created out of range", "VC already registered", "VC already registered"
        ];
        for (uint256 k = 0; k < second.length; k++) {
            Federation.ContainerInput[] memory vs = new Federation.ContainerInput[](2);
            vs[0] = _vc("openstack:vm", "fresh", T0);
            vs[1] = second[k];
            vm.expectRevert(_err(reasons[k]));
            _registerBatch(DC1, vs);
        }
        vm.assertEq(fed.containerCount(), 1, "only the first registration");
        _registerSimple(DC1, "fresh");
    }

    /// Calldata the ABI decoder would refuse: _registerAt refuses it too.
    /// Words after the selector of a one-VC batch: 0 array offset, 1 length,
    /// 2 the VC's offset, 3-11 its head (vcType, available, vcpu, vram,
    /// vdisk, id, ipAddress, controller, created), then the strings.
    function test_registerContainers_refusesMalformedInput() public {
        Federation.ContainerInput memory v = _vc("openstack:vm", "vm-1", T0);
        bytes memory good = abi.encodeCall(Federation.registerContainers, (_one(v)));
        uint256 n = good.length / 32; // words after the selector, rounded down
        uint256[12] memory words = [uint256(4), 5, 6, 7, 2, 2, 3, 8, 9, 10, 3, 8];
        uint256[12] memory values = [
            uint256(2), // available is not a bool
            1 << 32, // vcpu wider than uint32
            1 << 32, // vram
            1 << 32, // vdisk
            1 << 32, // the VC's offset past 32 bits
            32 * n - 0x100, // the VC's head running past the end
            1 << 32, // vcType's offset past 32 bits
            32 * n, // id's offset at the end
            32 * n - 0x100, // ipAddress's length word past the end
            type(uint256).max, // controller's offset
            32 * (n - 4), // vcType's offset to the last word, ...
            0x140 // id's offset to vcType's bytes: a length of about 2^255
        ];
        for (uint256 k = 0; k < words.length; k++) {
            bytes memory bad = _altered(good, words[k], values[k]);
            if (k == 10) _setWord(bad, n - 1, 1 << 32); // ... that says 2^32 bytes
            _assertRefused(bad, _err("malformed VC input"), string.concat("malformed, case ", vm.toString(k)));
        }
        // The last string's bytes cut off.
        bytes memory cut = new bytes(good.length - 32);
        for (uint256 i = 0; i < cut.length; i++) {
            cut[i] = good[i];
        }
        _assertRefused(cut, _err("malformed VC input"), "cut short");
        vm.assertEq(fed.containerCount(), 0, "nothing registered");
        (bool sent,) = _callRaw(DC1, good);
        vm.assertTrue(sent, "the unaltered batch passes");
    }

    /// The array itself is decoded by the compiler: a length past the
    /// calldata is refused before any VC is looked at.
    function test_registerContainers_compilerRefusesBadArray() public {
        bytes memory good = abi.encodeCall(Federation.registerContainers, (_one(_vc("t", "i", 1))));
        uint256[3] memory words = [uint256(1), 1, 0];
        uint256[3] memory values = [uint256(1000), type(uint256).max, 1 << 64];
        for (uint256 k = 0; k < words.length; k++) {
            _assertRefused(_altered(good, words[k], values[k]), "", "by the compiler's decoder");
        }
    }

    // ------------------------------------------------------------ availability

    function test_changeAvailability_hostChangesIt() public {
        bytes32 tag = _registerSimple(DC1, "vm-1");
        vm.expectEmit(true, true, true, true, address(fed));
        emit Federation.ContainerAvailabilityChanged(tag, DC1, false, 12345);
        vm.prank(DC1);
        fed.changeAvailability(tag, false, 12345);
        vm.assertEq(fed.container(tag).available, false, "unavailable");
        vm.prank(DC1);
        fed.changeAvailability(tag, true, 12346);
        vm.assertEq(fed.container(tag).available, true, "available again");
    }

    /// Downtime in block time, whatever timestamp the host reports: exact
    /// for any past moment, repeats and same-block flips, across a
    /// migration, and retirement counts as down from then on.
    function test_downtime_isRecordedInBlockTime() public {
        bytes32 tag = _registerSimple(DC1, "vm-1");
        vm.warp(T0 + 10);
        vm.prank(DC1);
        fed.changeAvailability(tag, false, 1); // the host's timestamp is not used
        vm.prank(DC1);
        fed.changeAvailability(tag, false, 2); // no change: no checkpoint
        vm.warp(T0 + 40);
        vm.prank(DC1);
        fed.changeAvailability(tag, true, 3);
        vm.prank(DC1);
        fed.changeAvailability(tag, false, 4); // same block: the last state holds
        vm.prank(DC1);
        fed.changeAvailability(tag, true, 5);
        vm.assertEq(fed.downtimeRecord(tag).length, 2, "two checkpoints");
        vm.assertEq(fed.downtimeAt(tag, T0 + 5), 0, "before the outage");
        vm.assertEq(fed.downtimeAt(tag, T0 + 25), 15, "during it");
        vm.assertEq(fed.downtimeAt(tag, T0 + 100), 30, "after it");
        vm.prank(DC1);
        fed.migrationPending(tag, DC2, 0, 0, T0);
        vm.warp(T0 + 50);
        vm.prank(DC2);
        fed.migrateContainer(tag, "new", "10.0.0.2", "http://b", 0, 0, T0);
        vm.prank(DC2);
        fed.changeAvailability(tag, false, 0);
        vm.warp(T0 + 60);
        vm.prank(DC2);
        fed.retireContainer(tag, 0); // already down: still down
        vm.warp(T0 + 80);
        vm.assertEq(fed.downtimeAt(tag, T0 + 80), 60, "down since the move");
        vm.assertEq(fed.downtimeAt(tag, T0 + 45), 30, "the past unchanged");
        vm.assertEq(fed.downtimeAt(keccak256("nothing"), T0), 0, "unknown: none");
    }

    function test_datacenterAttributes_declaredByTheDcItself() public {
        string[] memory k = new string[](3);
        string[] memory v = new string[](3);
        (k[0], v[0]) = ("region", "eu-west");
        (k[1], v[1]) = ("country", "DE");
        (k[2], v[2]) = ("gdpr", "true");
        vm.prank(DC1);
        fed.setDatacenterAttributes(k, v);
        vm.assertEq(fed.attribute(DC1, "country"), "DE", "country");
        (string[] memory keys, string[] memory values) = fed.attributes(DC1);
        vm.assertEq(keys.length, 3, "three");
        vm.assertEq(values[2], "true", "gdpr");
        // A new declaration replaces the old one.
        string[] memory k2 = new string[](1);
        string[] memory v2 = new string[](1);
        (k2[0], v2[0]) = ("gdpr", "false");
        vm.prank(DC1);
        fed.setDatacenterAttributes(k2, v2);
        vm.assertEq(fed.attribute(DC1, "region"), "", "replaced");
        vm.assertEq(fed.attribute(DC1, "gdpr"), "false", "new value");
        // Refusals.
        _expectRefusal(OUTSIDER, "caller is not a registered datacenter");
        fed.setDatacenterAttributes(k2, v2);
        k[1] = "region";
        _expectRefusal(DC2, "key given twice");
        fed.setDatacenterAttributes(k, v);
        k[1] = "";
        _expectRefusal(DC2, "key must be 1 to 32 bytes");
        fed.setDatacenterAttributes(k, v);
        _expectRefusal(DC2, "keys and values differ in number");
        fed.setDatacenterAttributes(k, v2);
        (k[1], v[1]) = ("country", "a-value-that-is-much-longer-than-sixty-four-bytes-which-the-ledger-refuses");
        _expectRefusal(DC2, "value longer than 64 bytes");
        fed.setDatacenterAttributes(k, v);
    }

    function test_changeAvailability_revertsOnUnknownTag() public {
        _expectRefusal(DC1, "unknown VC tag");
        fed.changeAvailability(keccak256("nothing"), false, T0);
    }

    function test_changeAvailability_revertsForOthers() public {
        bytes32 tag = _registerSimple(DC1, "vm-1");
        address[2] memory others = [DC2, OUTSIDER];
        for (uint256 k = 0; k < others.length; k++) {
            _expectRefusal(others[k], "caller is not the host datacenter");
            fed.changeAvailability(tag, false, T0);
        }
        vm.assertEq(fed.container(tag).available, true, "unchanged");
    }

    function test_changeAvailability_revertsWhenRetired() public {
        bytes32 tag = _registerSimple(DC1, "vm-1");
        vm.prank(DC1);
        fed.retireContainer(tag, T0);
        _expectRefusal(DC1, "VC is retired");
        fed.changeAvailability(tag, true, T0);
    }

    // ------------------------------------------------------------ migration

    /// DC1's VC "vm-1", with a migration to DC2 at price 100, invoice 7
    /// pending.
    function _registerMoving() internal returns (bytes32 tag) {
        tag = _registerSimple(DC1, "vm-1");
        vm.prank(DC1);
        fed.migrationPending(tag, DC2, 100, 7, T0);
    }

    function test_migrationPending_recordsAndEmits() public {
        bytes32 tag = _registerSimple(DC1, "vm-1");
        vm.expectEmit(true, true, true, true, address(fed));
        emit Federation.ContainerMigrationPending(tag, DC1, DC2, 100, 7, T0 + 9);
        vm.prank(DC1);
        fed.migrationPending(tag, DC2, 100, 7, T0 + 9);
        Federation.Migration memory m = fed.pendingMigration(tag);
        vm.assertEq(m.to, DC2, "target");
        vm.assertEq(uint256(m.timestamp), T0 + 9, "timestamp");
        vm.assertEq(m.terms, keccak256(abi.encode(uint256(100), uint256(7))), "terms");
        vm.assertEq(fed.container(tag).host, DC1, "host unchanged until confirmed");
    }

    function test_migrationPending_newIntentReplacesOld() public {
        bytes32 tag = _registerMoving();
        vm.prank(DC1);
        fed.migrationPending(tag, DC3, 200, 8, T0 + 1);
        _expectRefusal(DC2, "caller is not the migration target");
        fed.migrateContainer(tag, "vm-1b", "", "", 100, 7, T0);
        vm.prank(DC3);
        fed.migrateContainer(tag, "vm-1c", "", "", 200, 8, T0);
        vm.assertEq(fed.container(tag).host, DC3, "the second target");
    }

    function test_migrationPending_hostChecks() public {
        bytes32 tag = _registerSimple(DC1, "vm-1");
        _expectRefusal(DC1, "unknown VC tag");
        fed.migrationPending(keccak256("nothing"), DC2, 1, 1, T0);
        _expectRefusal(DC2, "caller is not the host datacenter");
        fed.migrationPending(tag, DC3, 1, 1, T0);
        vm.prank(DC1);
        fed.retireContainer(tag, T0);
        _expectRefusal(DC1, "VC is retired");
        fed.migrationPending(tag, DC2, 1, 1, T0);
    }

    function test_migrationPending_revertsOnUnregisteredTarget() public {
        bytes32 tag = _registerSimple(DC1, "vm-1");
        _expectRefusal(DC1, "target is not a registered datacenter");
        fed.migrationPending(tag, OUTSIDER, 1, 1, T0);
        _expectRefusal(DC1, "target is not a registered datacenter");
        fed.migrationPending(tag, address(0), 1, 1, T0);
    }

    function test_migrationPending_revertsOnSelf() public {
        bytes32 tag = _registerSimple(DC1, "vm-1");
        _expectRefusal(DC1, "target is the host itself");
        fed.migrationPending(tag, DC1, 1, 1, T0);
    }

    function test_migrationPending_timestampBounds() public {
        bytes32 tag = _registerSimple(DC1, "vm-1");
        vm.prank(DC1);
        fed.migrationPending(tag, DC2, 1, 1, type(uint64).max);
        _expectRefusal(DC1, "timestamp out of range");
        fed.migrationPending(tag, DC2, 1, 1, uint256(type(uint64).max) + 1);
    }

    function test_migrateContainer_movesAndEmits() public {
        bytes32 tag = _registerMoving();
        vm.expectEmit(true, true, true, true, address(fed));
        emit Federation.ContainerMigrated(tag, DC1, DC2, "vm-9", "10.9.9.9", "http://ctl2", 100, 7, T0 + 3);
        vm.prank(DC2);
        fed.migrateContainer(tag, "vm-9", "10.9.9.9", "http://ctl2", 100, 7, T0 + 3);
        Federation.Container memory c = fed.container(tag);
        vm.assertEq(c.host, DC2, "new host");
        vm.assertEq(c.available, true, "availability kept");
        vm.assertEq(uint256(c.created), T0, "created kept");
        vm.assertEq(fed.pendingMigration(tag).to, address(0), "intent consumed");
        // Only the new host may act on it now.
        _expectRefusal(DC1, "caller is not the host datacenter");
        fed.changeAvailability(tag, false, T0);
        vm.prank(DC2);
        fed.changeAvailability(tag, false, T0);
        _expectRefusal(DC2, "no pending migration for this VC");
        fed.migrateContainer(tag, "vm-9", "", "", 100, 7, T0);
    }

    function test_migrateContainer_revertsWithoutIntent() public {
        bytes32 tag = _registerSimple(DC1, "vm-1");
        _expectRefusal(DC2, "no pending migration for this VC");
        fed.migrateContainer(tag, "vm-1", "", "", 0, 0, T0);
        _expectRefusal(DC2, "no pending migration for this VC");
        fed.migrateContainer(keccak256("nothing"), "vm-1", "", "", 0, 0, T0);
    }

    function test_migrateContainer_revertsForOthers() public {
        bytes32 tag = _registerMoving();
        address[3] memory others = [DC1, DC3, OUTSIDER];
        for (uint256 k = 0; k < others.length; k++) {
            _expectRefusal(others[k], "caller is not the migration target");
            fed.migrateContainer(tag, "vm-1", "", "", 100, 7, T0);
        }
        vm.assertEq(fed.container(tag).host, DC1, "host unchanged");
    }

    function test_migrateContainer_revertsOnOtherTerms() public {
        bytes32 tag = _registerMoving();
        uint256[3] memory prices = [uint256(101), 100, 7];
        uint256[3] memory invoices = [uint256(7), 8, 100];
        for (uint256 k = 0; k < prices.length; k++) {
            _expectRefusal(DC2, "price or invoice does not match");
            fed.migrateContainer(tag, "vm-1", "", "", prices[k], invoices[k], T0);
        }
        vm.assertEq(fed.pendingMigration(tag).to, DC2, "intent kept");
    }

    function test_migrateContainer_revertsOnEmptyId() public {
        bytes32 tag = _registerMoving();
        _expectRefusal(DC2, "id is empty");
        fed.migrateContainer(tag, "", "10.0.0.2", "c", 100, 7, T0);
    }

    /// Retiring deletes the intent, so the target meets "no pending
    /// migration" first; the contract's own "VC is retired" check behind it
    /// is reached only if an intent survived retirement, which the test
    /// plants in storage to show the check holds.
    function test_migrateContainer_refusesRetired() public {
        bytes32 tag = _registerSimple(DC1, "vm-1");
        vm.record();
        vm.prank(DC1);
        fed.migrationPending(tag, DC2, 100, 7, T0);
        (, bytes32[] memory slots) = vm.accesses(address(fed));
        bytes32[] memory values = new bytes32[](slots.length);
        for (uint256 i = 0; i < slots.length; i++) {
            values[i] = vm.load(address(fed), slots[i]);
        }
        vm.prank(DC1);
        fed.retireContainer(tag, T0);
        _expectRefusal(DC2, "no pending migration for this VC");
        fed.migrateContainer(tag, "vm-1", "", "", 100, 7, T0);
        for (uint256 i = 0; i < slots.length; i++) {
            vm.store(address(fed), slots[i], values[i]);
        }
        vm.assertEq(fed.pendingMigration(tag).to, DC2, "intent planted");
        _expectRefusal(DC2, "VC is retired");
        fed.migrateContainer(tag, "vm-1", "", "", 100, 7, T0);
    }

    // ------------------------------------------------------------ retirement

    function test_retireContainer_retiresAndEmits() public {
        bytes32 tag = _registerMoving();
        vm.expectEmit(true, true, true, true, address(fed));
        emit Federation.ContainerRetired(tag, DC1, T0 + 4);
        vm.prank(DC1);
        fed.retireContainer(tag, T0 + 4);
        Federation.Container memory c = fed.container(tag);
        vm.assertEq(c.host, DC1, "host kept");
        vm.assertTrue(c.retired, "retired");
        vm.assertEq(c.available, false, "unavailable");
        vm.assertEq(fed.pendingMigration(tag).to, address(0), "intent dropped");
        vm.assertEq(fed.containerCount(), 1, "still counted");
        // Its tag stays taken.
        vm.expectRevert(_err("VC already registered"));
        _registerSimple(DC1, "vm-1");
    }

    function test_retireContainer_hostChecks() public {
        bytes32 tag = _registerSimple(DC1, "vm-1");
        _expectRefusal(DC1, "unknown VC tag");
        fed.retireContainer(keccak256("nothing"), T0);
        _expectRefusal(DC2, "caller is not the host datacenter");
        fed.retireContainer(tag, T0);
        vm.prank(DC1);
        fed.retireContainer(tag, T0);
        _expectRefusal(DC1, "VC is retired");
        fed.retireContainer(tag, T0);
    }

    // ------------------------------------------------------------ views

    function test_views_unknownTag() public view {
        Federation.Container memory c = fed.container(keccak256("nothing"));
        vm.assertEq(c.host, address(0), "no host");
        vm.assertEq(uint256(c.created), 0, "no created");
        Federation.Migration memory m = fed.pendingMigration(keccak256("nothing"));
        vm.assertEq(m.to, address(0), "no target");
        vm.assertEq(m.terms, bytes32(0), "no terms");
    }
}
