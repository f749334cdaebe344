// SPDX-License-Identifier: Apache-2.0
// Unit tests of Registry, Cloud and Application (seed 002): every function
// and revert reason, and the payment of Figure 5.1's scenario checked
// against an independent computation from the checkpoint timestamps.
pragma solidity ^0.8.24;

import {Registry} from "../Registry.sol";
import {Cloud} from "../Cloud.sol";
import {Application} from "../Application.sol";
import {OrchestrationBase} from "./OrchestrationBase.sol";
import {vm} from "./Vm.sol";

contract RegistryTest is OrchestrationBase {
    function test_setup_members_and_leader() public view {
        vm.assertEq(reg.leader(), n1, "leader");
        vm.assertEq(reg.leaderNonce(), 0, "nonce");
        vm.assertEq(reg.memberCount(), 3, "members");
        vm.assertEq(reg.leaderContact(), "http://127.0.0.1:7001", "contact");
        vm.assertTrue(reg.nodeInfo(n4).candidate && !reg.nodeInfo(n4).member, "n4 candidate only");
        vm.assertEq(reg.membershipIntervals(n2).length, 1, "one interval");
        vm.assertEq(reg.membershipIntervals(n2)[0].start, T0, "interval start");
    }

    function test_configure() public {
        reg.configureCan(2, 5, 7, 8);
        vm.assertEq(reg.nmin(), 2, "nmin");
        vm.assertEq(reg.nmax(), 5, "nmax");
        vm.assertEq(reg.networkPrice(), 7, "network price");
        vm.assertEq(reg.orchestratorPrice(), 8, "orchestrator price");
        vm.expectRevert(Registry.BadConfig.selector);
        reg.configureCan(0, 5, 1, 1);
        vm.expectRevert(Registry.BadConfig.selector);
        reg.configureCan(6, 5, 1, 1);
        vm.prank(OUTSIDER);
        vm.expectRevert(Registry.NotOwner.selector);
        reg.configureCan(1, 5, 1, 1);
    }

    function test_candidate_needs_contact() public {
        vm.prank(OUTSIDER);
        vm.expectRevert(Registry.EmptyContact.selector);
        reg.registerCandidate("");
    }

    function test_appoint_leader_once_by_owner() public {
        vm.expectRevert(Registry.LeaderAlreadySet.selector);
        reg.appointLeader(n4);
        Registry fresh = new Registry(1, 3, 1, 1);
        vm.expectRevert(abi.encodeWithSelector(Registry.NotCandidate.selector, n4));
        fresh.appointLeader(n4);
        vm.prank(OUTSIDER);
        vm.expectRevert(Registry.NotOwner.selector);
        fresh.appointLeader(n4);
    }

    function test_register_peer_rules() public {
        vm.prank(n2);
        vm.expectRevert(Registry.NotLeader.selector);
        reg.registerPeer(n4);
        vm.prank(n1);
        vm.expectRevert(abi.encodeWithSelector(Registry.NotCandidate.selector, OUTSIDER));
        reg.registerPeer(OUTSIDER);
        vm.prank(n1);
        vm.expectRevert(abi.encodeWithSelector(Registry.AlreadyMember.selector, n2));
        reg.registerPeer(n2);
        reg.configureCan(1, 3, NETWORK_PRICE, ORC_PRICE);
        vm.prank(n1);
        vm.expectRevert(Registry.NetworkFull.selector);
        reg.registerPeer(n4);
    }

    function test_deregister_peer_closes_interval() public {
        vm.warp(T0 + 100);
        vm.prank(n1);
        reg.deregisterPeer(n3);
        vm.assertEq(reg.memberCount(), 2, "members");
        vm.assertEq(reg.membershipIntervals(n3)[0].end, T0 + 100, "interval end");
        vm.prank(n1);
        vm.expectRevert(abi.encodeWithSelector(Registry.NotMember.selector, n3));
        reg.deregisterPeer(n3);
        vm.prank(n1);
        vm.expectRevert(abi.encodeWithSelector(Registry.NotMember.selector, n1));
        reg.deregisterPeer(n1);
        // It may join again: a second interval.
        vm.warp(T0 + 200);
        vm.prank(n1);
        reg.registerPeer(n3);
        vm.assertEq(reg.membershipIntervals(n3).length, 2, "two intervals");
    }

    function test_register_leader_with_majority() public {
        vm.warp(T0 + 50);
        bytes[] memory acc = _accepts(1, n2, _keys(K2, K3));
        vm.prank(n2);
        reg.registerLeader(1, acc);
        vm.assertEq(reg.leader(), n2, "new leader");
        vm.assertEq(reg.leaderNonce(), 1, "nonce");
        vm.assertTrue(!reg.nodeInfo(n1).member, "old leader left");
        vm.assertEq(reg.membershipIntervals(n1)[0].end, T0 + 50, "old leader's interval closed");
        vm.assertEq(reg.memberCount(), 2, "members");
    }

    function test_register_leader_rejects_stale_nonce() public {
        bytes[] memory acc = _accepts(2, n2, _keys(K2, K3));
        vm.prank(n2);
        vm.expectRevert(abi.encodeWithSelector(Registry.StaleNonce.selector, 2, 1));
        reg.registerLeader(2, acc);
        acc = _accepts(0, n2, _keys(K2, K3));
        vm.prank(n2);
        vm.expectRevert(abi.encodeWithSelector(Registry.StaleNonce.selector, 0, 1));
        reg.registerLeader(0, acc);
    }

    function test_register_leader_rejects_duplicates() public {
        bytes[] memory one = _accepts(1, n2, _keys(K2, K3));
        bytes[] memory acc = new bytes[](2);
        acc[0] = one[0];
        acc[1] = one[0];
        address signer = vm.addr(K2) < vm.addr(K3) ? vm.addr(K2) : vm.addr(K3);
        vm.prank(n2);
        vm.expectRevert(abi.encodeWithSelector(Registry.UnsortedOrDuplicateSigner.selector, signer));
        reg.registerLeader(1, acc);
    }

    function test_register_leader_rejects_non_members_and_minorities() public {
        // K4 is a candidate, not a member.
        bytes[] memory acc = _accepts(1, n2, _keys(K2, K4));
        vm.prank(n2);
        vm.expectRevert(abi.encodeWithSelector(Registry.NotMember.selector, n4));
        reg.registerLeader(1, acc);
        // One member of three is no majority.
        uint256[] memory k = new uint256[](1);
        k[0] = K2;
        acc = _accepts(1, n2, k);
        vm.prank(n2);
        vm.expectRevert(abi.encodeWithSelector(Registry.NoMajority.selector, 1, 3));
        reg.registerLeader(1, acc);
        // A non-member cannot be elected.
        acc = _accepts(1, n4, _keys(K2, K3));
        vm.prank(n4);
        vm.expectRevert(abi.encodeWithSelector(Registry.NotMember.selector, n4));
        reg.registerLeader(1, acc);
    }

    function test_register_leader_rejects_forged_accepts() public {
        // Accepts signed for n3 do not elect n2: they recover to other keys.
        bytes[] memory acc = _accepts(1, n3, _keys(K2, K3));
        vm.prank(n2);
        vm.expectRevert();
        reg.registerLeader(1, acc);
        vm.assertEq(reg.leader(), n1, "leader unchanged");
        vm.assertEq(reg.leaderNonce(), 0, "nonce unchanged");
    }

    function test_two_proposers_one_wins() public {
        bytes[] memory for2 = _accepts(1, n2, _keys(K2, K3));
        bytes[] memory for3 = _accepts(1, n3, _keys(K2, K3));
        vm.prank(n3);
        reg.registerLeader(1, for3);
        vm.prank(n2);
        vm.expectRevert(abi.encodeWithSelector(Registry.StaleNonce.selector, 1, 2));
        reg.registerLeader(1, for2);
        vm.assertEq(reg.leader(), n3, "first proposer won");
    }

    function test_register_cloud_checks_provider() public {
        vm.prank(PROVIDER);
        Cloud other = new Cloud(address(reg), address(1), 1, "", "");
        vm.prank(OUTSIDER);
        vm.expectRevert(Registry.BadCloud.selector);
        reg.registerCloud(address(other));
        vm.prank(PROVIDER);
        vm.expectRevert(Registry.BadCloud.selector);
        reg.registerCloud(address(cloud)); // already registered
        vm.prank(PROVIDER);
        vm.expectRevert(Registry.BadCloud.selector);
        reg.registerCloud(OUTSIDER); // no code
        vm.assertEq(reg.cloudList().length, 1, "one cloud");
    }

    function test_register_application() public {
        vm.prank(CLIENT);
        uint256 id = reg.registerApplication(TOSCA, "file:///apps/ray.yaml");
        vm.assertEq(id, 0, "first id");
        vm.assertEq(reg.application(0).owner, CLIENT, "owner");
        vm.assertEq(reg.application(0).toscaHash, TOSCA, "hash");
        vm.assertEq(reg.applicationCount(), 1, "count");
    }

    function test_settle_by_membership_time() public {
        // n1..n3 members from T0; n3 leaves at T0 + 50; settle at T0 + 100.
        vm.warp(T0 + 50);
        vm.prank(n1);
        reg.deregisterPeer(n3);
        vm.warp(T0 + 100);
        vm.deal(address(reg), 2500);
        reg.settle();
        vm.assertEq(reg.credit(n1), 1000, "n1 100 s of 250");
        vm.assertEq(reg.credit(n2), 1000, "n2 100 s of 250");
        vm.assertEq(reg.credit(n3), 500, "n3 50 s of 250");
        vm.assertEq(reg.owed(), 2500, "owed");
        vm.prank(n3);
        reg.withdraw();
        vm.assertEq(n3.balance, 500, "n3 paid");
        vm.prank(n3);
        vm.expectRevert(Registry.NothingToWithdraw.selector);
        reg.withdraw();
        // Nothing new arrived: a second settlement credits nothing.
        vm.warp(T0 + 200);
        reg.settle();
        vm.assertEq(reg.credit(n1), 1000, "unchanged");
    }
}

