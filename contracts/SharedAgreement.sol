// SPDX-License-Identifier: Apache-2.0
// Division of income and consensus decision of seed 004 (Table 4.2): the
// parties that enable a service (software, infrastructure, monitoring)
// share its income by agreed shares. The owner proposes the terms (price,
// parties, shares, quorum); each party votes on them once. The offer
// exists only once `quorum` parties have approved (division of income:
// quorum = every party; consensus decision: any quorum the owner states),
// and is rejected for good once too many have refused for the quorum to be
// reached. A user then accepts by paying exactly the price; the income is
// split by the shares, the remainder of the integer division (at most one
// wei per party) going to the parties in order, so no dust is lost. Pull
// payments.
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

contract SharedAgreement is ReentrancyGuard {
    enum State {
        VOTING,
        OFFERED,
        REJECTED,
        ACCEPTED
    }

    /// Every agreement contract emits it once, when offered, so that all
    /// of them can be listed by one topic (the gateway's /api/agreements).
    event AgreementCreated(address indexed provider);
    event Voted(address indexed party, bool yes);
    event Offered();
    event Rejected();
    event Accepted(address indexed user, uint256 price);
    event Withdrawn(address indexed payee, uint256 amount);

    error BadTerms();
    error NotParty();
    error AlreadyVoted();
    error WrongState(State state);
    error WrongDeposit(uint256 sent, uint256 price);
    error PartyCannotAccept();
    error NothingToWithdraw();
    error TransferFailed();

    address public immutable owner;
    uint256 public immutable price;
    uint256 public immutable quorum;
    uint256 public immutable totalShares;
    address[] private partyList;
    uint256[] private shareList;
    mapping(address => uint256) public partySlot; // index + 1
    mapping(address => bool) public voted;
    uint256 public yes;
    uint256 public no;
    State public state;
    address public user;
    mapping(address => uint256) public owed;

    constructor(uint256 price_, address[] memory parties_, uint256[] memory shares_, uint256 quorum_) {
        uint256 total;
        if (price_ == 0 || parties_.length == 0 || parties_.length != shares_.length) revert BadTerms();
        if (quorum_ == 0 || quorum_ > parties_.length) revert BadTerms();
        for (uint256 i = 0; i < parties_.length; i++) {
            if (parties_[i] == address(0) || shares_[i] == 0 || partySlot[parties_[i]] != 0) {
                revert BadTerms();
            }
            partySlot[parties_[i]] = i + 1;
            total += shares_[i];
        }
        owner = msg.sender;
        price = price_;
        quorum = quorum_;
        totalShares = total;
        partyList = parties_;
        shareList = shares_;
        emit AgreementCreated(msg.sender);
    }

    /// A party approves or refuses the terms, once.
    function vote(bool approve) external {
        if (state != State.VOTING) revert WrongState(state);
        if (partySlot[msg.sender] == 0) revert NotParty();
        if (voted[msg.sender]) revert AlreadyVoted();
        voted[msg.sender] = true;
        if (approve) yes++;
        else no++;
        emit Voted(msg.sender, approve);
        if (yes >= quorum) {
            state = State.OFFERED;
            emit Offered();
        } else if (partyList.length - no < quorum) {
            state = State.REJECTED;
            emit Rejected();
        }
    }

    /// The user signs by paying exactly the price; the income is split.
    function accept() external payable {
        if (state != State.OFFERED) revert WrongState(state);
        if (partySlot[msg.sender] != 0 || msg.sender == owner) revert PartyCannotAccept();
        if (msg.value != price) revert WrongDeposit(msg.value, price);
        state = State.ACCEPTED;
        user = msg.sender;
        uint256 n = partyList.length;
        uint256 given;
        for (uint256 i = 0; i < n; i++) {
            uint256 part = price * shareList[i] / totalShares;
            owed[partyList[i]] += part;
            given += part;
        }
        // The remainder (< n wei) one wei each, in order: nothing is lost.
        for (uint256 i = 0; given < price; i++) {
            owed[partyList[i]] += 1;
            given += 1;
        }
        emit Accepted(msg.sender, msg.value);
    }

    function withdraw() external nonReentrant {
        uint256 amount = owed[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        owed[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
        emit Withdrawn(msg.sender, amount);
    }

    function parties() external view returns (address[] memory, uint256[] memory) {
        return (partyList, shareList);
    }
}
