// SPDX-License-Identifier: Apache-2.0
// The Registry of seed 002 (decentralised orchestration), section 3 and
// 4.1: clouds, application definitions, and the Component Administration
// Network (CAN): its configuration, candidate nodes, current members with
// their contact information and membership intervals, the leader and the
// leader nonce. A new leader registers itself with the EIP-712 signed
// accepts of a strict majority of the current members (Algorithm 3). The
// network's share of every application's payment is collected here and
// shared among nodes by the time each was a member (section 5.1).
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

interface IPayer {
    function withdraw() external;
}

interface ICloudInfo {
    function registry() external view returns (address);
    function provider() external view returns (address);
}

contract Registry is EIP712, ReentrancyGuard {
    /// What a member signs to accept a leader (Algorithm 4's accept).
    bytes32 public constant ACCEPT_TYPEHASH = keccak256("Accept(uint256 nonce,address leader)");

    struct Node {
        string contact;
        bool candidate;
        bool member;
    }

    /// A membership interval in Unix seconds; end is 0 while it lasts.
    struct Interval {
        uint64 start;
        uint64 end;
    }

    /// An application definition: a TOSCA document by hash and where to
    /// fetch it.
    struct AppDef {
        address owner;
        bytes32 toscaHash;
        string uri;
    }

    address public immutable owner;

    // CAN configuration (Algorithm 1), prices in wei per minute.
    uint32 public nmin;
    uint32 public nmax;
    uint256 public networkPrice;
    uint256 public orchestratorPrice;

    address public leader;
    uint256 public leaderNonce;

    mapping(address => Node) private nodes;
    mapping(address => Interval[]) private intervals;
    address[] private nodeList; // every node that was ever a candidate
    address[] private everMembers; // every node that was ever a member (settle's loop)
    address[] private members;
    mapping(address => uint256) private memberSlot; // index + 1

    mapping(address => bool) public isCloud;
    address[] private clouds;
    AppDef[] private appDefs;

    // The network's pay: credited to nodes by membership time, then pulled.
    uint256 public settledAt;
    uint256 public owed; // credited and not yet withdrawn
    mapping(address => uint256) public credit;

    event CanConfigured(uint32 nmin, uint32 nmax, uint256 networkPrice, uint256 orchestratorPrice);
    event CandidateRegistered(address indexed node, string contact);
    event MemberAdded(address indexed node, uint256 timestamp);
    event MemberRemoved(address indexed node, uint256 timestamp);
    event LeaderChanged(address indexed leader, uint256 nonce);
    event CloudRegistered(address indexed cloud, address indexed provider);
    event ApplicationRegistered(uint256 indexed id, address indexed owner, bytes32 toscaHash, string uri);
    event Settled(uint256 amount, uint256 from, uint256 to);
    event Withdrawn(address indexed node, uint256 amount);

    error NotOwner();
    error NotLeader();
    error NotCandidate(address node);
    error NotMember(address node);
    error AlreadyMember(address node);
    error NetworkFull();
    error BadConfig();
    error LeaderAlreadySet();
    error StaleNonce(uint256 given, uint256 expected);
    error UnsortedOrDuplicateSigner(address signer);
    error NoMajority(uint256 accepts, uint256 members);
    error BadCloud();
    error EmptyContact();
    error NothingToWithdraw();
    error TransferFailed();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    modifier onlyLeader() {
        if (msg.sender != leader) revert NotLeader();
        _;
    }

    constructor(uint32 nmin_, uint32 nmax_, uint256 networkPrice_, uint256 orchestratorPrice_)
        EIP712("CatenaRegistry", "1")
    {
        owner = msg.sender;
        _configure(nmin_, nmax_, networkPrice_, orchestratorPrice_);
        settledAt = block.timestamp;
    }

    receive() external payable {}

    // ------------------------------------------------------------ configuration

    function configureCan(uint32 nmin_, uint32 nmax_, uint256 networkPrice_, uint256 orchestratorPrice_)
        external
        onlyOwner
    {
        _configure(nmin_, nmax_, networkPrice_, orchestratorPrice_);
    }

    function _configure(uint32 nmin_, uint32 nmax_, uint256 networkPrice_, uint256 orchestratorPrice_) private {
        if (nmin_ == 0 || nmax_ < nmin_) revert BadConfig();
        nmin = nmin_;
        nmax = nmax_;
        networkPrice = networkPrice_;
        orchestratorPrice = orchestratorPrice_;
        emit CanConfigured(nmin_, nmax_, networkPrice_, orchestratorPrice_);
    }

    // ------------------------------------------------------------ clouds and applications

    /// A provider registers the Cloud contract it deployed (the Registry
    /// does not deploy it: a Cloud carries the Application's code, and the
    /// three together would pass the 24 KB code limit).
    function registerCloud(address cloud) external {
        if (cloud.code.length == 0 || isCloud[cloud]) revert BadCloud();
        ICloudInfo c = ICloudInfo(cloud);
        if (c.registry() != address(this) || c.provider() != msg.sender) revert BadCloud();
        isCloud[cloud] = true;
        clouds.push(cloud);
        emit CloudRegistered(cloud, msg.sender);
    }

    function cloudList() external view returns (address[] memory) {
        return clouds;
    }

    function registerApplication(bytes32 toscaHash, string calldata uri) external returns (uint256 id) {
        id = appDefs.length;
        appDefs.push(AppDef(msg.sender, toscaHash, uri));
        emit ApplicationRegistered(id, msg.sender, toscaHash, uri);
    }

    function application(uint256 id) external view returns (AppDef memory) {
        return appDefs[id];
    }

    function applicationCount() external view returns (uint256) {
        return appDefs.length;
    }

    // ------------------------------------------------------------ CAN membership

    function registerCandidate(string calldata contact) external {
        if (bytes(contact).length == 0) revert EmptyContact();
        Node storage n = nodes[msg.sender];
        if (!n.candidate) nodeList.push(msg.sender);
        n.candidate = true;
        n.contact = contact;
        emit CandidateRegistered(msg.sender, contact);
    }

    /// The owner appoints the first leader among the candidates (section
    /// 3.1, step 2.ii); later leaders are elected (registerLeader).
    function appointLeader(address node) external onlyOwner {
        if (leader != address(0)) revert LeaderAlreadySet();
        if (!nodes[node].candidate) revert NotCandidate(node);
        _addMember(node);
        leader = node;
        emit LeaderChanged(node, leaderNonce);
    }

    /// Algorithm 1, registerPeer: the leader records a node it accepted.
    function registerPeer(address node) external onlyLeader {
        if (!nodes[node].candidate) revert NotCandidate(node);
        if (members.length >= nmax) revert NetworkFull();
        _addMember(node);
    }

    /// Algorithm 2, deregisterPeer: the leader records a node the majority
    /// voted out. The leader itself leaves only through an election.
    function deregisterPeer(address node) external onlyLeader {
        if (node == leader) revert NotMember(node);
        _removeMember(node);
    }

    /// Algorithm 3: msg.sender becomes leader with nonce n, given the
    /// accepts (EIP-712 signatures of Accept(n, msg.sender)) of a strict
    /// majority of the current members, signers in ascending address order
    /// (which rules out duplicates). The previous leader leaves the network.
    function registerLeader(uint256 n, bytes[] calldata accepts) external {
        if (n != leaderNonce + 1) revert StaleNonce(n, leaderNonce + 1);
        if (!nodes[msg.sender].member) revert NotMember(msg.sender);
        bytes32 digest = acceptDigest(n, msg.sender);
        address last;
        for (uint256 i = 0; i < accepts.length; i++) {
            address signer = ECDSA.recover(digest, accepts[i]);
            if (signer <= last) revert UnsortedOrDuplicateSigner(signer);
            if (!nodes[signer].member) revert NotMember(signer);
            last = signer;
        }
        if (accepts.length * 2 <= members.length) revert NoMajority(accepts.length, members.length);
        address old = leader;
        leaderNonce = n;
        leader = msg.sender;
        if (old != address(0) && old != msg.sender && nodes[old].member) _removeMember(old);
        emit LeaderChanged(msg.sender, n);
    }

    function acceptDigest(uint256 n, address newLeader) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ACCEPT_TYPEHASH, n, newLeader)));
    }

    function _addMember(address node) private {
        Node storage n = nodes[node];
        if (n.member) revert AlreadyMember(node);
        n.member = true;
        if (intervals[node].length == 0) everMembers.push(node);
        members.push(node);
        memberSlot[node] = members.length;
        intervals[node].push(Interval(uint64(block.timestamp), 0));
        emit MemberAdded(node, block.timestamp);
    }

    function _removeMember(address node) private {
        Node storage n = nodes[node];
        if (!n.member) revert NotMember(node);
        n.member = false;
        uint256 slot = memberSlot[node];
        address moved = members[members.length - 1];
        members[slot - 1] = moved;
        memberSlot[moved] = slot;
        members.pop();
        delete memberSlot[node];
        Interval[] storage iv = intervals[node];
        iv[iv.length - 1].end = uint64(block.timestamp);
        emit MemberRemoved(node, block.timestamp);
    }

    function nodeInfo(address a) external view returns (Node memory) {
        return nodes[a];
    }

    function memberList() external view returns (address[] memory) {
        return members;
    }

    function memberCount() external view returns (uint256) {
        return members.length;
    }

    function candidateList() external view returns (address[] memory) {
        return nodeList;
    }

    function membershipIntervals(address a) external view returns (Interval[] memory) {
        return intervals[a];
    }

    function leaderContact() external view returns (string memory) {
        return nodes[leader].contact;
    }

    // ------------------------------------------------------------ the network's pay

    /// Pulls the network's salary from an Application into the Registry.
    function collect(address app) external nonReentrant {
        IPayer(app).withdraw();
    }

    /// Credits what arrived since the last settlement to the nodes, in
    /// proportion to the seconds each was a member since then. With no
    /// member time in the period the funds wait for the next settlement.
    function settle() external nonReentrant {
        uint256 from = settledAt;
        uint256 to = block.timestamp;
        uint256 amount = address(this).balance - owed;
        if (to <= from || amount == 0) return;
        uint256 total;
        uint256 count = everMembers.length;
        uint256[] memory share = new uint256[](count);
        for (uint256 i = 0; i < count; i++) {
            share[i] = _memberSeconds(everMembers[i], from, to);
            total += share[i];
        }
        if (total == 0) return;
        uint256 paid;
        for (uint256 i = 0; i < count; i++) {
            if (share[i] == 0) continue;
            uint256 x = amount * share[i] / total;
            credit[everMembers[i]] += x;
            paid += x;
        }
        owed += paid;
        settledAt = to;
        emit Settled(paid, from, to);
    }

    function _memberSeconds(address a, uint256 from, uint256 to) private view returns (uint256 s) {
        Interval[] storage iv = intervals[a];
        for (uint256 j = iv.length; j > 0; j--) {
            Interval storage x = iv[j - 1];
            uint256 end = x.end == 0 ? to : x.end;
            if (end <= from) break; // older intervals end earlier still
            uint256 start = x.start > from ? x.start : from;
            if (end > start) s += end - start;
        }
    }

    function withdraw() external nonReentrant {
        uint256 amount = credit[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        credit[msg.sender] = 0;
        owed -= amount;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
        emit Withdrawn(msg.sender, amount);
    }
}
