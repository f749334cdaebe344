// SPDX-License-Identifier: Apache-2.0
// Tests of Agreement (seed 004: fixed price, dynamic price with
// Algorithm 6.1's lock and pro-rata unlocking, flexible period with a
// minimum charge): money to the wei from block timestamps, who may act,
// nothing settled twice, and (fuzz, invariant) charge + refund = deposit
// and withdrawals never exceed what was settled.
pragma solidity ^0.8.24;

import {Agreement} from "../Agreement.sol";
import {Federation} from "../Federation.sol";
import {vm} from "./Vm.sol";

contract AgreementBase {
    address internal constant PROVIDER = address(0xA11CE);
    address internal constant USER = address(0xB0B);
    address internal constant OTHER = address(0xC4A2);
    uint256 internal constant T0 = 1_700_000_000;

    receive() external payable {}

    function _offer(Agreement.Kind kind, uint256 price, uint256 maxSeconds, uint256 minimum)
        internal
        returns (Agreement a)
    {
        vm.warp(T0);
        vm.prank(PROVIDER);
        a = new Agreement(kind, price, maxSeconds, minimum, Federation(address(0)), 0, new string[](0), new string[](0));
    }

    function _accept(Agreement a) internal {
        uint256 p = a.price(); // read first: a prank applies to the next call
        vm.deal(USER, p);
        vm.prank(USER);
        a.accept{value: p}();
    }
}

