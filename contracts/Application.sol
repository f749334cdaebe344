// SPDX-License-Identifier: Apache-2.0
// An Application of seed 002 (section 5): its services and the resources
// they run on, the checkpoint array the CAN leader appends to, interim
// payments (Algorithm 5, payService as Algorithm 6) into a salary map with
// pull-based withdrawal, the funds locked for salaries, APP_SHUTDOWN
// releasing the resources, and closing, which returns what was never
// promised to the client (no selfdestruct).
//
// Where this differs from the seed's pseudo-code (docs/ORCHESTRATION.md):
// - every processed checkpoint advances the last-paid index (the
//   pseudo-code advances it for SERVICE_DOWN, APP_OK and APP_SHUTDOWN
//   only, so a SERVICE_UP before them would shift the index and a later
//   call would pay a checkpoint twice);
// - a share is price * milliseconds / 60,000 (floor), not price times
//   whole minutes, so a service up for 59 seconds is paid too;
// - the cloud's share goes to its provider's account, the network's to
//   the Registry, which shares it among CAN nodes by membership time.
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

interface IRegistryView {
    function leader() external view returns (address);
    function networkPrice() external view returns (uint256);
    function orchestratorPrice() external view returns (uint256);
}

interface ICloudRelease {
    function release(bytes32[] calldata res) external;
}

