// SPDX-License-Identifier: Apache-2.0
// Tests of PrepaidAgreement (seed 004, time-limited usage): sessions
// charged to the wei from block timestamps, running out of minutes, who
// may act, and (fuzz, invariant) what is held is always the credit plus
// what is owed, and withdrawals + held = what was bought.
pragma solidity ^0.8.24;

import {PrepaidAgreement} from "../PrepaidAgreement.sol";
import {vm} from "./Vm.sol";

contract PrepaidBase {
    address internal constant PROVIDER = address(0xA11CE);
    address internal constant USER = address(0xB0B);
    address internal constant OTHER = address(0xC4A2);
    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant PPM = 600; // wei a minute: 10 wei a second

    function _offer() internal returns (PrepaidAgreement p) {
        vm.warp(T0);
        vm.prank(PROVIDER);
        p = new PrepaidAgreement(PPM);
    }

    function _buy(PrepaidAgreement p, uint256 minutes_) internal {
        vm.deal(USER, USER.balance + minutes_ * PPM);
        vm.prank(USER);
        p.buy{value: minutes_ * PPM}();
    }

    function _session(PrepaidAgreement p, uint256 secs) internal {
        vm.prank(USER);
        p.start();
        vm.warp(block.timestamp + secs);
        vm.prank(USER);
        p.stop();
    }
}

contract PrepaidAgreementTest is PrepaidBase {
    function test_sessions_are_charged_by_the_second() public {
        PrepaidAgreement p = _offer();
        _buy(p, 10); // 6000 wei
        _session(p, 90);
        vm.assertEq(p.charged(), 900, "90 s");
        vm.warp(block.timestamp + 1000); // between sessions: free
        _session(p, 30);
        vm.assertEq(p.charged(), 1200, "and 30 s");
        vm.assertEq(p.credit(), 4800, "the rest stays the user's");
        vm.assertEq(p.sessions(), 2, "two sessions");
        vm.assertEq(p.secondsUsed(), 120, "two minutes");
        vm.prank(USER);
        p.refund();
        vm.prank(USER);
        p.withdraw();
        vm.prank(PROVIDER);
        p.withdraw();
        vm.assertEq(USER.balance, 4800, "refunded");
        vm.assertEq(PROVIDER.balance, 1200, "paid");
    }

    function test_a_session_ends_when_the_minutes_run_out() public {
        PrepaidAgreement p = _offer();
        _buy(p, 1);
        vm.prank(USER);
        p.start();
        vm.assertEq(p.sessionEndsAt(), T0 + 60, "a minute");
        vm.warp(T0 + 59);
        vm.expectRevert(abi.encodeWithSelector(PrepaidAgreement.StillRunning.selector, T0 + 60));
        p.close();
        vm.warp(T0 + 500);
        vm.prank(OTHER); // the keeper
        p.close();
        vm.assertEq(p.charged(), 600, "one minute, not more");
        vm.assertEq(p.credit(), 0, "nothing left");
        vm.prank(USER);
        vm.expectRevert(PrepaidAgreement.NoMinutesLeft.selector);
        p.start();
        _buy(p, 2); // more minutes, more sessions
        _session(p, 6);
        vm.assertEq(p.charged(), 660, "and 6 s");
    }

    function test_bad_input_changes_nothing() public {
        vm.expectRevert(PrepaidAgreement.BadTerms.selector);
        new PrepaidAgreement(0);
        PrepaidAgreement p = _offer();
        vm.deal(USER, 10_000);
        vm.prank(USER);
        vm.expectRevert(abi.encodeWithSelector(PrepaidAgreement.WrongAmount.selector, 601, PPM));
        p.buy{value: 601}();
        vm.prank(USER);
        vm.expectRevert(abi.encodeWithSelector(PrepaidAgreement.WrongAmount.selector, 0, PPM));
        p.buy{value: 0}();
        vm.deal(PROVIDER, 600);
        vm.prank(PROVIDER);
        vm.expectRevert(PrepaidAgreement.NotUser.selector);
        p.buy{value: 600}();
        vm.prank(USER);
        vm.expectRevert(PrepaidAgreement.NotUser.selector);
        p.start(); // no user yet
        _buy(p, 1);
        vm.deal(OTHER, 600);
        vm.prank(OTHER);
        vm.expectRevert(PrepaidAgreement.NotUser.selector);
        p.buy{value: 600}();
        vm.prank(OTHER);
        vm.expectRevert(PrepaidAgreement.NotUser.selector);
        p.start();
        vm.prank(USER);
        vm.expectRevert(PrepaidAgreement.NoSession.selector);
        p.stop();
        vm.prank(USER);
        p.start();
        vm.prank(USER);
        vm.expectRevert(PrepaidAgreement.SessionRunning.selector);
        p.start();
        vm.prank(USER);
        vm.expectRevert(PrepaidAgreement.SessionRunning.selector);
        p.refund();
        vm.assertEq(p.credit(), 600, "unchanged");
    }

    /// Any purchase and sessions: charges never exceed what was bought,
    /// and held = credit + owed.
    function testFuzz_held_is_credit_plus_owed(uint8 minutes_, uint16 a, uint16 b, uint16 gap) public {
        vm.assume(minutes_ > 0);
        PrepaidAgreement p = _offer();
        _buy(p, minutes_);
        uint16[2] memory lens = [a, b];
        for (uint256 i = 0; i < 2; i++) {
            if (p.credit() * 60 < PPM) break;
            vm.prank(USER);
            p.start();
            vm.warp(block.timestamp + lens[i]);
            if (block.timestamp >= p.sessionEndsAt()) {
                p.close();
            } else {
                vm.prank(USER);
                p.stop();
            }
            vm.warp(block.timestamp + gap);
        }
        uint256 bought = uint256(minutes_) * PPM;
        vm.assertLe(p.charged(), bought, "charged <= bought");
        vm.assertEq(p.charged() + p.credit(), bought, "charged + credit = bought");
        vm.assertEq(p.owed(PROVIDER), p.charged(), "owed to the provider");
        vm.assertEq(address(p).balance, p.credit() + p.owed(PROVIDER) + p.owed(USER), "held");
    }
}