contract CloudTest is OrchestrationBase {
    function test_instantiate_deploys_and_takes_resources() public view {
        vm.assertTrue(cloud.isApplication(address(app)), "known app");
        vm.assertEq(cloud.resource(RES1).app, address(app), "res1 taken");
        vm.assertEq(address(app).balance, DEPOSIT, "deposit");
        vm.assertEq(app.client(), CLIENT, "client");
        vm.assertEq(app.serviceCount(), 2, "services");
        vm.assertEq(app.service(0).resourceOwner, OWNER1, "owner of the back end's resource");
        vm.assertEq(app.networkPrice(), NETWORK_PRICE, "network price fixed");
    }

    function _try(address client, Cloud.Reservation memory r, bytes memory sig) internal {
        (string[] memory names, bytes32[] memory res) = _services();
        vm.prank(client);
        cloud.instantiate(r, names, res, sig, 3, 60);
    }

    function _signed(Cloud.Reservation memory r, uint256 key) internal view returns (bytes memory) {
        (string[] memory names, bytes32[] memory res) = _services();
        return _sign(key, cloud.reservationDigest(r, names, res));
    }

    function _free() internal {
        uint256 idx = app.checkpointCount();
        vm.prank(reg.leader());
        app.addCheckpoint(idx, Application.Kind.APP_SHUTDOWN, uint64(block.timestamp) * 1000, 0, ORC1);
    }

    function test_expired_reservation() public {
        _free();
        Cloud.Reservation memory r = _reservation(CLIENT, "s1", block.timestamp + 10);
        bytes memory sig = _signed(r, SCHEDULER_KEY);
        vm.warp(block.timestamp + 11);
        vm.expectRevert(abi.encodeWithSelector(Cloud.Expired.selector, T0 + 10, T0 + 11));
        _try(CLIENT, r, sig);
    }

    function test_bad_signature_and_wrong_client() public {
        _free();
        Cloud.Reservation memory r = _reservation(CLIENT, "s1", block.timestamp + 10);
        bytes memory forged = _signed(r, K4);
        vm.expectRevert(abi.encodeWithSelector(Cloud.BadSignature.selector, n4));
        _try(CLIENT, r, forged);
        bytes memory sig = _signed(r, SCHEDULER_KEY);
        vm.expectRevert(Cloud.NotClient.selector);
        _try(OUTSIDER, r, sig);
        // The signature covers the services: another mapping is refused.
        string[] memory names = new string[](2);
        names[0] = "frontend";
        names[1] = "backend";
        (, bytes32[] memory res) = _services();
        vm.prank(CLIENT);
        vm.expectRevert();
        cloud.instantiate(r, names, res, sig, 3, 60);
    }

    function test_salt_once() public {
        _free();
        Cloud.Reservation memory r = _reservation(CLIENT, "s1", block.timestamp + 10);
        bytes memory sig = _signed(r, SCHEDULER_KEY);
        _try(CLIENT, r, sig);
        vm.expectRevert(abi.encodeWithSelector(Cloud.SaltUsed.selector, bytes32("s1")));
        _try(CLIENT, r, sig);
    }

    function test_busy_and_deregistered_resources() public {
        Cloud.Reservation memory r = _reservation(CLIENT, "s1", block.timestamp + 10);
        bytes memory sig = _signed(r, SCHEDULER_KEY);
        vm.expectRevert(abi.encodeWithSelector(Cloud.ResourceBusy.selector, RES1, address(app)));
        _try(CLIENT, r, sig);
        _free();
        vm.assertEq(cloud.resource(RES1).app, address(0), "released by APP_SHUTDOWN");
        vm.prank(PROVIDER);
        cloud.deregisterResource(RES2);
        vm.expectRevert(abi.encodeWithSelector(Cloud.UnknownResource.selector, RES2));
        _try(CLIENT, r, sig);
    }

    function test_bad_services() public {
        _free();
        Cloud.Reservation memory r = _reservation(CLIENT, "s1", block.timestamp + 10);
        string[] memory names = new string[](2);
        names[0] = "a";
        names[1] = "b";
        bytes32[] memory res = new bytes32[](2);
        res[0] = RES1;
        res[1] = RES1;
        bytes memory sig = _sign(SCHEDULER_KEY, cloud.reservationDigest(r, names, res));
        vm.prank(CLIENT);
        vm.expectRevert(abi.encodeWithSelector(Cloud.DuplicateResource.selector, RES1));
        cloud.instantiate(r, names, res, sig, 3, 60);
        bytes32[] memory one = new bytes32[](1);
        one[0] = RES1;
        vm.prank(CLIENT);
        vm.expectRevert(Cloud.BadServices.selector);
        cloud.instantiate(r, names, one, sig, 3, 60);
    }

    function test_only_provider_manages_resources() public {
        vm.prank(OUTSIDER);
        vm.expectRevert(Cloud.NotProvider.selector);
        cloud.registerResource(keccak256("x"), OUTSIDER, 1, "");
        vm.prank(OUTSIDER);
        vm.expectRevert(Cloud.NotProvider.selector);
        cloud.deregisterResource(RES1);
        vm.prank(PROVIDER);
        vm.expectRevert(abi.encodeWithSelector(Cloud.DuplicateResource.selector, RES1));
        cloud.registerResource(RES1, OWNER1, 1, "");
        vm.prank(OUTSIDER);
        vm.expectRevert(Cloud.NotApplication.selector);
        cloud.release(new bytes32[](0));
    }
}