contract Application is ReentrancyGuard {
    enum Kind {
        SERVICE_UP,
        SERVICE_DOWN,
        APP_OK,
        APP_SHUTDOWN
    }

    struct Checkpoint {
        Kind kind;
        uint64 timestamp; // Unix milliseconds
        uint32 service; // index into services (SERVICE_UP/DOWN only)
        address issuer; // the CAN leader that added it
        address orchestrator; // the component that made it
    }

    struct Service {
        string name;
        bytes32 resource;
        address resourceOwner;
        uint256 resourcePrice; // wei per minute
    }

    /// No start time (the seed's null).
    uint256 private constant NONE = type(uint256).max;

    address public immutable registry;
    address public immutable cloud;
    address public immutable client;
    address public immutable cloudPayee;
    bytes32 public immutable toscaHash;
    // Prices in wei per minute, fixed when the application was created.
    uint256 public immutable cloudPrice;
    uint256 public immutable networkPrice;
    uint256 public immutable orchestratorPrice;
    uint32 public immutable retries;
    uint32 public immutable okInterval; // seconds between APP_OK checkpoints

    Service[] private services;
    Checkpoint[] private cps;
    uint256 public paidCount; // checkpoints 0 .. paidCount - 1 are paid (the seed's lp + 1)
    uint256[] private startIndex; // per service: index of its start checkpoint, or NONE
    mapping(address => uint256) public salary;
    uint256 public locked; // promised in salaries and not yet withdrawn
    bool public stopRequested;
    bool public shutdown;
    bool public closed;

    event CheckpointAdded(uint256 indexed index, Kind kind, uint32 service, address orchestrator, uint64 timestamp);
    event Paid(uint256 steps, uint256 total, uint256 paidCount);
    event Withdrawn(address indexed payee, uint256 amount);
    event StopRequested();
    event Closed(uint256 refund);

    error NotLeader();
    error WrongIndex(uint256 index, uint256 count);
    error NotClient();
    error AlreadyClosed();
    error AfterShutdown();
    error NotShutdown();
    error BadService(uint32 service);
    error TimeGoesBack(uint64 timestamp, uint64 last);
    error FromTheFuture(uint64 timestamp);
    error NothingToWithdraw();
    error TransferFailed();

    constructor(
        address registry_,
        address client_,
        bytes32 toscaHash_,
        address cloudPayee_,
        uint256 cloudPrice_,
        Service[] memory services_,
        uint32 retries_,
        uint32 okInterval_
    ) payable {
        registry = registry_;
        cloud = msg.sender;
        client = client_;
        toscaHash = toscaHash_;
        cloudPayee = cloudPayee_;
        cloudPrice = cloudPrice_;
        networkPrice = IRegistryView(registry_).networkPrice();
        orchestratorPrice = IRegistryView(registry_).orchestratorPrice();
        retries = retries_;
        okInterval = okInterval_;
        for (uint256 i = 0; i < services_.length; i++) {
            services.push(services_[i]);
            startIndex.push(NONE);
        }
    }

    /// More funds from the client.
    function deposit() external payable {
        if (closed) revert AlreadyClosed();
    }

    // ------------------------------------------------------------ checkpoints

    /// The CAN leader records a checkpoint's metadata as checkpoint number
    /// `index` (the count so far: a leader that replaced another and sends
    /// the same checkpoint again is refused, so none is recorded twice).
    /// Timestamps never go back and are at most a minute ahead of the
    /// block. APP_SHUTDOWN is the last checkpoint and releases the resources
    /// in the Cloud.
    function addCheckpoint(uint256 index, Kind kind, uint64 timestamp, uint32 svc, address orchestrator)
        external
    {
        if (msg.sender != IRegistryView(registry).leader()) revert NotLeader();
        if (index != cps.length) revert WrongIndex(index, cps.length);
        if (shutdown) revert AfterShutdown();
        if (kind <= Kind.SERVICE_DOWN && svc >= services.length) revert BadService(svc);
        if (kind > Kind.SERVICE_DOWN) svc = type(uint32).max;
        uint256 n = cps.length;
        if (n > 0 && timestamp < cps[n - 1].timestamp) revert TimeGoesBack(timestamp, cps[n - 1].timestamp);
        if (timestamp > (block.timestamp + 60) * 1000) revert FromTheFuture(timestamp);
        cps.push(Checkpoint(kind, timestamp, svc, msg.sender, orchestrator));
        emit CheckpointAdded(n, kind, svc, orchestrator, timestamp);
        if (kind == Kind.APP_SHUTDOWN) {
            shutdown = true;
            bytes32[] memory res = new bytes32[](services.length);
            for (uint256 i = 0; i < res.length; i++) {
                res[i] = services[i].resource;
            }
            ICloudRelease(cloud).release(res);
        }
    }

    // ------------------------------------------------------------ payment

    /// Algorithm 5: pays up to k checkpoints after the last paid one, while
    /// the funds not yet promised cover them. Returns how many were paid.
    function interimPayment(uint256 k) external nonReentrant returns (uint256 steps) {
        return _interimPayment(k);
    }

    function _interimPayment(uint256 k) private returns (uint256 steps) {
        uint256 lp = paidCount;
        uint256 end = lp + k < cps.length ? lp + k : cps.length;
        uint256 available = address(this).balance - locked;
        uint256 total;
        uint256 i = lp;
        for (; i < end; i++) {
            Checkpoint storage c = cps[i];
            if (c.kind == Kind.SERVICE_UP) {
                startIndex[c.service] = i;
            } else if (c.kind == Kind.SERVICE_DOWN) {
                uint256 s = startIndex[c.service];
                uint256 x = s == NONE ? 0 : _cost(c.service, cps[s], c);
                if (!(x + total < available)) break;
                if (s != NONE) _payService(c.service, cps[s], c);
                total += x;
                startIndex[c.service] = NONE;
            } else {
                uint256 appTotal;
                bool fail;
                for (uint32 j = 0; j < services.length; j++) {
                    uint256 s = startIndex[j];
                    if (s != NONE) appTotal += _cost(j, cps[s], c);
                    if (total + appTotal > available) {
                        fail = true;
                        break;
                    }
                }
                if (fail) break;
                bool last = c.kind == Kind.APP_SHUTDOWN;
                for (uint32 j = 0; j < services.length; j++) {
                    uint256 s = startIndex[j];
                    if (s != NONE) _payService(j, cps[s], c);
                    startIndex[j] = last ? NONE : i;
                }
                total += appTotal;
            }
        }
        steps = i - lp;
        paidCount = i;
        locked += total;
        emit Paid(steps, total, i);
    }

    /// The shares of one interval of service j (Algorithm 6's amounts).
    function _shares(uint32 j, Checkpoint storage cs, Checkpoint storage ce)
        private
        view
        returns (uint256 res, uint256 cloudShare, uint256 net, uint256 orc)
    {
        uint256 ms = ce.timestamp - cs.timestamp;
        res = services[j].resourcePrice * ms / 60000;
        cloudShare = cloudPrice * ms / 60000;
        net = networkPrice * ms / 60000;
        orc = orchestratorPrice * ms / 60000;
        if (cs.orchestrator != ce.orchestrator) orc = (orc / 2) * 2; // two halves
    }

    function _cost(uint32 j, Checkpoint storage cs, Checkpoint storage ce) private view returns (uint256) {
        (uint256 res, uint256 cloudShare, uint256 net, uint256 orc) = _shares(j, cs, ce);
        return res + cloudShare + net + orc;
    }

    /// Algorithm 6.
    function _payService(uint32 j, Checkpoint storage cs, Checkpoint storage ce) private {
        (uint256 res, uint256 cloudShare, uint256 net, uint256 orc) = _shares(j, cs, ce);
        salary[cloudPayee] += cloudShare;
        salary[services[j].resourceOwner] += res;
        salary[registry] += net;
        if (cs.orchestrator != ce.orchestrator) {
            salary[cs.orchestrator] += orc / 2;
            salary[ce.orchestrator] += orc / 2;
        } else {
            salary[ce.orchestrator] += orc;
        }
    }

    /// Pull-based: each payee takes what it earned.
    function withdraw() external nonReentrant {
        uint256 amount = salary[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        salary[msg.sender] = 0;
        locked -= amount;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
        emit Withdrawn(msg.sender, amount);
    }

    // ------------------------------------------------------------ client

    /// The client asks the orchestrator to stop (it then checkpoints
    /// APP_SHUTDOWN through the leader).
    function requestStop() external {
        if (msg.sender != client) revert NotClient();
        stopRequested = true;
        emit StopRequested();
    }

    /// After APP_SHUTDOWN: pays what the funds still cover of the unpaid
    /// checkpoints (with many, call interimPayment in parts first), then
    /// returns to the client what was never promised. Salaries stay
    /// withdrawable.
    function close() external nonReentrant {
        if (msg.sender != client) revert NotClient();
        if (closed) revert AlreadyClosed();
        if (!shutdown) revert NotShutdown();
        _interimPayment(cps.length - paidCount);
        closed = true;
        uint256 refund = address(this).balance - locked;
        if (refund > 0) {
            (bool ok,) = client.call{value: refund}("");
            if (!ok) revert TransferFailed();
        }
        emit Closed(refund);
    }

    // ------------------------------------------------------------ views

    function checkpointCount() external view returns (uint256) {
        return cps.length;
    }

    function checkpoint(uint256 i) external view returns (Checkpoint memory) {
        return cps[i];
    }

    function serviceCount() external view returns (uint256) {
        return services.length;
    }

    function service(uint256 i) external view returns (Service memory) {
        return services[i];
    }
}