contract AgreementTest is AgreementBase {
    function test_fixed_price_charges_everything() public {
        Agreement a = _offer(Agreement.Kind.FIXED, 3600 ether, 3600, 0);
        _accept(a);
        vm.warp(T0 + 60);
        vm.prank(USER);
        a.stop();
        vm.assertEq(a.charged(), 3600 ether, "fixed: the whole price");
        vm.assertEq(a.refunded(), 0, "nothing back");
        vm.assertEq(a.secondsUsed(), 60, "used");
    }

    /// Figure 6.1: one hour offered, 20 minutes used, two thirds back.
    function test_dynamic_price_refunds_pro_rata() public {
        Agreement a = _offer(Agreement.Kind.DYNAMIC, 3600 ether, 3600, 0);
        _accept(a);
        vm.assertEq(uint256(a.state()), uint256(Agreement.State.ACTIVE), "active");
        vm.assertEq(address(a).balance, 3600 ether, "locked");
        vm.warp(T0 + 1200);
        vm.prank(USER);
        a.stop();
        vm.assertEq(a.charged(), 1200 ether, "20 minutes");
        vm.assertEq(a.refunded(), 2400 ether, "40 minutes back");
        vm.prank(PROVIDER);
        a.withdraw();
        vm.prank(USER);
        a.withdraw();
        vm.assertEq(PROVIDER.balance, 1200 ether, "provider paid");
        vm.assertEq(USER.balance, 2400 ether, "user refunded");
        vm.assertEq(address(a).balance, 0, "nothing left");
    }

    function test_dynamic_price_ends_at_the_maximum() public {
        Agreement a = _offer(Agreement.Kind.DYNAMIC, 1000, 600, 0);
        _accept(a);
        vm.warp(T0 + 599);
        vm.expectRevert(abi.encodeWithSelector(Agreement.StillRunning.selector, T0 + 600));
        a.settle();
        vm.warp(T0 + 5000);
        vm.prank(OTHER); // the keeper
        a.settle();
        vm.assertEq(a.charged(), 1000, "the whole period");
        vm.assertEq(a.secondsUsed(), 600, "capped at the maximum");
        // A user who stops late pays the maximum, not more.
        Agreement b = _offer(Agreement.Kind.DYNAMIC, 1000, 600, 0);
        _accept(b);
        vm.warp(T0 + 10_000);
        vm.prank(USER);
        b.stop();
        vm.assertEq(b.charged(), 1000, "capped");
    }

    function test_flexible_period_minimum_charge() public {
        Agreement a = _offer(Agreement.Kind.FLEXIBLE, 3600, 3600, 500);
        _accept(a);
        vm.warp(T0 + 100);
        vm.prank(USER);
        a.stop();
        vm.assertEq(a.charged(), 500, "the minimum for keeping it ready");
        Agreement b = _offer(Agreement.Kind.FLEXIBLE, 3600, 3600, 500);
        _accept(b);
        vm.warp(T0 + 1800);
        vm.prank(USER);
        b.stop();
        vm.assertEq(b.charged(), 1800, "above the minimum: pro rata");
    }

    function test_bad_terms_and_deposits() public {
        vm.expectRevert(Agreement.BadTerms.selector);
        new Agreement(Agreement.Kind.DYNAMIC, 0, 10, 0, Federation(address(0)), 0, new string[](0), new string[](0));
        vm.expectRevert(Agreement.BadTerms.selector);
        new Agreement(Agreement.Kind.FLEXIBLE, 10, 10, 11, Federation(address(0)), 0, new string[](0), new string[](0));
        vm.expectRevert(Agreement.BadTerms.selector);
        new Agreement(Agreement.Kind.FIXED, 10, 10, 1, Federation(address(0)), 0, new string[](0), new string[](0));
        vm.expectRevert(Agreement.BadTerms.selector); // an SLA without a ledger
        new Agreement(Agreement.Kind.FIXED, 10, 10, 0, Federation(address(0)), 75, new string[](0), new string[](0));
        vm.expectRevert(Agreement.BadTerms.selector); // above 100 %
        new Agreement(Agreement.Kind.FIXED, 10, 10, 0, Federation(address(0xF)), 101, new string[](0), new string[](0));
        vm.expectRevert(Agreement.BadTerms.selector); // a ledger without an SLA
        new Agreement(Agreement.Kind.FIXED, 10, 10, 0, Federation(address(0xF)), 0, new string[](0), new string[](0));
        Agreement a = _offer(Agreement.Kind.DYNAMIC, 1000, 600, 0);
        vm.deal(USER, 5000);
        vm.prank(USER);
        vm.expectRevert(abi.encodeWithSelector(Agreement.WrongDeposit.selector, 999, 1000));
        a.accept{value: 999}();
        vm.prank(USER);
        vm.expectRevert(abi.encodeWithSelector(Agreement.WrongDeposit.selector, 1001, 1000));
        a.accept{value: 1001}();
        vm.deal(PROVIDER, 1000);
        vm.prank(PROVIDER);
        vm.expectRevert(Agreement.ProviderCannotAccept.selector);
        a.accept{value: 1000}();
        vm.assertEq(uint256(a.state()), uint256(Agreement.State.OFFERED), "unchanged");
    }

    function test_only_the_user_stops_and_nothing_settles_twice() public {
        Agreement a = _offer(Agreement.Kind.DYNAMIC, 1000, 600, 0);
        vm.expectRevert(abi.encodeWithSelector(Agreement.WrongState.selector, Agreement.State.OFFERED));
        a.settle();
        _accept(a);
        vm.deal(OTHER, 1000);
        vm.prank(OTHER);
        vm.expectRevert(abi.encodeWithSelector(Agreement.WrongState.selector, Agreement.State.ACTIVE));
        a.accept{value: 1000}();
        vm.prank(OTHER);
        vm.expectRevert(Agreement.NotUser.selector);
        a.stop();
        vm.prank(PROVIDER);
        vm.expectRevert(Agreement.NotUser.selector);
        a.stop();
        vm.warp(T0 + 300);
        vm.prank(USER);
        a.stop();
        vm.prank(USER);
        vm.expectRevert(abi.encodeWithSelector(Agreement.WrongState.selector, Agreement.State.SETTLED));
        a.stop();
        vm.warp(T0 + 10_000);
        vm.expectRevert(abi.encodeWithSelector(Agreement.WrongState.selector, Agreement.State.SETTLED));
        a.settle();
        vm.prank(USER);
        a.withdraw();
        vm.prank(USER);
        vm.expectRevert(Agreement.NothingToWithdraw.selector);
        a.withdraw();
        vm.prank(OTHER);
        vm.expectRevert(Agreement.NothingToWithdraw.selector);
        a.withdraw();
    }

    /// Any price, period and use: charge + refund is the deposit, the
    /// charge is the pro-rata floor (at least the minimum when flexible).
    function testFuzz_charge_plus_refund_is_the_deposit(
        uint8 kindSeed,
        uint128 price,
        uint32 maxSeconds,
        uint32 used,
        uint128 minimumSeed
    ) public {
        vm.assume(price > 0 && maxSeconds > 0);
        Agreement.Kind kind = Agreement.Kind(kindSeed % 3);
        uint256 minimum = kind == Agreement.Kind.FLEXIBLE ? uint256(minimumSeed) % (uint256(price) + 1) : 0;
        Agreement a = _offer(kind, price, maxSeconds, minimum);
        _accept(a);
        vm.warp(T0 + uint256(used));
        if (used >= maxSeconds) {
            a.settle();
        } else {
            vm.prank(USER);
            a.stop();
        }
        uint256 u = used < maxSeconds ? used : maxSeconds;
        uint256 want = kind == Agreement.Kind.FIXED ? price : uint256(price) * u / maxSeconds;
        if (kind == Agreement.Kind.FLEXIBLE && want < minimum) want = minimum;
        vm.assertEq(a.charged(), want, "charge");
        vm.assertEq(a.charged() + a.refunded(), price, "charge + refund = deposit");
        vm.assertEq(a.owed(PROVIDER) + a.owed(USER), address(a).balance, "owed = held");
    }
}

