// SPDX-License-Identifier: Apache-2.0
// One call of every Federation function with inputs as catena's agent sends
// them, for the gas table in docs/BENCHMARKS.md:
//   forge test --offline --use scripts/solc-front --match-contract FederationGasTest --gas-report
// Each test makes one call that changes state, on what setUp left: forge
// runs setUp and the test as separate transactions, so the test's call
// finds storage cold, as a transaction does. Each test also checks the
// call's effect, so a scenario that stopped doing its work fails instead of
// reporting a cheap no-op.
pragma solidity ^0.8.24;

import {Federation} from "../Federation.sol";
import {FederationBase} from "./FederationBase.sol";
import {vm} from "./Vm.sol";

contract FederationGasTest is FederationBase {
    bytes32 internal tag; // registered by DC1
    bytes32 internal moving; // registered by DC1, migration to DC2 pending

    function setUp() public override {
        super.setUp();
        tag = _register(DC1, _agentVc(0));
        moving = _register(DC1, _agentVc(1));
        vm.prank(DC1);
        fed.migrationPending(moving, DC2, 1 ether, 42, T0 + 1);
    }

    /// A VC as the agent registers an OpenStack VM: a UUID, an address, a
    /// controller URL.
    function _agentVc(uint256 i) internal pure returns (Federation.ContainerInput memory v) {
        v = _vc("openstack:vm", string.concat("3f2b8c1e-9a4d-4e7b-8c6f-", vm.toString(100000000000 + i)), T0);
        v.controller = "http://10.0.0.1:5000/v3";
    }

    function _batch(uint256 n) internal pure returns (Federation.ContainerInput[] memory vs) {
        vs = new Federation.ContainerInput[](n);
        for (uint256 i = 0; i < n; i++) {
            vs[i] = _agentVc(1000 + i);
        }
    }

    function test_gas_deploy() public {
        Federation consortium = new Federation(false);
        vm.assertEq(consortium.admin(), address(this), "deployed");
    }

    function test_gas_admitDatacenter() public {
        fed.admitDatacenter(OUTSIDER);
        vm.assertTrue(fed.admitted(OUTSIDER), "admitted");
    }

    function test_gas_registerDatacenter() public {
        _registerDatacenter(OUTSIDER, "dc-four");
        vm.assertEq(fed.datacenterCount(), 4, "registered");
    }

    function test_gas_registerContainer() public {
        _register(DC2, _agentVc(2));
        vm.assertEq(fed.containerCount(), 3, "registered");
    }

    /// registerContainers' row: min is this batch of 10, max the next one.
    function test_gas_registerContainers10() public {
        _registerBatch(DC2, _batch(10));
        vm.assertEq(fed.containerCount(), 12, "registered");
    }

    /// 200 VCs, the gateway's largest batch (API_MAX_BATCH).
    function test_gas_registerContainers200() public {
        _registerBatch(DC2, _batch(200));
        vm.assertEq(fed.containerCount(), 202, "registered");
    }

    function test_gas_changeAvailability() public {
        vm.prank(DC1);
        fed.changeAvailability(tag, false, T0 + 1);
        vm.assertEq(fed.container(tag).available, false, "changed");
    }

    function test_gas_migrationPending() public {
        vm.prank(DC1);
        fed.migrationPending(tag, DC2, 1 ether, 42, T0 + 1);
        vm.assertEq(fed.pendingMigration(tag).to, DC2, "pending");
    }

    function test_gas_migrateContainer() public {
        vm.prank(DC2);
        fed.migrateContainer(
            moving, "9d1c5a77-2b3e-4f60-a1d2-000000000001", "10.0.1.7", "http://10.0.1.1:5000/v3", 1 ether, 42, T0 + 2
        );
        vm.assertEq(fed.container(moving).host, DC2, "migrated");
    }

    function test_gas_retireContainer() public {
        vm.prank(DC1);
        fed.retireContainer(tag, T0 + 1);
        vm.assertTrue(fed.container(tag).retired, "retired");
    }

    function test_gas_views() public view {
        (, bool registered) = fed.datacenter(DC1);
        vm.assertTrue(registered, "datacenter");
        vm.assertEq(fed.container(tag).host, DC1, "container");
        vm.assertEq(fed.pendingMigration(moving).to, DC2, "pendingMigration");
        vm.assertEq(
            fed.vcTagOf("openstack:vm", "x", DC1, T0),
            keccak256(abi.encodePacked("openstack:vm", "x", DC1, T0)),
            "vcTagOf"
        );
        vm.assertEq(fed.datacenterByName(keccak256("dc-one")), DC1, "datacenterByName");
        vm.assertTrue(!fed.admitted(DC1), "admitted");
        vm.assertEq(fed.admin(), address(this), "admin");
        vm.assertTrue(fed.openRegistration(), "openRegistration");
        vm.assertEq(fed.datacenterCount(), 3, "datacenterCount");
        vm.assertEq(fed.containerCount(), 2, "containerCount");
    }
}
