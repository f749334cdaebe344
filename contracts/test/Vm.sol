// SPDX-License-Identifier: Apache-2.0
// The forge cheatcodes the contract tests use, declared as forge 1.7
// defines them (no forge-std: npm has no current release of it). forge
// answers calls to the address below; failed assertions revert.
pragma solidity ^0.8.24;

interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    // Callers, time and fuzz inputs.
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function warp(uint256 newTimestamp) external;
    function assume(bool condition) external pure;
    function deal(address account, uint256 newBalance) external;

    // Keys and signatures.
    function addr(uint256 privateKey) external pure returns (address keyAddr);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);

    // Expectations on the next call.
    function expectRevert() external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter) external;

    // Logs, storage and state.
    function recordLogs() external;
    function getRecordedLogs() external view returns (Log[] memory logs);
    function record() external;
    function accesses(address target) external view returns (bytes32[] memory readSlots, bytes32[] memory writeSlots);
    function load(address target, bytes32 slot) external view returns (bytes32 data);
    function store(address target, bytes32 slot, bytes32 value) external;
    function snapshotState() external returns (uint256 snapshotId);
    function revertToState(uint256 snapshotId) external returns (bool success);

    // Assertions.
    function assertEq(uint256 left, uint256 right, string calldata err) external pure;
    function assertEq(address left, address right, string calldata err) external pure;
    function assertEq(bytes32 left, bytes32 right, string calldata err) external pure;
    function assertEq(bool left, bool right, string calldata err) external pure;
    function assertEq(string calldata left, string calldata right, string calldata err) external pure;
    function assertEq(bytes calldata left, bytes calldata right, string calldata err) external pure;
    function assertTrue(bool condition, string calldata err) external pure;
    function assertLe(uint256 left, uint256 right, string calldata err) external pure;
    function toString(uint256 value) external pure returns (string memory);
}

Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
