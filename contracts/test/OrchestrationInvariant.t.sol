// SPDX-License-Identifier: Apache-2.0
// Invariant and fuzz tests of the Application's payments (seed 002,
// Algorithms 5 and 6) and of leader election. forge calls the handler's
// actions in random order; the handler keeps its own model of what each
// payee earned, computed interval by interval from the checkpoints it
// added, and the invariants compare the contract with it: salaries paid
// plus the refund never exceed the deposit, no payee withdraws more than
// it earned, and no checkpoint is paid twice.
pragma solidity ^0.8.24;

import {Registry} from "../Registry.sol";
import {Application} from "../Application.sol";
import {OrchestrationBase} from "./OrchestrationBase.sol";
import {vm} from "./Vm.sol";

contract PaymentHandler is OrchestrationBase {
    struct Cp {
        Application.Kind kind;
        uint64 ts;
        uint32 svc;
        address orc;
    }

    uint256 private constant NONE = type(uint256).max;

    Cp[] internal cps;
    uint256 internal modelPaid; // checkpoints the model has paid
    uint256[2] internal modelStart = [NONE, NONE];
    mapping(address => uint256) public earned;
    mapping(address => uint256) public withdrawn;
    uint256 public deposited;
    uint256 public refund;
    uint64 internal lastTs;
    address[6] internal payees;

    constructor(Registry r, Application a, uint256 deposit) {
        reg = r;
        app = a;
        deposited = deposit;
        lastTs = uint64(block.timestamp) * 1000;
        payees = [OWNER1, OWNER2, PROVIDER, ORC1, ORC2, address(r)];
    }

    function payeeList() external view returns (address[6] memory) {
        return payees;
    }

    // ------------------------------------------------------------ actions

    function addCheckpoint(uint256 kindSeed, uint256 svcSeed, uint256 orcSeed, uint256 gap) external {
        if (app.shutdown()) return;
        uint256 k = uint256(keccak256(abi.encode(kindSeed))) % 16;
        Application.Kind kind = k == 0
            ? Application.Kind.APP_SHUTDOWN
            : Application.Kind(k % 3); // SERVICE_UP, SERVICE_DOWN, APP_OK
        uint32 svc = uint32(svcSeed % 2);
        address orc = orcSeed % 2 == 0 ? ORC1 : ORC2;
        uint64 ts = lastTs + uint64(gap % 300_000);
        if (ts / 1000 > block.timestamp) vm.warp(ts / 1000);
        uint256 idx = app.checkpointCount();
        vm.prank(reg.leader());
        app.addCheckpoint(idx, kind, ts, svc, orc);
        cps.push(Cp(kind, ts, kind <= Application.Kind.SERVICE_DOWN ? svc : type(uint32).max, orc));
        lastTs = ts;
    }

    function pay(uint256 kSeed) external {
        uint256 before = app.paidCount();
        uint256 steps = app.interimPayment(1 + kSeed % 5);
        _replay(before, before + steps);
    }

    function withdraw(uint256 seed) external {
        address p = payees[seed % 5];
        uint256 amount = app.salary(p);
        if (amount == 0) return;
        uint256 was = p.balance;
        vm.prank(p);
        app.withdraw();
        withdrawn[p] += p.balance - was;
    }

    function collect() external {
        uint256 amount = app.salary(address(reg));
        if (amount == 0) return;
        uint256 was = address(reg).balance;
        reg.collect(address(app));
        withdrawn[address(reg)] += address(reg).balance - was;
    }

    function topUp(uint256 amount) external {
        if (app.closed()) return;
        amount = amount % 200_000;
        vm.deal(address(this), amount);
        app.deposit{value: amount}();
        deposited += amount;
    }

    function closeApp() external {
        if (!app.shutdown() || app.closed()) return;
        uint256 before = app.paidCount();
        uint256 was = CLIENT.balance;
        vm.prank(CLIENT);
        app.close();
        refund += CLIENT.balance - was;
        _replay(before, app.paidCount());
    }

    // ------------------------------------------------------------ the model

    /// Pays checkpoints from..to-1 in the model and checks the contract
    /// paid exactly those: each must be affordable, and the next one (when
    /// the call stopped short of its k) must not have been.
    function _replay(uint256 from, uint256 to) internal {
        if (from != modelPaid) revert("paid count moved outside the model");
        for (uint256 i = from; i < to; i++) {
            Cp storage c = cps[i];
            if (c.kind == Application.Kind.SERVICE_UP) {
                modelStart[c.svc] = i;
            } else if (c.kind == Application.Kind.SERVICE_DOWN) {
                if (modelStart[c.svc] != NONE) _earn(c.svc, cps[modelStart[c.svc]], c);
                modelStart[c.svc] = NONE;
            } else {
                for (uint32 s = 0; s < 2; s++) {
                    if (modelStart[s] != NONE) _earn(s, cps[modelStart[s]], c);
                    modelStart[s] = c.kind == Application.Kind.APP_SHUTDOWN ? NONE : i;
                }
            }
        }
        modelPaid = to;
    }

    function _earn(uint32 s, Cp storage a, Cp storage b) internal {
        uint256 ms = b.ts - a.ts;
        earned[s == 0 ? OWNER1 : OWNER2] += _share(s == 0 ? RES1_PRICE : RES2_PRICE, ms);
        earned[PROVIDER] += _share(CLOUD_PRICE, ms);
        earned[address(reg)] += _share(NETWORK_PRICE, ms);
        uint256 orc = _share(ORC_PRICE, ms);
        if (a.orc == b.orc) {
            earned[b.orc] += orc;
        } else {
            earned[a.orc] += orc / 2;
            earned[b.orc] += orc / 2;
        }
    }

    function checkpointCount() external view returns (uint256) {
        return cps.length;
    }
}

