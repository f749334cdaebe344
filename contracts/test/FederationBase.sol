// SPDX-License-Identifier: Apache-2.0
// What the Federation test suites share: a ledger with open registration
// and three registered DCs, VC inputs, and the ABI the tests compare the
// contract's hand-made calldata handling and events with.
pragma solidity ^0.8.24;

import {Federation} from "../Federation.sol";
import {vm} from "./Vm.sol";

abstract contract FederationBase {
    Federation internal fed;
    address internal constant DC1 = address(0xD1);
    address internal constant DC2 = address(0xD2);
    address internal constant DC3 = address(0xD3);
    address internal constant OUTSIDER = address(0xBAD);
    uint256 internal constant T0 = 1_700_000_000;

    function setUp() public virtual {
        vm.warp(T0);
        fed = new Federation(true);
        _registerDatacenter(DC1, "dc-one");
        _registerDatacenter(DC2, "dc-two");
        _registerDatacenter(DC3, "dc-three");
    }

    function _registerDatacenter(address wallet, string memory name) internal {
        vm.prank(wallet);
        fed.registerDatacenter(name);
    }

    /// A VC as a DC's agent registers it, available, 4 vCPU, 8 GiB, 80 GB.
    function _vc(string memory vcType, string memory id, uint256 created)
        internal
        pure
        returns (Federation.ContainerInput memory v)
    {
        v = Federation.ContainerInput(vcType, true, 4, 8192, 80, id, "10.0.0.1", "http://ctl:5000", created);
    }

    function _register(address dc, Federation.ContainerInput memory v) internal returns (bytes32) {
        vm.prank(dc);
        return fed.registerContainer(
            v.vcType, v.available, v.vcpu, v.vram, v.vdisk, v.id, v.ipAddress, v.controller, v.created
        );
    }

    function _registerBatch(address dc, Federation.ContainerInput[] memory vs) internal {
        vm.prank(dc);
        fed.registerContainers(vs);
    }

    /// Registers _vc("openstack:vm", id, T0) from dc.
    function _registerSimple(address dc, string memory id) internal returns (bytes32) {
        return _register(dc, _vc("openstack:vm", id, T0));
    }

    function _tagOf(Federation.ContainerInput memory v, address owner) internal view returns (bytes32) {
        return fed.vcTagOf(v.vcType, v.id, owner, v.created);
    }

    /// ContainerRegistered's non-indexed fields, as the ABI encodes them.
    function _eventData(Federation.ContainerInput memory v) internal pure returns (bytes memory) {
        return abi.encode(v.created, v.vcType, v.id, v.ipAddress, v.controller, v.vcpu, v.vram, v.vdisk, v.available);
    }

    /// The revert data of require(false, reason).
    function _err(string memory reason) internal pure returns (bytes memory) {
        return abi.encodeWithSignature("Error(string)", reason);
    }

    /// x mapped into [lo, hi], evenly enough for fuzz inputs.
    function _bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        return lo + x % (hi - lo + 1);
    }

    /// The next call, made by caller, must revert with reason.
    function _expectRefusal(address caller, string memory reason) internal {
        vm.prank(caller);
        vm.expectRevert(_err(reason));
    }

    /// `len` bytes drawn from `seed`: any byte value, not only text.
    function _bytesOf(uint256 len, uint256 seed) internal pure returns (string memory s) {
        bytes memory b = new bytes(len);
        for (uint256 i = 0; i < len; i++) {
            if (i % 32 == 0) seed = uint256(keccak256(abi.encode(seed, i)));
            b[i] = bytes1(uint8(seed >> (8 * (i % 32))));
        }
        s = string(b);
    }

    /// Sends raw calldata to the ledger as `from`; returns success and the
    /// revert data.
    function _callRaw(address from, bytes memory data) internal returns (bool ok, bytes memory ret) {
        vm.prank(from);
        (ok, ret) = address(fed).call(data);
    }

    /// Overwrites ABI word `word` (counted after the selector) of calldata.
    function _setWord(bytes memory data, uint256 word, uint256 value) internal pure {
        uint256 pos = 4 + 32 * word;
        require(pos + 32 <= data.length, "word past the calldata");
        assembly ("memory-safe") {
            mstore(add(add(data, 0x20), pos), value)
        }
    }

    function _word(bytes memory data, uint256 word) internal pure returns (uint256 value) {
        uint256 pos = 4 + 32 * word;
        require(pos + 32 <= data.length, "word past the calldata");
        assembly ("memory-safe") {
            value := mload(add(add(data, 0x20), pos))
        }
    }

    function _one(Federation.ContainerInput memory v) internal pure returns (Federation.ContainerInput[] memory vs) {
        vs = new Federation.ContainerInput[](1);
        vs[0] = v;
    }
}
