// SPDX-License-Identifier: Apache-2.0
// Fuzz tests of Federation's inputs: strings of 0 to 256 bytes, the whole
// uint32 range of vCPU/vRAM/vDisk, batches of 0 to 8 VCs, and calldata
// that _registerAt decodes by hand, checked against the compiler's ABI
// decoder and encoder.
pragma solidity ^0.8.24;

import {Federation} from "../Federation.sol";
import {FederationBase} from "./FederationBase.sol";
import {Vm, vm} from "./Vm.sol";

contract FederationFuzzTest is FederationBase {
    uint256 internal constant MAX_TEXT = 256;

    /// VC number i of a batch drawn from seed: strings of 0 to 256 bytes
    /// (vcType and id at least one), any uint32, a created time unique to i.
    function _drawVc(uint256 seed, uint256 i, uint256 maxText)
        internal
        pure
        returns (Federation.ContainerInput memory v)
    {
        uint256 h = uint256(keccak256(abi.encode(seed, i)));
        v.vcType = _bytesOf(1 + (h % maxText), h ^ 1);
        v.id = _bytesOf(1 + ((h >> 16) % maxText), h ^ 2);
        v.ipAddress = _bytesOf((h >> 32) % (maxText + 1), h ^ 3);
        v.controller = _bytesOf((h >> 48) % (maxText + 1), h ^ 4);
        v.available = (h >> 64) & 1 == 1;
        v.vcpu = uint32(h >> 72);
        v.vram = uint32(h >> 104);
        v.vdisk = uint32(h >> 136);
        v.created = (uint256(uint64(h >> 168)) & ~uint256(0xf)) | i;
    }

    /// Checks that log is ContainerRegistered for v from owner, its data
    /// the canonical ABI encoding of v's fields, decoding back to them.
    function _checkRegistered(Vm.Log memory log, Federation.ContainerInput memory v, address owner) internal view {
        vm.assertEq(log.emitter, address(fed), "emitter");
        vm.assertEq(log.topics.length, 3, "topics");
        vm.assertEq(log.topics[0], Federation.ContainerRegistered.selector, "event");
        vm.assertEq(log.topics[1], _tagOf(v, owner), "vcTag");
        vm.assertEq(log.topics[2], bytes32(uint256(uint160(owner))), "owner");
        vm.assertEq(log.data, _eventData(v), "canonical ABI data");
        (
            uint256 created,
            string memory vcType,
            string memory id,
            string memory ip,
            string memory controller,
            uint32 vcpu,
            uint32 vram,
            uint32 vdisk,
            bool available
        ) = abi.decode(log.data, (uint256, string, string, string, string, uint32, uint32, uint32, bool));
        vm.assertEq(created, v.created, "created");
        vm.assertEq(vcType, v.vcType, "vcType");
        vm.assertEq(id, v.id, "id");
        vm.assertEq(ip, v.ipAddress, "ipAddress");
        vm.assertEq(controller, v.controller, "controller");
        vm.assertEq(uint256(vcpu), v.vcpu, "vcpu");
        vm.assertEq(uint256(vram), v.vram, "vram");
        vm.assertEq(uint256(vdisk), v.vdisk, "vdisk");
        vm.assertEq(available, v.available, "available");
    }

    /// The event _registerAt builds word by word decodes to exactly the
    /// inputs, for every string length from 0 to 256 and every uint32.
    function testFuzz_registerContainer_eventIsTheInput(
        uint256[4] memory lengths,
        uint256 seed,
        uint32 vcpu,
        uint32 vram,
        uint32 vdisk,
        bool available,
        uint64 created
    ) public {
        Federation.ContainerInput memory v;
        v.vcType = _bytesOf(_bound(lengths[0], 0, MAX_TEXT), seed);
        v.id = _bytesOf(_bound(lengths[1], 0, MAX_TEXT), seed ^ 1);
        v.ipAddress = _bytesOf(_bound(lengths[2], 0, MAX_TEXT), seed ^ 2);
        v.controller = _bytesOf(_bound(lengths[3], 0, MAX_TEXT), seed ^ 3);
        (v.available, v.vcpu, v.vram, v.vdisk, v.created) = (available, vcpu, vram, vdisk, created);
        if (bytes(v.vcType).length == 0) {
            vm.expectRevert(_err("vcType is empty"));
        } else if (bytes(v.id).length == 0) {
            vm.expectRevert(_err("id is empty"));
        }
        vm.recordLogs();
        bytes32 tag = _register(DC1, v);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        if (bytes(v.vcType).length == 0 || bytes(v.id).length == 0) {
            vm.assertEq(logs.length, 0, "no event for a refused VC");
            return;
        }
        vm.assertEq(logs.length, 1, "one event");
        _checkRegistered(logs[0], v, DC1);
        vm.assertEq(tag, _tagOf(v, DC1), "returned tag");
        Federation.Container memory c = fed.container(tag);
        vm.assertEq(c.host, DC1, "host");
        vm.assertEq(uint256(c.created), created, "created");
        vm.assertEq(c.available, available, "available");
        vm.assertEq(c.retired, false, "retired");
    }

    function testFuzz_registerContainer_createdRange(uint256 created) public {
        if (created > type(uint64).max) vm.expectRevert(_err("created out of range"));
        _register(DC1, _vc("openstack:vm", "vm-1", created));
    }

    /// Storage slots written since vm.record(), after the slots in `also`.
    function _writtenAlso(bytes32[] memory also) internal view returns (bytes32[] memory all) {
        (, bytes32[] memory slots) = vm.accesses(address(fed));
        all = new bytes32[](also.length + slots.length);
        for (uint256 i = 0; i < also.length; i++) {
            all[i] = also[i];
        }
        for (uint256 i = 0; i < slots.length; i++) {
            all[also.length + i] = slots[i];
        }
    }

    function _load(bytes32[] memory slots) internal view returns (bytes32[] memory values) {
        values = new bytes32[](slots.length);
        for (uint256 i = 0; i < slots.length; i++) {
            values[i] = vm.load(address(fed), slots[i]);
        }
    }

    /// A batch leaves the same storage and the same events as the same
    /// registrations one by one: every slot that either wrote holds the
    /// same value after both.
    function testFuzz_registerContainers_batchEqualsSingles(uint256 n, uint256 seed) public {
        n = _bound(n, 0, 8);
        Federation.ContainerInput[] memory vs = new Federation.ContainerInput[](n);
        for (uint256 i = 0; i < n; i++) {
            vs[i] = _drawVc(seed, i, MAX_TEXT);
        }

        uint256 before = vm.snapshotState();
        vm.record();
        vm.recordLogs();
        _registerBatch(DC2, vs);
        Vm.Log[] memory batch = vm.getRecordedLogs();
        bytes32[] memory slots = _writtenAlso(new bytes32[](0));
        uint256 afterBatch = vm.snapshotState();

        vm.assertTrue(vm.revertToState(before), "back to the start");
        vm.record();
        vm.recordLogs();
        for (uint256 i = 0; i < n; i++) {
            _register(DC2, vs[i]);
        }
        Vm.Log[] memory single = vm.getRecordedLogs();
        slots = _writtenAlso(slots);
        bytes32[] memory singleValues = _load(slots);
        vm.assertTrue(vm.revertToState(afterBatch), "back to the batch's state");
        bytes32[] memory batchValues = _load(slots);

        vm.assertEq(abi.encode(batchValues), abi.encode(singleValues), "the same storage");
        vm.assertEq(batch.length, single.length, "as many events");
        vm.assertEq(batch.length, n, "one event a VC");
        for (uint256 i = 0; i < n; i++) {
            vm.assertEq(abi.encode(batch[i].topics), abi.encode(single[i].topics), "topics");
            vm.assertEq(batch[i].data, single[i].data, "data");
            vm.assertEq(batch[i].emitter, single[i].emitter, "emitter");
            _checkRegistered(batch[i], vs[i], DC2);
        }
        vm.assertEq(fed.containerCount(), n, "count");
    }

    /// The compiler's decoding of a batch: the reference _registerAt's
    /// hand-written decoding is compared with.
    function decodeBatch(bytes calldata data) external pure returns (Federation.ContainerInput[] memory) {
        return abi.decode(data[4:], (Federation.ContainerInput[]));
    }

    /// What registerContainers must answer for VCs the ABI decoder read:
    /// the first refusal in the order the contract checks, or "" if none.
    function _expectedRefusal(Federation.ContainerInput[] memory vs) internal view returns (string memory) {
        for (uint256 i = 0; i < vs.length; i++) {
            if (bytes(vs[i].vcType).length == 0) return "vcType is empty";
            if (bytes(vs[i].id).length == 0) return "id is empty";
            if (vs[i].created > type(uint64).max) return "created out of range";
            for (uint256 j = 0; j < i; j++) {
                if (_tagOf(vs[j], DC1) == _tagOf(vs[i], DC1)) return "VC already registered";
            }
        }
        return "";
    }

    /// One word of a valid two-VC batch replaced (or the calldata cut
    /// short): registerContainers accepts exactly what the compiler's ABI
    /// decoder accepts, refuses the rest as malformed, and the events hold
    /// what the decoder read.
    /// forge-config: default.fuzz.runs = 2048
    function testFuzz_registerContainers_rawInputAsAbiDecoder(uint256 seed, uint256 word, uint256 value, uint8 mode)
        public
    {
        Federation.ContainerInput[] memory good = new Federation.ContainerInput[](2);
        good[0] = _drawVc(seed, 0, 40);
        good[1] = _drawVc(seed, 1, 40);
        bytes memory data = abi.encodeCall(Federation.registerContainers, (good));
        uint256 words = (data.length - 4) / 32;
        word = _bound(word, 0, words - 1);
        mode = mode % 5;
        if (mode == 4) {
            // Cut short, anywhere.
            uint256 len = _bound(value, 4, data.length - 1);
            assembly ("memory-safe") {
                mstore(data, len)
            }
        } else if (mode == 0) {
            _setWord(data, word, value); // any value
        } else if (mode == 1) {
            _setWord(data, word, value % (32 * words + 64)); // an offset or a length
        } else if (mode == 2) {
            unchecked {
                _setWord(data, word, _word(data, word) + (value % 129) - 64); // near the old value
            }
        } else {
            uint256[7] memory edges =
                [uint256(1) << 32, (1 << 32) - 1, 1 << 64, (1 << 64) - 1, 1 << 255, type(uint256).max, 2];
            _setWord(data, word, edges[value % edges.length]);
        }

        Federation.ContainerInput[] memory vs;
        bool decodes;
        try this.decodeBatch(data) returns (Federation.ContainerInput[] memory read) {
            (decodes, vs) = (true, read);
        } catch {}

        vm.recordLogs();
        (bool ok, bytes memory ret) = _callRaw(DC1, data);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        if (!decodes) {
            vm.assertEq(ok, false, "refused as the decoder refuses");
            // Only the array's own head is the compiler's to refuse.
            bool head = mode == 4 || word < 2;
            vm.assertTrue(
                keccak256(ret) == keccak256(_err("malformed VC input")) || (head && ret.length == 0),
                "refused as malformed"
            );
            return;
        }
        string memory refusal = _expectedRefusal(vs);
        if (bytes(refusal).length != 0) {
            vm.assertEq(ok, false, "refused");
            vm.assertEq(ret, _err(refusal), refusal);
            return;
        }
        vm.assertTrue(ok, "accepted as the decoder accepts");
        vm.assertEq(logs.length, vs.length, "one event a VC");
        for (uint256 i = 0; i < vs.length; i++) {
            _checkRegistered(logs[i], vs[i], DC1);
        }
        vm.assertEq(fed.containerCount(), vs.length, "count");
    }

    function testFuzz_registerDatacenter_nameLength(uint256 len, uint256 seed) public {
        len = _bound(len, 0, MAX_TEXT);
        string memory name = _bytesOf(len, seed);
        vm.assume(fed.datacenterByName(keccak256(bytes(name))) == address(0));
        if (len == 0 || len > 64) vm.expectRevert(_err("name must be 1 to 64 bytes"));
        _registerDatacenter(OUTSIDER, name);
        (string memory got, bool registered) = fed.datacenter(OUTSIDER);
        vm.assertEq(registered, len >= 1 && len <= 64, "registered iff 1 to 64 bytes");
        vm.assertEq(got, registered ? name : "", "name");
    }

    /// Only the target, and only at the agreed price and invoice, completes
    /// a migration.
    function testFuzz_migrateContainer_onlyAgreedTerms(
        uint256 price,
        uint256 invoice,
        uint256 offeredPrice,
        uint256 offeredInvoice,
        uint8 callerSeed,
        bool sameTerms
    ) public {
        bytes32 tag = _registerSimple(DC1, "vm-1");
        vm.prank(DC1);
        fed.migrationPending(tag, DC2, price, invoice, T0);
        if (sameTerms) (offeredPrice, offeredInvoice) = (price, invoice);
        address[4] memory callers = [DC2, DC1, DC3, OUTSIDER];
        address caller = callers[callerSeed % 4];
        bool agreed = offeredPrice == price && offeredInvoice == invoice;
        if (caller != DC2) {
            vm.expectRevert(_err("caller is not the migration target"));
        } else if (!agreed) {
            vm.expectRevert(_err("price or invoice does not match"));
        }
        vm.prank(caller);
        fed.migrateContainer(tag, "vm-2", "", "", offeredPrice, offeredInvoice, T0);
        bool moved = caller == DC2 && agreed;
        vm.assertEq(fed.container(tag).host, moved ? DC2 : DC1, "host");
        vm.assertEq(fed.pendingMigration(tag).to, moved ? address(0) : DC2, "intent");
    }
}
