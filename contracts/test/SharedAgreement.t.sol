// SPDX-License-Identifier: Apache-2.0
// Tests of SharedAgreement (seed 004: division of income, consensus
// decision): the vote and its quorum, the split to the wei with no dust
// lost, who may act, and (fuzz) the parts always add up to the price.
pragma solidity ^0.8.24;

import {SharedAgreement} from "../SharedAgreement.sol";
import {vm} from "./Vm.sol";

contract SharedAgreementTest {
    address internal constant OWNER = address(0x0A);
    address internal constant SOFTWARE = address(0x5F);
    address internal constant INFRA = address(0x1F);
    address internal constant MONITOR = address(0x30);
    address internal constant USER = address(0xB0B);

    function _terms(uint256 price, uint256 quorum) internal returns (SharedAgreement s) {
        address[] memory p = new address[](3);
        uint256[] memory sh = new uint256[](3);
        (p[0], p[1], p[2]) = (SOFTWARE, INFRA, MONITOR);
        (sh[0], sh[1], sh[2]) = (50, 30, 20);
        vm.prank(OWNER);
        s = new SharedAgreement(price, p, sh, quorum);
    }

    function _vote(SharedAgreement s, address who, bool yes) internal {
        vm.prank(who);
        s.vote(yes);
    }

    function _accept(SharedAgreement s, uint256 value) internal {
        vm.deal(USER, value);
        vm.prank(USER);
        s.accept{value: value}();
    }

    /// Division of income: every party approves; 1001 wei split 50/30/20
    /// is 500/300/200 and one wei of remainder to the first party.
    function test_division_of_income() public {
        SharedAgreement s = _terms(1001, 3);
        _vote(s, SOFTWARE, true);
        _vote(s, INFRA, true);
        vm.assertEq(uint256(s.state()), uint256(SharedAgreement.State.VOTING), "two of three");
        vm.deal(USER, 1001);
        vm.prank(USER);
        vm.expectRevert(abi.encodeWithSelector(SharedAgreement.WrongState.selector, SharedAgreement.State.VOTING));
        s.accept{value: 1001}();
        _vote(s, MONITOR, true);
        vm.assertEq(uint256(s.state()), uint256(SharedAgreement.State.OFFERED), "offered");
        _accept(s, 1001);
        vm.assertEq(s.owed(SOFTWARE), 501, "50 % and the remainder");
        vm.assertEq(s.owed(INFRA), 300, "30 %");
        vm.assertEq(s.owed(MONITOR), 200, "20 %");
        vm.prank(INFRA);
        s.withdraw();
        vm.assertEq(INFRA.balance, 300, "withdrawn");
        vm.assertEq(address(s).balance, 701, "the others' still held");
    }

    /// Consensus decision: a quorum of two is enough; with two refusals a
    /// quorum of two cannot be reached and the offer is rejected.
    function test_consensus_decision() public {
        SharedAgreement s = _terms(100, 2);
        _vote(s, MONITOR, false);
        _vote(s, SOFTWARE, true);
        _vote(s, INFRA, true);
        vm.assertEq(uint256(s.state()), uint256(SharedAgreement.State.OFFERED), "passed");
        SharedAgreement r = _terms(100, 2);
        _vote(r, MONITOR, false);
        _vote(r, INFRA, false);
        vm.assertEq(uint256(r.state()), uint256(SharedAgreement.State.REJECTED), "rejected");
        vm.prank(SOFTWARE);
        vm.expectRevert(abi.encodeWithSelector(SharedAgreement.WrongState.selector, SharedAgreement.State.REJECTED));
        r.vote(true);
    }

    function test_bad_input_changes_nothing() public {
        address[] memory p = new address[](2);
        uint256[] memory sh = new uint256[](2);
        (p[0], p[1]) = (SOFTWARE, SOFTWARE);
        (sh[0], sh[1]) = (1, 1);
        vm.expectRevert(SharedAgreement.BadTerms.selector);
        new SharedAgreement(10, p, sh, 1); // a party twice
        p[1] = INFRA;
        sh[1] = 0;
        vm.expectRevert(SharedAgreement.BadTerms.selector);
        new SharedAgreement(10, p, sh, 1); // a zero share
        sh[1] = 1;
        vm.expectRevert(SharedAgreement.BadTerms.selector);
        new SharedAgreement(10, p, sh, 3); // a quorum above the parties
        SharedAgreement s = _terms(1000, 3);
        vm.prank(USER);
        vm.expectRevert(SharedAgreement.NotParty.selector);
        s.vote(true);
        _vote(s, SOFTWARE, true);
        vm.prank(SOFTWARE);
        vm.expectRevert(SharedAgreement.AlreadyVoted.selector);
        s.vote(true);
        _vote(s, INFRA, true);
        _vote(s, MONITOR, true);
        vm.deal(USER, 2000);
        vm.prank(USER);
        vm.expectRevert(abi.encodeWithSelector(SharedAgreement.WrongDeposit.selector, 999, 1000));
        s.accept{value: 999}();
        vm.deal(INFRA, 1000);
        vm.prank(INFRA);
        vm.expectRevert(SharedAgreement.PartyCannotAccept.selector);
        s.accept{value: 1000}();
        _accept(s, 1000);
        vm.deal(USER, 1000);
        vm.prank(USER);
        vm.expectRevert(abi.encodeWithSelector(SharedAgreement.WrongState.selector, SharedAgreement.State.ACCEPTED));
        s.accept{value: 1000}();
        vm.prank(USER);
        vm.expectRevert(SharedAgreement.NothingToWithdraw.selector);
        s.withdraw();
    }

    /// Any price and shares: the parts add up to the price, each part is
    /// its share's floor or one wei more.
    function testFuzz_no_dust(uint96 price, uint16 a, uint16 b, uint16 c) public {
        vm.assume(price > 0 && a > 0 && b > 0 && c > 0);
        address[] memory p = new address[](3);
        uint256[] memory sh = new uint256[](3);
        (p[0], p[1], p[2]) = (SOFTWARE, INFRA, MONITOR);
        (sh[0], sh[1], sh[2]) = (a, b, c);
        SharedAgreement s = new SharedAgreement(price, p, sh, 1);
        _vote(s, INFRA, true);
        _accept(s, price);
        uint256 total = uint256(a) + b + c;
        vm.assertEq(s.owed(SOFTWARE) + s.owed(INFRA) + s.owed(MONITOR), price, "no dust lost");
        for (uint256 i = 0; i < 3; i++) {
            uint256 floor_ = uint256(price) * sh[i] / total;
            vm.assertLe(floor_, s.owed(p[i]), "at least the floor");
            vm.assertLe(s.owed(p[i]), floor_ + 1, "at most one wei more");
        }
    }
}

