// SPDX-License-Identifier: Apache-2.0
// Gas of the orchestration contracts' hot paths for docs/BENCHMARKS.md:
// one checkpoint of each kind, and interimPayment(k) over a steady run of
// a two-service application (APP_OK every minute) as a function of k, with
// the largest k that fits a 30M-gas block. Printed with -vv:
//   forge test --offline --use scripts/solc-front --match-contract OrchestrationGasTest -vv
pragma solidity ^0.8.24;

import {Application} from "../Application.sol";
import {OrchestrationBase} from "./OrchestrationBase.sol";
import {vm} from "./Vm.sol";

contract OrchestrationGasTest is OrchestrationBase {
    event log_named_uint(string key, uint256 val);

    uint256 internal constant BLOCK_GAS = 30_000_000;

    function _fill(uint256 n) internal {
        _cp(Application.Kind.SERVICE_UP, 0, 0, ORC1);
        _cp(Application.Kind.SERVICE_UP, 1000, 1, ORC1);
        vm.warp(T0 + n * 60 + 120);
        for (uint256 i = 0; i < n; i++) {
            _cp(Application.Kind.APP_OK, uint64(60_000 * (i + 1)), 0, i % 2 == 0 ? ORC1 : ORC2);
        }
    }

    function test_gas_checkpoints() public {
        vm.warp(T0 + 600);
        uint256[4] memory gas;
        Application.Kind[4] memory kinds = [
            Application.Kind.SERVICE_UP,
            Application.Kind.SERVICE_DOWN,
            Application.Kind.APP_OK,
            Application.Kind.APP_SHUTDOWN
        ];
        address leader = reg.leader();
        for (uint256 i = 0; i < 4; i++) {
            vm.prank(leader);
            uint256 g = gasleft();
            app.addCheckpoint(i, kinds[i], uint64(T0) * 1000 + uint64(i) * 1000, 0, ORC1);
            gas[i] = g - gasleft();
        }
        emit log_named_uint("addCheckpoint SERVICE_UP", gas[0]);
        emit log_named_uint("addCheckpoint SERVICE_DOWN", gas[1]);
        emit log_named_uint("addCheckpoint APP_OK", gas[2]);
        emit log_named_uint("addCheckpoint APP_SHUTDOWN (releases 2 resources)", gas[3]);
    }

    function test_gas_interim_payment_by_k() public {
        _fill(400);
        uint256[6] memory ks = [uint256(1), 10, 50, 100, 200, 400];
        uint256 snap = vm.snapshotState();
        uint256 g1;
        uint256 g400;
        for (uint256 i = 0; i < ks.length; i++) {
            vm.revertToState(snap);
            // The two SERVICE_UPs are paid first, so k counts APP_OKs.
            app.interimPayment(2);
            uint256 g = gasleft();
            uint256 steps = app.interimPayment(ks[i]);
            g = g - gasleft();
            vm.assertEq(steps, ks[i], "steps");
            emit log_named_uint(string.concat("interimPayment k=", vm.toString(ks[i])), g);
            if (ks[i] == 1) g1 = g;
            if (ks[i] == 400) g400 = g;
        }
        uint256 perCheckpoint = (g400 - g1) / 399;
        uint256 kmax = (BLOCK_GAS - 21000 - (g1 - perCheckpoint)) / perCheckpoint;
        emit log_named_uint("gas per APP_OK paid (2 services)", perCheckpoint);
        emit log_named_uint("largest k in a 30M block", kmax);
    }
}
