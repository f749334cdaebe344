// SPDX-License-Identifier: MIT
// A small contract for the Ethereum core's integration tests: storage,
// an event with indexed static and dynamic parameters, and a revert.
pragma solidity ^0.8.24;

contract Probe {
    event Stored(address indexed who, string indexed tag, uint256 value, string note);

    uint256 public total;

    function store(string calldata tag, uint256 value, string calldata note) external {
        require(value != 13, "unlucky");
        total += value;
        emit Stored(msg.sender, tag, value, note);
    }
}