/// The invariant run's actions on one agreement.
contract AgreementHandler is AgreementBase {
    Agreement public a;
    uint256 public deposited;
    uint256 public withdrawnTotal;
    uint256 public settlements;

    constructor(Agreement a_) {
        a = a_;
    }

    function accept() external {
        if (a.state() != Agreement.State.OFFERED) return;
        _accept(a);
        deposited += a.price();
    }

    function wait(uint32 s) external {
        vm.warp(block.timestamp + (s % 7200));
    }

    function stop() external {
        if (a.state() != Agreement.State.ACTIVE) return;
        vm.prank(USER);
        a.stop();
        settlements++;
    }

    function settle() external {
        if (a.state() != Agreement.State.ACTIVE || block.timestamp < a.endsAt()) return;
        a.settle();
        settlements++;
    }

    function withdraw(bool provider) external {
        address who = provider ? PROVIDER : USER;
        uint256 amount = a.owed(who);
        if (amount == 0) return;
        uint256 before = who.balance;
        vm.prank(who);
        a.withdraw();
        withdrawnTotal += who.balance - before;
    }
}

/// The SLA refund (seed 004 section 6) from a real Federation ledger's
/// availability record of the serving VC.
contract AgreementSlaTest is AgreementBase {
    address internal constant DC = address(0xD1);
    Federation internal fed;
    bytes32 internal tag;

    function setUp() public {
        vm.warp(T0 - 100);
        fed = new Federation(true);
        vm.prank(DC);
        fed.registerDatacenter("dc-one");
        vm.prank(DC);
        tag = fed.registerContainer("session", true, 1, 64, 1, "s-1", "127.0.0.1", "http://c", T0);
    }

    function _slaOffer(uint256 price, uint256 maxSeconds) internal returns (Agreement a) {
        vm.warp(T0);
        vm.prank(PROVIDER);
        a = new Agreement(Agreement.Kind.DYNAMIC, price, maxSeconds, 0, fed, 75, new string[](0), new string[](0));
    }

    function _bind(Agreement a) internal {
        vm.prank(PROVIDER);
        a.bindService(tag, "http://127.0.0.1:9/s");
    }

    function _down(bool down) internal {
        vm.prank(DC);
        fed.changeAvailability(tag, !down, 0);
    }

    function test_available_session_is_charged() public {
        Agreement a = _slaOffer(1000, 1000);
        _accept(a);
        _bind(a);
        vm.warp(T0 + 100);
        _down(true);
        vm.warp(T0 + 124); // down 24 of 100 s: 76 % up
        _down(false);
        vm.warp(T0 + 200);
        vm.assertEq(a.availabilityPercent(), 88, "176 of 200 s up");
        vm.prank(USER);
        a.stop();
        vm.assertEq(a.charged(), 200, "SLA met: pro rata");
        vm.assertEq(a.refunded(), 800, "the rest back");
    }

    function test_unavailable_session_refunds_everything() public {
        Agreement a = _slaOffer(1000, 1000);
        _accept(a);
        _bind(a);
        vm.warp(T0 + 10);
        _down(true);
        vm.warp(T0 + 36); // 26 of 100 s down: 74 % < 75 %
        _down(false);
        vm.warp(T0 + 100);
        vm.assertEq(a.availabilityPercent(), 74, "74 %");
        vm.prank(USER);
        a.stop();
        vm.assertEq(a.charged(), 0, "breached: nothing charged");
        vm.assertEq(a.refunded(), 1000, "everything back");
        vm.prank(USER);
        a.withdraw();
        vm.assertEq(USER.balance, 1000, "refunded");
        vm.assertEq(address(a).balance, 0, "nothing left");
    }

    /// Downtime after the session's end does not count; the keeper settles
    /// late with the same result.
    function test_keeper_settles_by_the_record_at_the_end() public {
        Agreement a = _slaOffer(600, 100);
        _accept(a);
        _bind(a);
        vm.warp(T0 + 90);
        _down(true); // down the last 10 of 100 s: 90 %
        vm.warp(T0 + 500);
        a.settle();
        vm.assertEq(a.charged(), 600, "SLA met");
        vm.assertEq(a.availabilityPercent(), 90, "measured to the end");
    }

    function test_never_bound_is_refunded() public {
        Agreement a = _slaOffer(600, 100);
        _accept(a);
        vm.warp(T0 + 50);
        vm.prank(USER);
        a.stop();
        vm.assertEq(a.refunded(), 600, "nothing delivered");
    }

    function test_binding_rules() public {
        Agreement a = _slaOffer(600, 100);
        vm.prank(PROVIDER);
        vm.expectRevert(abi.encodeWithSelector(Agreement.WrongState.selector, Agreement.State.OFFERED));
        a.bindService(tag, "u");
        _accept(a);
        vm.prank(USER);
        vm.expectRevert(Agreement.NotProvider.selector);
        a.bindService(tag, "u");
        vm.prank(PROVIDER);
        vm.expectRevert(abi.encodeWithSelector(Agreement.VcUnavailable.selector, bytes32(uint256(1))));
        a.bindService(bytes32(uint256(1)), "u");
        _down(true);
        vm.prank(PROVIDER);
        vm.expectRevert(abi.encodeWithSelector(Agreement.VcUnavailable.selector, tag));
        a.bindService(tag, "u");
        _down(false);
        _bind(a);
        vm.prank(PROVIDER);
        vm.expectRevert(Agreement.AlreadyBound.selector);
        a.bindService(tag, "u");
        vm.assertEq(a.vcTag(), tag, "bound");
        Agreement b = _offer(Agreement.Kind.DYNAMIC, 600, 100, 0);
        _accept(b);
        vm.prank(PROVIDER);
        vm.expectRevert(Agreement.NoSla.selector);
        b.bindService(tag, "u");
    }

    function _constrained(string[] memory keys, string[] memory values) internal returns (Agreement a) {
        vm.warp(T0);
        vm.prank(PROVIDER);
        a = new Agreement(Agreement.Kind.DYNAMIC, 600, 100, 0, fed, 75, keys, values);
    }

    /// gdpr=true and region in {eu-west, eu-central}: bound only on a DC
    /// whose declared attributes satisfy both.
    function test_constraints_are_checked_at_binding() public {
        string[] memory keys = new string[](3);
        string[] memory values = new string[](3);
        (keys[0], values[0]) = ("gdpr", "true");
        (keys[1], values[1]) = ("region", "eu-west");
        (keys[2], values[2]) = ("region", "eu-central");
        Agreement a = _constrained(keys, values);
        vm.assertTrue(!a.satisfiedBy(DC), "no attributes yet");
        string[] memory k = new string[](2);
        string[] memory v = new string[](2);
        (k[0], v[0]) = ("region", "eu-central");
        (k[1], v[1]) = ("gdpr", "false");
        vm.prank(DC);
        fed.setDatacenterAttributes(k, v);
        vm.assertTrue(!a.satisfiedBy(DC), "gdpr=false");
        _accept(a);
        vm.prank(PROVIDER);
        vm.expectRevert(abi.encodeWithSelector(Agreement.ConstraintsNotMet.selector, DC));
        a.bindService(tag, "u");
        v[1] = "true";
        vm.prank(DC);
        fed.setDatacenterAttributes(k, v);
        vm.assertTrue(a.satisfiedBy(DC), "both met");
        _bind(a);
        (string[] memory ck,) = a.constraints();
        vm.assertEq(ck.length, 3, "the terms");
        v[0] = "us-east";
        vm.prank(DC);
        fed.setDatacenterAttributes(k, v);
        vm.assertTrue(!a.satisfiedBy(DC), "region not allowed");
    }

    function test_constraints_need_a_ledger() public {
        string[] memory keys = new string[](1);
        string[] memory values = new string[](1);
        (keys[0], values[0]) = ("gdpr", "true");
        vm.expectRevert(Agreement.BadTerms.selector);
        new Agreement(Agreement.Kind.DYNAMIC, 10, 10, 0, Federation(address(0)), 0, keys, values);
        keys[0] = "";
        vm.expectRevert(Agreement.BadTerms.selector);
        new Agreement(Agreement.Kind.DYNAMIC, 10, 10, 0, fed, 75, keys, values);
    }

    /// Any pattern of outages: refunded in full exactly when the measured
    /// availability is below 75 %, and charge + refund = price.
    function testFuzz_sla(uint32 seed, uint16 bindDelay, uint16 stopAt) public {
        Agreement a = _slaOffer(1 ether, 1000);
        _accept(a);
        uint256 bindAt = T0 + bindDelay % 100;
        vm.warp(bindAt);
        _bind(a);
        uint256 end = bindAt + 1 + stopAt % 900;
        uint256 t = bindAt;
        uint256 down;
        bool isDown;
        uint256 r = seed;
        while (t < end) {
            r = uint256(keccak256(abi.encode(r)));
            uint256 step = 1 + r % 50;
            if (t + step > end) step = end - t;
            t += step;
            if (isDown) down += step;
            vm.warp(t);
            if (t < end && r % 3 == 0) {
                isDown = !isDown;
                _down(isDown);
            }
        }
        vm.prank(USER);
        a.stop();
        uint256 window = end - bindAt;
        bool met = (window - down) * 100 >= 75 * window;
        vm.assertEq(a.charged() == 0, !met, "refunded exactly on a breach");
        vm.assertEq(a.charged() + a.refunded(), 1 ether, "charge + refund = price");
    }
}

