// SPDX-License-Identifier: MIT
// A small contract for the Ethereum core's integration tests: storage,
// an event with indexed static and dynamic parameters, a revert, and a
// call whose gas depends on its argument (fill).
pragma solidity ^0.8.24;

contract Probe {
    event Stored(address indexed who, string indexed tag, uint256 value, string note);

    uint256 public total;
    mapping(uint256 => uint256) public filled;
    uint256 public fills;

    function store(string calldata tag, uint256 value, string calldata note) external {
        require(value != 13, "unlucky");
        total += value;
        emit Stored(msg.sender, tag, value, note);
    }

    /// Writes n fresh storage slots: calls of one shape, far apart in gas.
    function fill(uint256 n) external {
        for (uint256 i = 0; i < n; i++)
            filled[fills++] = 1;
    }
}
