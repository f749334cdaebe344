// SPDX-License-Identifier: Apache-2.0
// What the orchestration test suites share (seed 002): a Registry with a
// CAN of three members (keys K1..K3, K1 the leader), a Cloud whose
// scheduler key signs reservations, two resources, and an Application of
// two services (back end, front end) instantiated from a signed
// reservation with a deposit.
pragma solidity ^0.8.24;

import {Registry} from "../Registry.sol";
import {Cloud} from "../Cloud.sol";
import {Application} from "../Application.sol";
import {vm} from "./Vm.sol";

abstract contract OrchestrationBase {
    Registry internal reg;
    Cloud internal cloud;
    Application internal app;

    uint256 internal constant K1 = 0xA11CE;
    uint256 internal constant K2 = 0xB0B;
    uint256 internal constant K3 = 0xCA401;
    uint256 internal constant K4 = 0xD00D;
    uint256 internal constant SCHEDULER_KEY = 0x5CED;
    address internal n1;
    address internal n2;
    address internal n3;
    address internal n4;

    address internal constant PROVIDER = address(0x9001);
    address internal constant CLIENT = address(0xC11E);
    address internal constant OWNER1 = address(0x0E1); // resource owners
    address internal constant OWNER2 = address(0x0E2);
    address internal constant ORC1 = address(0x0C1); // orchestrators
    address internal constant ORC2 = address(0x0C2);
    address internal constant OUTSIDER = address(0xBAD);

    // Wei per minute.
    uint256 internal constant NETWORK_PRICE = 600;
    uint256 internal constant ORC_PRICE = 1200;
    uint256 internal constant CLOUD_PRICE = 3000;
    uint256 internal constant RES1_PRICE = 6000;
    uint256 internal constant RES2_PRICE = 4200;
    bytes32 internal constant RES1 = keccak256("res-1");
    bytes32 internal constant RES2 = keccak256("res-2");
    bytes32 internal constant TOSCA = keccak256("ray-tracing.yaml");
    uint256 internal constant DEPOSIT = 10 ether;
    uint256 internal constant T0 = 1_700_000_000;

    function setUp() public virtual {
        vm.warp(T0);
        n1 = vm.addr(K1);
        n2 = vm.addr(K2);
        n3 = vm.addr(K3);
        n4 = vm.addr(K4);
        reg = new Registry(3, 10, NETWORK_PRICE, ORC_PRICE);
        _candidate(n1, "http://127.0.0.1:7001");
        _candidate(n2, "http://127.0.0.1:7002");
        _candidate(n3, "http://127.0.0.1:7003");
        _candidate(n4, "http://127.0.0.1:7004");
        reg.appointLeader(n1);
        vm.prank(n1);
        reg.registerPeer(n2);
        vm.prank(n1);
        reg.registerPeer(n3);

        vm.prank(PROVIDER);
        cloud = new Cloud(address(reg), vm.addr(SCHEDULER_KEY), CLOUD_PRICE, "http://sched", "http://plug");
        vm.prank(PROVIDER);
        reg.registerCloud(address(cloud));
        vm.prank(PROVIDER);
        cloud.registerResource(RES1, OWNER1, RES1_PRICE, "gpu node");
        vm.prank(PROVIDER);
        cloud.registerResource(RES2, OWNER2, RES2_PRICE, "web node");
        app = _instantiate(CLIENT, keccak256("salt-0"), DEPOSIT);
    }

    function _candidate(address n, string memory contact) internal {
        vm.prank(n);
        reg.registerCandidate(contact);
    }

    function _services() internal pure returns (string[] memory names, bytes32[] memory res) {
        names = new string[](2);
        names[0] = "backend";
        names[1] = "frontend";
        res = new bytes32[](2);
        res[0] = RES1;
        res[1] = RES2;
    }

    function _reservation(address client, bytes32 salt, uint256 expiry)
        internal
        pure
        returns (Cloud.Reservation memory)
    {
        return Cloud.Reservation(client, TOSCA, expiry, salt);
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _instantiate(address client, bytes32 salt, uint256 deposit) internal returns (Application) {
        (string[] memory names, bytes32[] memory res) = _services();
        Cloud.Reservation memory r = _reservation(client, salt, block.timestamp + 600);
        bytes memory sig = _sign(SCHEDULER_KEY, cloud.reservationDigest(r, names, res));
        vm.deal(client, deposit);
        vm.prank(client);
        return Application(cloud.instantiate{value: deposit}(r, names, res, sig, 3, 60));
    }

    /// The leader (n1 unless changed) adds a checkpoint at ms after T0.
    function _cp(Application.Kind kind, uint64 ms, uint32 svc, address orc) internal {
        uint256 idx = app.checkpointCount();
        vm.prank(reg.leader());
        app.addCheckpoint(idx, kind, uint64(T0) * 1000 + ms, svc, orc);
    }

    /// Accepts of (n, leader) signed by keys, in ascending signer order.
    function _accepts(uint256 n, address newLeader, uint256[] memory keys) internal view returns (bytes[] memory out) {
        uint256[] memory k = keys;
        for (uint256 i = 0; i < k.length; i++) {
            for (uint256 j = i + 1; j < k.length; j++) {
                if (vm.addr(k[j]) < vm.addr(k[i])) (k[i], k[j]) = (k[j], k[i]);
            }
        }
        out = new bytes[](k.length);
        bytes32 digest = reg.acceptDigest(n, newLeader);
        for (uint256 i = 0; i < k.length; i++) {
            out[i] = _sign(k[i], digest);
        }
    }

    function _keys(uint256 a, uint256 b) internal pure returns (uint256[] memory k) {
        k = new uint256[](2);
        k[0] = a;
        k[1] = b;
    }

    /// An independent computation of one interval's pay (Algorithm 6 with
    /// price * ms / 60000 per share), as the tests check it.
    function _share(uint256 price, uint256 ms) internal pure returns (uint256) {
        return price * ms / 60000;
    }
}