contract AgreementInvariantTest is AgreementBase {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    AgreementHandler internal handler;

    function setUp() public {
        handler = new AgreementHandler(_offer(Agreement.Kind.FLEXIBLE, 1 ether, 3600, 0.1 ether));
    }

    function targetContracts() public view returns (address[] memory list) {
        list = new address[](1);
        list[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory list) {
        bytes4[] memory actions = new bytes4[](5);
        actions[0] = AgreementHandler.accept.selector;
        actions[1] = AgreementHandler.wait.selector;
        actions[2] = AgreementHandler.stop.selector;
        actions[3] = AgreementHandler.settle.selector;
        actions[4] = AgreementHandler.withdraw.selector;
        list = new FuzzSelector[](1);
        list[0] = FuzzSelector(address(handler), actions);
    }

    /// Withdrawals + what is still held = deposits.
    function invariant_money_is_conserved() public view {
        Agreement a = handler.a();
        vm.assertEq(handler.withdrawnTotal() + address(a).balance, handler.deposited(), "conserved");
    }

    /// Settled at most once; once settled, what is held is exactly what
    /// is owed.
    function invariant_settled_once() public view {
        Agreement a = handler.a();
        vm.assertLe(handler.settlements(), 1, "settled once");
        if (a.state() == Agreement.State.SETTLED) {
            vm.assertEq(a.owed(PROVIDER) + a.owed(USER), address(a).balance, "owed = held");
            vm.assertEq(a.charged() + a.refunded(), a.price(), "charge + refund = price");
        }
    }
}

/// The handler with the SLA's moves: the provider binds the serving VC, its
/// DC marks it down or up.
contract AgreementSlaHandler is AgreementHandler {
    Federation public fed;
    bytes32 public tag;
    address internal constant DC = address(0xD1);

    constructor(Agreement a_, Federation fed_, bytes32 tag_) AgreementHandler(a_) {
        fed = fed_;
        tag = tag_;
    }

    function bind() external {
        if (a.state() != Agreement.State.ACTIVE || a.boundAt() != 0 || block.timestamp >= a.endsAt()) {
            return;
        }
        if (!fed.container(tag).available) return;
        vm.prank(PROVIDER);
        a.bindService(tag, "http://127.0.0.1:9/s");
    }

    function toggle() external {
        bool up = fed.container(tag).available;
        vm.prank(DC);
        fed.changeAvailability(tag, !up, 0);
    }
}

contract AgreementSlaInvariantTest is AgreementBase {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    AgreementSlaHandler internal handler;

    function setUp() public {
        address dc = address(0xD1);
        vm.warp(T0 - 100);
        Federation fed = new Federation(true);
        vm.prank(dc);
        fed.registerDatacenter("dc-one");
        vm.prank(dc);
        bytes32 tag = fed.registerContainer("session", true, 1, 64, 1, "s-1", "127.0.0.1", "http://c", T0);
        vm.warp(T0);
        vm.prank(PROVIDER);
        Agreement a = new Agreement(Agreement.Kind.DYNAMIC, 1 ether, 3600, 0, fed, 75, new string[](0), new string[](0));
        handler = new AgreementSlaHandler(a, fed, tag);
    }

    function targetContracts() public view returns (address[] memory list) {
        list = new address[](1);
        list[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory list) {
        bytes4[] memory actions = new bytes4[](7);
        actions[0] = AgreementHandler.accept.selector;
        actions[1] = AgreementHandler.wait.selector;
        actions[2] = AgreementHandler.stop.selector;
        actions[3] = AgreementHandler.settle.selector;
        actions[4] = AgreementHandler.withdraw.selector;
        actions[5] = AgreementSlaHandler.bind.selector;
        actions[6] = AgreementSlaHandler.toggle.selector;
        list = new FuzzSelector[](1);
        list[0] = FuzzSelector(address(handler), actions);
    }

    /// Withdrawals + what is still held = deposits, whatever the outages.
    function invariant_money_is_conserved() public view {
        Agreement a = handler.a();
        vm.assertEq(handler.withdrawnTotal() + address(a).balance, handler.deposited(), "conserved");
    }

    /// Settled once; then charge + refund = price, and something was
    /// charged only if the SLA held over the session, exactly the terms'
    /// charge then.
    function invariant_sla_decides_the_charge() public view {
        Agreement a = handler.a();
        vm.assertLe(handler.settlements(), 1, "settled once");
        if (a.state() != Agreement.State.SETTLED) return;
        vm.assertEq(a.charged() + a.refunded(), a.price(), "charge + refund = price");
        vm.assertEq(a.owed(PROVIDER) + a.owed(USER), address(a).balance, "owed = held");
        if (a.slaMet(a.endedAt())) {
            vm.assertEq(a.charged(), a.chargeFor(a.endedAt() - a.startedAt()), "the terms' charge");
        } else {
            vm.assertEq(a.charged(), 0, "breached: nothing charged");
        }
    }
}