contract ApplicationTest is OrchestrationBase {
    function test_checkpoint_rules() public {
        vm.prank(n2);
        vm.expectRevert(Application.NotLeader.selector);
        app.addCheckpoint(0, Application.Kind.SERVICE_UP, uint64(T0) * 1000, 0, ORC1);
        vm.prank(n1);
        vm.expectRevert(abi.encodeWithSelector(Application.BadService.selector, 2));
        app.addCheckpoint(0, Application.Kind.SERVICE_UP, uint64(T0) * 1000, 2, ORC1);
        _cp(Application.Kind.SERVICE_UP, 5000, 0, ORC1);
        // The same checkpoint again (a new leader resending it): refused.
        vm.prank(n1);
        vm.expectRevert(abi.encodeWithSelector(Application.WrongIndex.selector, 0, 1));
        app.addCheckpoint(0, Application.Kind.SERVICE_UP, uint64(T0) * 1000 + 5000, 0, ORC1);
        vm.prank(n1);
        vm.expectRevert(abi.encodeWithSelector(Application.WrongIndex.selector, 2, 1));
        app.addCheckpoint(2, Application.Kind.SERVICE_UP, uint64(T0) * 1000 + 5000, 0, ORC1);
        vm.prank(n1);
        vm.expectRevert(abi.encodeWithSelector(Application.TimeGoesBack.selector, uint64(T0) * 1000 + 4999, uint64(T0) * 1000 + 5000));
        app.addCheckpoint(1, Application.Kind.SERVICE_UP, uint64(T0) * 1000 + 4999, 1, ORC1);
        uint64 future = uint64(T0 + 61) * 1000;
        vm.prank(n1);
        vm.expectRevert(abi.encodeWithSelector(Application.FromTheFuture.selector, future));
        app.addCheckpoint(1, Application.Kind.APP_OK, future, 0, ORC1);
        _cp(Application.Kind.APP_SHUTDOWN, 6000, 0, ORC1);
        vm.prank(n1);
        vm.expectRevert(Application.AfterShutdown.selector);
        app.addCheckpoint(2, Application.Kind.APP_OK, uint64(T0) * 1000 + 7000, 0, ORC1);
        vm.assertEq(app.checkpointCount(), 2, "two checkpoints");
        vm.assertEq(app.checkpoint(0).issuer, n1, "issuer is the leader");
        vm.assertEq(uint256(app.checkpoint(1).service), type(uint32).max, "APP_* names no service");
    }

    function test_new_leader_adds_checkpoints() public {
        bytes[] memory acc = _accepts(1, n2, _keys(K2, K3));
        vm.prank(n2);
        reg.registerLeader(1, acc);
        vm.prank(n1);
        vm.expectRevert(Application.NotLeader.selector);
        app.addCheckpoint(0, Application.Kind.SERVICE_UP, uint64(T0) * 1000, 0, ORC1);
        _cp(Application.Kind.SERVICE_UP, 0, 0, ORC1);
        vm.assertEq(app.checkpoint(0).issuer, n2, "issued by the new leader");
    }

    /// Figure 5.1: orchestrator 1 starts the back end and dies; orchestrator
    /// 2 starts the front end; APP_OK; the back end fails and is restarted;
    /// APP_OK; the client stops the application.
    function test_figure_5_1_payments() public {
        vm.warp(T0 + 600);
        _cp(Application.Kind.SERVICE_UP, 0, 0, ORC1); // back end up (orc 1)
        _cp(Application.Kind.SERVICE_UP, 120_000, 1, ORC2); // front end up (orc 2)
        _cp(Application.Kind.APP_OK, 180_000, 0, ORC2);
        _cp(Application.Kind.SERVICE_DOWN, 250_000, 0, ORC2);
        _cp(Application.Kind.SERVICE_UP, 270_000, 0, ORC2);
        _cp(Application.Kind.APP_OK, 330_000, 0, ORC2);
        vm.prank(CLIENT);
        app.requestStop();
        vm.assertTrue(app.stopRequested(), "stop requested");
        _cp(Application.Kind.APP_SHUTDOWN, 390_000, 0, ORC2);
        vm.assertEq(cloud.resource(RES1).app, address(0), "resources released");

        // Paid in two parts: 3 checkpoints, then the rest.
        vm.assertEq(app.interimPayment(3), 3, "first part");
        vm.assertEq(app.interimPayment(100), 4, "second part");
        vm.assertEq(app.interimPayment(100), 0, "nothing left");
        vm.assertEq(app.paidCount(), 7, "all paid");

        // Independent computation. Intervals (service, start, end, orcs):
        // back end 0..180 (orc1 -> orc2), 180..250 (orc2), 270..330, 330..390;
        // front end 120..180, 180..330, 330..390 (all orc2).
        uint256 backMs = 180_000 + 70_000 + 60_000 + 60_000;
        uint256 frontMs = 60_000 + 150_000 + 60_000;
        uint256 res1 = _share(RES1_PRICE, 180_000) + _share(RES1_PRICE, 70_000) + _share(RES1_PRICE, 60_000)
            + _share(RES1_PRICE, 60_000);
        uint256 res2 = _share(RES2_PRICE, 60_000) + _share(RES2_PRICE, 150_000) + _share(RES2_PRICE, 60_000);
        uint256 cloudPay = _share(CLOUD_PRICE, 180_000) + _share(CLOUD_PRICE, 70_000) + _share(CLOUD_PRICE, 60_000)
            + _share(CLOUD_PRICE, 60_000) + _share(CLOUD_PRICE, 60_000) + _share(CLOUD_PRICE, 150_000)
            + _share(CLOUD_PRICE, 60_000);
        uint256 net = _share(NETWORK_PRICE, 180_000) + _share(NETWORK_PRICE, 70_000) + _share(NETWORK_PRICE, 60_000)
            + _share(NETWORK_PRICE, 60_000) + _share(NETWORK_PRICE, 60_000) + _share(NETWORK_PRICE, 150_000)
            + _share(NETWORK_PRICE, 60_000);
        uint256 half = _share(ORC_PRICE, 180_000) / 2; // the interval orc1 and orc2 share
        uint256 orc2 = half + _share(ORC_PRICE, 70_000) + _share(ORC_PRICE, 60_000) + _share(ORC_PRICE, 60_000)
            + _share(ORC_PRICE, 60_000) + _share(ORC_PRICE, 150_000) + _share(ORC_PRICE, 60_000);
        vm.assertEq(backMs + frontMs, 640_000, "service time");
        vm.assertEq(app.salary(OWNER1), res1, "back end's resource");
        vm.assertEq(app.salary(OWNER2), res2, "front end's resource");
        vm.assertEq(app.salary(PROVIDER), cloudPay, "cloud");
        vm.assertEq(app.salary(address(reg)), net, "network");
        vm.assertEq(app.salary(ORC1), half, "orchestrator 1: half of the first interval");
        vm.assertEq(app.salary(ORC2), orc2, "orchestrator 2");
        uint256 total = res1 + res2 + cloudPay + net + half + orc2;
        vm.assertEq(app.locked(), total, "locked = salaries");

        // Withdrawals and the refund add up to the deposit.
        address[5] memory payees = [OWNER1, OWNER2, PROVIDER, ORC1, ORC2];
        for (uint256 i = 0; i < payees.length; i++) {
            vm.prank(payees[i]);
            app.withdraw();
        }
        reg.collect(address(app));
        vm.assertEq(address(reg).balance, net, "network pay at the registry");
        vm.prank(CLIENT);
        app.close();
        vm.assertEq(CLIENT.balance, DEPOSIT - total, "refund");
        vm.assertEq(address(app).balance, 0, "nothing left behind");
        vm.assertEq(
            OWNER1.balance + OWNER2.balance + PROVIDER.balance + ORC1.balance + ORC2.balance + net + CLIENT.balance,
            DEPOSIT,
            "deposit accounted for"
        );
    }

    function test_payment_stops_when_funds_run_out() public {
        // A deposit that covers the first interval only.
        _cp(Application.Kind.SERVICE_UP, 0, 0, ORC1);
        vm.warp(T0 + 600);
        _cp(Application.Kind.SERVICE_DOWN, 60_000, 0, ORC1);
        _cp(Application.Kind.SERVICE_UP, 60_000, 0, ORC1);
        _cp(Application.Kind.SERVICE_DOWN, 120_000, 0, ORC1);
        uint256 minute = RES1_PRICE + CLOUD_PRICE + NETWORK_PRICE + ORC_PRICE;
        // Leave the app minute + 1 wei available (strict <, as Algorithm 5).
        vm.deal(address(app), minute + 1);
        vm.assertEq(app.interimPayment(10), 3, "first interval and the restart");
        vm.assertEq(app.interimPayment(10), 0, "second interval not covered");
        vm.assertEq(app.locked(), minute, "one minute promised");
        vm.prank(CLIENT);
        app.deposit{value: 0}();
        vm.deal(address(app), address(app).balance + minute);
        vm.assertEq(app.interimPayment(10), 1, "paid once funds arrive");
        vm.assertEq(app.locked(), 2 * minute, "two minutes promised");
    }

    function test_close_rules() public {
        vm.prank(OUTSIDER);
        vm.expectRevert(Application.NotClient.selector);
        app.close();
        vm.prank(CLIENT);
        vm.expectRevert(Application.NotShutdown.selector);
        app.close();
        _cp(Application.Kind.SERVICE_UP, 0, 0, ORC1);
        vm.warp(T0 + 120);
        _cp(Application.Kind.APP_SHUTDOWN, 120_000, 0, ORC1);
        // close pays what is unpaid before it refunds.
        vm.prank(CLIENT);
        app.close();
        uint256 paid = _share(RES1_PRICE, 120_000) + _share(CLOUD_PRICE, 120_000) + _share(NETWORK_PRICE, 120_000)
            + _share(ORC_PRICE, 120_000);
        vm.assertEq(app.locked(), paid, "paid at close");
        vm.assertEq(CLIENT.balance, DEPOSIT - paid, "refund");
        vm.prank(CLIENT);
        vm.expectRevert(Application.AlreadyClosed.selector);
        app.close();
        vm.prank(CLIENT);
        vm.expectRevert(Application.AlreadyClosed.selector);
        app.deposit();
        vm.prank(OWNER1);
        app.withdraw();
        vm.assertEq(OWNER1.balance, _share(RES1_PRICE, 120_000), "salary after close");
        vm.prank(OWNER1);
        vm.expectRevert(Application.NothingToWithdraw.selector);
        app.withdraw();
    }

    function test_only_client_requests_stop() public {
        vm.prank(OUTSIDER);
        vm.expectRevert(Application.NotClient.selector);
        app.requestStop();
    }
}