contract PrepaidHandler is PrepaidBase {
    PrepaidAgreement public p;
    uint256 public bought;
    uint256 public withdrawnTotal;

    constructor(PrepaidAgreement p_) {
        p = p_;
    }

    function buy(uint8 m) external {
        uint256 minutes_ = m % 5 + 1;
        _buy(p, minutes_);
        bought += minutes_ * PPM;
    }

    function wait(uint16 s) external {
        vm.warp(block.timestamp + s % 400);
    }

    function start() external {
        if (p.user() == address(0) || p.sessionStart() != 0 || p.credit() * 60 < PPM) return;
        vm.prank(USER);
        p.start();
    }

    function stop() external {
        if (p.sessionStart() == 0) return;
        vm.prank(USER);
        p.stop();
    }

    function close() external {
        if (p.sessionStart() == 0 || block.timestamp < p.sessionEndsAt()) return;
        p.close();
    }

    function refund() external {
        if (p.user() == address(0) || p.sessionStart() != 0) return;
        vm.prank(USER);
        p.refund();
    }

    function withdraw(bool provider) external {
        address who = provider ? PROVIDER : USER;
        if (p.owed(who) == 0) return;
        uint256 before = who.balance;
        vm.prank(who);
        p.withdraw();
        withdrawnTotal += who.balance - before;
    }
}

contract PrepaidInvariantTest is PrepaidBase {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    PrepaidHandler internal handler;

    function setUp() public {
        handler = new PrepaidHandler(_offer());
    }

    function targetContracts() public view returns (address[] memory list) {
        list = new address[](1);
        list[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory list) {
        bytes4[] memory actions = new bytes4[](7);
        actions[0] = PrepaidHandler.buy.selector;
        actions[1] = PrepaidHandler.wait.selector;
        actions[2] = PrepaidHandler.start.selector;
        actions[3] = PrepaidHandler.stop.selector;
        actions[4] = PrepaidHandler.close.selector;
        actions[5] = PrepaidHandler.refund.selector;
        actions[6] = PrepaidHandler.withdraw.selector;
        list = new FuzzSelector[](1);
        list[0] = FuzzSelector(address(handler), actions);
    }

    function invariant_money_is_conserved() public view {
        PrepaidAgreement p = handler.p();
        vm.assertEq(handler.withdrawnTotal() + address(p).balance, handler.bought(), "conserved");
        vm.assertEq(
            address(p).balance, p.credit() + p.owed(PROVIDER) + p.owed(USER), "held = credit + owed"
        );
    }
}
