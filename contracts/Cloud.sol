// SPDX-License-Identifier: Apache-2.0
// A Cloud of seed 002 (section 3): the provider's endpoints (Scheduler,
// Plug&Play), its price, the resources its Plug&Play service registered
// with their owners and prices, and the instantiation of applications
// from reservations its Scheduler signed (EIP-712): an Application is
// deployed if and only if the reservation has not expired and none of its
// resources was deregistered (section 3.2). A resource serves one
// application at a time; the application's APP_SHUTDOWN releases it.
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Application} from "./Application.sol";

contract Cloud is EIP712 {
    /// What the Scheduler signs: the client, the application definition
    /// (TOSCA hash), keccak256(abi.encode(string[] services, bytes32[]
    /// resources)), the expiry (Unix seconds) and a salt that makes each
    /// reservation usable once.
    bytes32 public constant RESERVATION_TYPEHASH = keccak256(
        "Reservation(address client,bytes32 toscaHash,bytes32 services,uint256 expiry,bytes32 salt)"
    );

    struct Resource {
        address owner; // paid the resource price
        uint256 price; // wei per minute
        bool registered;
        address app; // the application it serves, or 0
        string description;
    }

    struct Reservation {
        address client;
        bytes32 toscaHash;
        uint256 expiry;
        bytes32 salt;
    }

    address public immutable registry;
    address public immutable provider; // Plug&Play's account; paid the cloud price
    address public scheduler; // the key that signs reservations
    uint256 public price; // wei per minute
    string public schedulerUrl;
    string public plugUrl;

    mapping(bytes32 => Resource) private resources;
    bytes32[] private resourceIds;
    mapping(bytes32 => bool) public saltUsed;
    mapping(address => bool) public isApplication;
    address[] private applications;

    event ResourceRegistered(bytes32 indexed id, address indexed owner, uint256 price);
    event ResourceDeregistered(bytes32 indexed id);
    event ApplicationDeployed(address indexed app, address indexed client, bytes32 toscaHash);
    event ResourcesReleased(address indexed app);

    error NotProvider();
    error NotApplication();
    error Expired(uint256 expiry, uint256 now_);
    error SaltUsed(bytes32 salt);
    error BadSignature(address signer);
    error NotClient();
    error UnknownResource(bytes32 id);
    error ResourceBusy(bytes32 id, address app);
    error BadServices();
    error DuplicateResource(bytes32 id);

    modifier onlyProvider() {
        if (msg.sender != provider) revert NotProvider();
        _;
    }

    constructor(
        address registry_,
        address scheduler_,
        uint256 price_,
        string memory schedulerUrl_,
        string memory plugUrl_
    ) EIP712("CatenaCloud", "1") {
        registry = registry_;
        provider = msg.sender;
        scheduler = scheduler_;
        price = price_;
        schedulerUrl = schedulerUrl_;
        plugUrl = plugUrl_;
    }

    // ------------------------------------------------------------ resources (Plug&Play)

    function registerResource(bytes32 id, address owner, uint256 price_, string calldata description)
        external
        onlyProvider
    {
        Resource storage r = resources[id];
        if (r.registered || r.app != address(0)) revert DuplicateResource(id);
        if (r.owner == address(0)) resourceIds.push(id);
        r.owner = owner;
        r.price = price_;
        r.registered = true;
        r.description = description;
        emit ResourceRegistered(id, owner, price_);
    }

    /// Plug&Play removes a resource it can no longer reach. An application
    /// already running on it keeps its record; new reservations naming it
    /// fail.
    function deregisterResource(bytes32 id) external onlyProvider {
        Resource storage r = resources[id];
        if (!r.registered) revert UnknownResource(id);
        r.registered = false;
        emit ResourceDeregistered(id);
    }

    function resource(bytes32 id) external view returns (Resource memory) {
        return resources[id];
    }

    function resourceList() external view returns (bytes32[] memory) {
        return resourceIds;
    }

    // ------------------------------------------------------------ instantiation

    function reservationDigest(Reservation calldata r, string[] calldata services, bytes32[] calldata res)
        public
        view
        returns (bytes32)
    {
        bytes32 servicesHash = keccak256(abi.encode(services, res));
        return _hashTypedDataV4(
            keccak256(abi.encode(RESERVATION_TYPEHASH, r.client, r.toscaHash, servicesHash, r.expiry, r.salt))
        );
    }

    /// Deploys the Application for a reservation the Scheduler signed, with
    /// msg.value as the client's deposit. services[i] runs on res[i].
    function instantiate(
        Reservation calldata r,
        string[] calldata services,
        bytes32[] calldata res,
        bytes calldata signature,
        uint32 retries,
        uint32 okInterval
    ) external payable returns (address app) {
        if (msg.sender != r.client) revert NotClient();
        if (block.timestamp > r.expiry) revert Expired(r.expiry, block.timestamp);
        if (saltUsed[r.salt]) revert SaltUsed(r.salt);
        if (services.length == 0 || services.length != res.length) revert BadServices();
        address signer = ECDSA.recover(reservationDigest(r, services, res), signature);
        if (signer != scheduler) revert BadSignature(signer);
        saltUsed[r.salt] = true;
        Application.Service[] memory list = new Application.Service[](services.length);
        for (uint256 i = 0; i < res.length; i++) {
            Resource storage x = resources[res[i]];
            if (!x.registered) revert UnknownResource(res[i]);
            if (x.app == address(1)) revert DuplicateResource(res[i]);
            if (x.app != address(0)) revert ResourceBusy(res[i], x.app);
            x.app = address(1); // taken for this call: a repeated id fails above
            list[i] = Application.Service(services[i], res[i], x.owner, x.price);
        }
        Application a = new Application{value: msg.value}(
            registry, msg.sender, r.toscaHash, provider, price, list, retries, okInterval
        );
        app = address(a);
        for (uint256 i = 0; i < res.length; i++) {
            resources[res[i]].app = app;
        }
        isApplication[app] = true;
        applications.push(app);
        emit ApplicationDeployed(app, msg.sender, r.toscaHash);
    }

    /// Called by an Application on APP_SHUTDOWN: its resources serve others.
    function release(bytes32[] calldata res) external {
        if (!isApplication[msg.sender]) revert NotApplication();
        for (uint256 i = 0; i < res.length; i++) {
            Resource storage x = resources[res[i]];
            if (x.app == msg.sender) x.app = address(0);
        }
        emit ResourcesReleased(msg.sender);
    }

    function applicationList() external view returns (address[] memory) {
        return applications;
    }
}