contract SharedHandler {
    address internal constant USER = address(0xB0B);
    SharedAgreement public s;
    address[3] internal who;
    uint256 public deposited;
    uint256 public withdrawnTotal;

    constructor() {
        address[] memory p = new address[](3);
        uint256[] memory sh = new uint256[](3);
        (p[0], p[1], p[2]) = (address(0x5F), address(0x1F), address(0x30));
        (sh[0], sh[1], sh[2]) = (7, 11, 13);
        who = [p[0], p[1], p[2]];
        s = new SharedAgreement(1_000_003, p, sh, 2);
    }

    function vote(uint8 i, bool yes) external {
        address v = who[i % 3];
        if (s.state() != SharedAgreement.State.VOTING || s.voted(v)) return;
        vm.prank(v);
        s.vote(yes);
    }

    function accept() external {
        if (s.state() != SharedAgreement.State.OFFERED) return;
        vm.deal(USER, 1_000_003);
        vm.prank(USER);
        s.accept{value: 1_000_003}();
        deposited += 1_000_003;
    }

    function withdraw(uint8 i) external {
        address v = who[i % 3];
        if (s.owed(v) == 0) return;
        uint256 before = v.balance;
        vm.prank(v);
        s.withdraw();
        withdrawnTotal += v.balance - before;
    }

    function owedTotal() external view returns (uint256) {
        return s.owed(who[0]) + s.owed(who[1]) + s.owed(who[2]);
    }
}

contract SharedInvariantTest {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    SharedHandler internal handler;

    function setUp() public {
        handler = new SharedHandler();
    }

    function targetContracts() public view returns (address[] memory list) {
        list = new address[](1);
        list[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory list) {
        bytes4[] memory actions = new bytes4[](3);
        actions[0] = SharedHandler.vote.selector;
        actions[1] = SharedHandler.accept.selector;
        actions[2] = SharedHandler.withdraw.selector;
        list = new FuzzSelector[](1);
        list[0] = FuzzSelector(address(handler), actions);
    }

    /// Withdrawals + held = deposits, and what is held is what is owed.
    function invariant_money_is_conserved() public view {
        SharedAgreement s = handler.s();
        vm.assertEq(handler.withdrawnTotal() + address(s).balance, handler.deposited(), "conserved");
        vm.assertEq(handler.owedTotal(), address(s).balance, "held = owed");
    }
}
