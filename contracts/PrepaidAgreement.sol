// SPDX-License-Identifier: Apache-2.0
// Time-limited usage of seed 004 (Table 4.2: set price by owner, sign
// agreement, then n sessions started and stopped): the provider offers a
// price per minute; the user buys minutes (pays a whole number of them),
// then starts and stops sessions any number of times. Each session is
// charged price * seconds / 60 (floor) when it ends, at most what is left;
// a session that outlasts the minutes left ends when they run out (then
// anyone may close it: the keeper). What remains stays the user's and can
// be taken back whenever no session runs. Pull payments.
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

contract PrepaidAgreement is ReentrancyGuard {
    /// Every agreement contract emits it once, when offered, so that all
    /// of them can be listed by one topic (the gateway's /api/agreements).
    event AgreementCreated(address indexed provider);
    event Bought(address indexed user, uint256 amount, uint256 credit);
    event SessionStarted(uint256 indexed session, uint256 at);
    event SessionEnded(uint256 indexed session, uint256 seconds_, uint256 charge);
    event Withdrawn(address indexed payee, uint256 amount);

    error BadTerms();
    error WrongAmount(uint256 sent, uint256 pricePerMinute);
    error NotUser();
    error NoMinutesLeft();
    error SessionRunning();
    error NoSession();
    error StillRunning(uint256 endsAt);
    error NothingToWithdraw();
    error TransferFailed();

    address public immutable provider;
    uint256 public immutable pricePerMinute;

    address public user; // the first buyer
    uint256 public credit; // bought and not yet charged
    uint256 public sessionStart; // 0: no session runs
    uint256 public sessions; // ended so far
    uint256 public secondsUsed;
    uint256 public charged;
    mapping(address => uint256) public owed;

    constructor(uint256 pricePerMinute_) {
        if (pricePerMinute_ == 0) revert BadTerms();
        provider = msg.sender;
        pricePerMinute = pricePerMinute_;
        emit AgreementCreated(msg.sender);
    }

    /// The user buys whole minutes (the first buyer becomes the user).
    function buy() external payable {
        if (user == address(0)) {
            if (msg.sender == provider) revert NotUser();
            user = msg.sender;
        } else if (msg.sender != user) {
            revert NotUser();
        }
        if (msg.value == 0 || msg.value % pricePerMinute != 0) {
            revert WrongAmount(msg.value, pricePerMinute);
        }
        credit += msg.value;
        emit Bought(msg.sender, msg.value, credit);
    }

    function start() external {
        if (msg.sender != user) revert NotUser();
        if (sessionStart != 0) revert SessionRunning();
        if (credit * 60 < pricePerMinute) revert NoMinutesLeft(); // less than a second left
        sessionStart = block.timestamp;
        emit SessionStarted(sessions, block.timestamp);
    }

    /// When the running session has used up the credit.
    function sessionEndsAt() public view returns (uint256) {
        if (sessionStart == 0) revert NoSession();
        return sessionStart + credit * 60 / pricePerMinute;
    }

    function stop() external {
        if (msg.sender != user) revert NotUser();
        if (sessionStart == 0) revert NoSession();
        uint256 end = sessionEndsAt();
        _end(block.timestamp < end ? block.timestamp : end);
    }

    /// Anyone ends a session whose minutes have run out.
    function close() external {
        uint256 end = sessionEndsAt();
        if (block.timestamp < end) revert StillRunning(end);
        _end(end);
    }

    function _end(uint256 end) private {
        uint256 secs = end - sessionStart;
        uint256 cost = pricePerMinute * secs / 60;
        if (cost > credit) cost = credit;
        sessionStart = 0;
        credit -= cost;
        charged += cost;
        secondsUsed += secs;
        owed[provider] += cost;
        emit SessionEnded(sessions, secs, cost);
        sessions++;
    }

    /// The user takes back what is left while no session runs.
    function refund() external {
        if (msg.sender != user) revert NotUser();
        if (sessionStart != 0) revert SessionRunning();
        owed[user] += credit;
        credit = 0;
    }

    function withdraw() external nonReentrant {
        uint256 amount = owed[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        owed[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
        emit Withdrawn(msg.sender, amount);
    }
}