contract PaymentInvariantTest is OrchestrationBase {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    uint256 internal constant SMALL_DEPOSIT = 400_000; // runs out within a few hours of service
    PaymentHandler internal handler;

    function setUp() public override {
        super.setUp();
        // The base's application is shut down; the one under test has a
        // deposit small enough to run out.
        _cp(Application.Kind.APP_SHUTDOWN, 0, 0, ORC1);
        app = _instantiate(CLIENT, keccak256("salt-1"), SMALL_DEPOSIT);
        handler = new PaymentHandler(reg, app, SMALL_DEPOSIT);
    }

    function targetContracts() public view returns (address[] memory list) {
        list = new address[](1);
        list[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory list) {
        bytes4[] memory actions = new bytes4[](6);
        actions[0] = PaymentHandler.addCheckpoint.selector;
        actions[1] = PaymentHandler.pay.selector;
        actions[2] = PaymentHandler.withdraw.selector;
        actions[3] = PaymentHandler.collect.selector;
        actions[4] = PaymentHandler.topUp.selector;
        actions[5] = PaymentHandler.closeApp.selector;
        list = new FuzzSelector[](1);
        list[0] = FuzzSelector(address(handler), actions);
    }

    /// Every payee's salary plus what it withdrew is what the model says
    /// it earned: nothing paid twice, nothing withdrawn beyond it.
    function invariant_salariesMatchModel() public view {
        address[6] memory p = handler.payeeList();
        uint256 owed;
        for (uint256 i = 0; i < p.length; i++) {
            vm.assertEq(app.salary(p[i]) + handler.withdrawn(p[i]), handler.earned(p[i]), "earned");
            vm.assertLe(handler.withdrawn(p[i]), handler.earned(p[i]), "withdrew more than earned");
            owed += app.salary(p[i]);
        }
        vm.assertEq(app.locked(), owed, "locked = unwithdrawn salaries");
    }

    /// Salaries and the refund never exceed the deposits, and every wei is
    /// somewhere: in the contract, withdrawn, or refunded.
    function invariant_depositCovers() public view {
        address[6] memory p = handler.payeeList();
        uint256 earnedAll;
        uint256 withdrawnAll;
        for (uint256 i = 0; i < p.length; i++) {
            earnedAll += handler.earned(p[i]);
            withdrawnAll += handler.withdrawn(p[i]);
        }
        vm.assertLe(earnedAll + handler.refund(), handler.deposited(), "paid beyond the deposit");
        vm.assertEq(address(app).balance + withdrawnAll + handler.refund(), handler.deposited(), "wei lost");
    }

    function invariant_paidCountBounded() public view {
        vm.assertLe(app.paidCount(), app.checkpointCount(), "paid beyond the checkpoints");
        vm.assertEq(app.checkpointCount(), handler.checkpointCount(), "checkpoints");
    }
}

contract OrchestrationFuzzTest is OrchestrationBase {
    /// registerLeader succeeds exactly when a strict majority of the four
    /// members signed.
    function testFuzz_leaderNeedsStrictMajority(uint8 mask) public {
        vm.prank(n1);
        reg.registerPeer(n4);
        uint256[4] memory all = [K1, K2, K3, K4];
        uint256 count;
        for (uint256 i = 0; i < 4; i++) {
            if (mask & (1 << i) != 0) count++;
        }
        uint256[] memory keys = new uint256[](count);
        uint256 j;
        for (uint256 i = 0; i < 4; i++) {
            if (mask & (1 << i) != 0) keys[j++] = all[i];
        }
        bytes[] memory acc = _accepts(1, n2, keys);
        vm.prank(n2);
        if (count * 2 > 4) {
            reg.registerLeader(1, acc);
            vm.assertEq(reg.leader(), n2, "elected");
        } else {
            vm.expectRevert(abi.encodeWithSelector(Registry.NoMajority.selector, count, 4));
            reg.registerLeader(1, acc);
        }
    }

    /// Paying checkpoints in parts of any size leaves the same salaries as
    /// paying them in one call.
    function testFuzz_paymentInPartsEqualsAtOnce(uint256 seed, uint8 part) public {
        uint64 ts = uint64(T0) * 1000;
        for (uint256 i = 0; i < 12; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            ts += uint64(r % 200_000);
            vm.warp(ts / 1000 + 1);
            Application.Kind kind = Application.Kind(r % 3);
            uint256 idx = app.checkpointCount();
            vm.prank(n1);
            app.addCheckpoint(idx, kind, ts, uint32((r >> 8) % 2), (r >> 16) % 2 == 0 ? ORC1 : ORC2);
        }
        uint256 snap = vm.snapshotState();
        app.interimPayment(100);
        uint256[5] memory once = _salaries();
        vm.revertToState(snap);
        uint256 k = 1 + part % 4;
        for (uint256 i = 0; i < 12; i++) {
            app.interimPayment(k);
        }
        uint256[5] memory parts = _salaries();
        for (uint256 i = 0; i < 5; i++) {
            vm.assertEq(parts[i], once[i], "salary");
        }
        vm.assertEq(app.paidCount(), 12, "all paid");
    }

    function _salaries() internal view returns (uint256[5] memory s) {
        s = [app.salary(OWNER1), app.salary(OWNER2), app.salary(PROVIDER), app.salary(ORC1), app.salary(ORC2)];
    }
}
