// SPDX-License-Identifier: Apache-2.0
// The federation ledger of seed 000 (CATALYST VCG): data centres, virtual
// containers (VC tags), availability, migrations between DCs and retirement.
// Every change emits an event whose VC tag and DC addresses are indexed, so
// a VC's history is one topic filter away.
pragma solidity ^0.8.24;

contract Federation {
    struct Flavor {
        uint32 vcpu;  // virtual CPUs
        uint32 vram;  // MB
        uint32 vdisk; // GB
    }

    struct Container {
        string vcType; // "openstack:vm", "docker:container"
        Flavor flavor;
        string id; // current id at the host (OpenStack UUID, container id)
        string ipAddress;
        string controller;
        address host;  // DC currently running it
        address owner; // DC that registered it
        uint64 created; // Unix seconds, as the registering DC reported
        uint64 updated; // block time of the last change
        bool available;
        bool retired;
    }

    struct Migration {
        address from;
        address to;
        uint256 price;
        uint256 invoice;
        uint64 timestamp;
    }

    /// Input of registerContainers (batch registration).
    struct ContainerInput {
        string vcType;
        bool available;
        uint32 vcpu;
        uint32 vram;
        uint32 vdisk;
        string id;
        string ipAddress;
        string controller;
        uint256 created;
    }

    address public immutable admin;
    /// Dev mode: any wallet may register a DC. Consortium mode: the admin
    /// admits a wallet first.
    bool public immutable openRegistration;

    mapping(address => string) private dcName;
    mapping(address => bool) public admitted;
    mapping(bytes32 => address) public datacenterByName; // keccak256(name)
    mapping(bytes32 => Container) private containers;
    mapping(bytes32 => Migration) private pending;
    uint256 public datacenterCount;
    uint256 public containerCount;

    event DatacenterAdmitted(address indexed wallet);
    event DatacenterRegistered(address indexed wallet, string name, uint256 timestamp);
    event ContainerRegistered(
        bytes32 indexed vcTag,
        uint256 timestamp,
        address indexed owner,
        string vcType,
        string id,
        string ipAddress,
        string controller,
        uint32 vcpu,
        uint32 vram,
        uint32 vdisk,
        bool available
    );
    event ContainerAvailabilityChanged(
        bytes32 indexed vcTag, address indexed host, bool available, uint256 timestamp
    );
    event ContainerMigrationPending(
        bytes32 indexed vcTag,
        address indexed from,
        address indexed to,
        uint256 price,
        uint256 invoice,
        uint256 timestamp
    );
    event ContainerMigrated(
        bytes32 indexed vcTag,
        address indexed from,
        address indexed to,
        string id,
        string ipAddress,
        string controller,
        uint256 price,
        uint256 invoice,
        uint256 timestamp
    );
    event ContainerRetired(bytes32 indexed vcTag, address indexed host, uint256 timestamp);

    constructor(bool open) {
        admin = msg.sender;
        openRegistration = open;
    }

    modifier onlyDatacenter() {
        require(bytes(dcName[msg.sender]).length != 0, "caller is not a registered datacenter");
        _;
    }

    modifier onlyHost(bytes32 vcTag) {
        Container storage c = containers[vcTag];
        require(c.host != address(0), "unknown VC tag");
        require(!c.retired, "VC is retired");
        require(c.host == msg.sender, "caller is not the host datacenter");
        _;
    }

    // ------------------------------------------------------------ datacenters

    function admitDatacenter(address wallet) external {
        require(msg.sender == admin, "only the federation admin admits datacenters");
        require(wallet != address(0), "zero wallet");
        admitted[wallet] = true;
        emit DatacenterAdmitted(wallet);
    }

    function registerDatacenter(string calldata name) external {
        require(bytes(name).length != 0 && bytes(name).length <= 64, "name must be 1 to 64 bytes");
        require(openRegistration || admitted[msg.sender], "wallet not admitted to the federation");
        require(bytes(dcName[msg.sender]).length == 0, "datacenter already registered");
        bytes32 key = keccak256(bytes(name));
        require(datacenterByName[key] == address(0), "datacenter name taken");
        dcName[msg.sender] = name;
        datacenterByName[key] = msg.sender;
        datacenterCount++;
        emit DatacenterRegistered(msg.sender, name, block.timestamp);
    }

    function datacenter(address wallet) external view returns (string memory name, bool registered) {
        name = dcName[wallet];
        registered = bytes(name).length != 0;
    }

    // ------------------------------------------------------------ containers

    function vcTagOf(string memory vcType, string memory id, address owner, uint256 created)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(vcType, id, owner, created));
    }

    function registerContainer(
        string calldata vcType,
        bool available,
        uint32 vcpu,
        uint32 vram,
        uint32 vdisk,
        string calldata id,
        string calldata ipAddress,
        string calldata controller,
        uint256 created
    ) external onlyDatacenter returns (bytes32) {
        return _register(
            ContainerInput(vcType, available, vcpu, vram, vdisk, id, ipAddress, controller, created)
        );
    }

    /// Registers many VCs in one transaction, for throughput.
    function registerContainers(ContainerInput[] calldata vcs) external onlyDatacenter {
        for (uint256 i = 0; i < vcs.length; i++) {
            _register(vcs[i]);
        }
    }

    function _register(ContainerInput memory v) private returns (bytes32 vcTag) {
        require(bytes(v.vcType).length != 0, "vcType is empty");
        require(bytes(v.id).length != 0, "id is empty");
        require(v.created <= type(uint64).max, "created out of range");
        vcTag = vcTagOf(v.vcType, v.id, msg.sender, v.created);
        require(containers[vcTag].host == address(0), "VC already registered");
        Container storage c = containers[vcTag];
        c.vcType = v.vcType;
        c.flavor = Flavor(v.vcpu, v.vram, v.vdisk);
        c.id = v.id;
        c.ipAddress = v.ipAddress;
        c.controller = v.controller;
        c.host = msg.sender;
        c.owner = msg.sender;
        c.created = uint64(v.created);
        c.updated = uint64(block.timestamp);
        c.available = v.available;
        containerCount++;
        emit ContainerRegistered(
            vcTag, v.created, msg.sender, v.vcType, v.id, v.ipAddress, v.controller, v.vcpu,
            v.vram, v.vdisk, v.available
        );
    }

    function changeAvailability(bytes32 vcTag, bool available, uint256 timestamp)
        external
        onlyHost(vcTag)
    {
        Container storage c = containers[vcTag];
        c.available = available;
        c.updated = uint64(block.timestamp);
        emit ContainerAvailabilityChanged(vcTag, msg.sender, available, timestamp);
    }

    /// The host records the intent to move a VC to another registered DC
    /// at an agreed price and invoice.
    function migrationPending(
        bytes32 vcTag,
        address to,
        uint256 price,
        uint256 invoice,
        uint256 timestamp
    ) external onlyHost(vcTag) {
        require(bytes(dcName[to]).length != 0, "target is not a registered datacenter");
        require(to != msg.sender, "target is the host itself");
        require(timestamp <= type(uint64).max, "timestamp out of range");
        pending[vcTag] = Migration(msg.sender, to, price, invoice, uint64(timestamp));
        emit ContainerMigrationPending(vcTag, msg.sender, to, price, invoice, timestamp);
    }

    /// The target confirms the migration with the VC's new id, address and
    /// controller; it becomes the host.
    function migrateContainer(
        bytes32 vcTag,
        string calldata id,
        string calldata ipAddress,
        string calldata controller,
        uint256 price,
        uint256 invoice,
        uint256 timestamp
    ) external {
        Migration memory m = pending[vcTag];
        require(m.to != address(0), "no pending migration for this VC");
        require(m.to == msg.sender, "caller is not the migration target");
        require(m.price == price && m.invoice == invoice, "price or invoice does not match");
        require(bytes(id).length != 0, "id is empty");
        Container storage c = containers[vcTag];
        require(!c.retired, "VC is retired");
        delete pending[vcTag];
        c.id = id;
        c.ipAddress = ipAddress;
        c.controller = controller;
        c.host = msg.sender;
        c.updated = uint64(block.timestamp);
        emit ContainerMigrated(
            vcTag, m.from, msg.sender, id, ipAddress, controller, price, invoice, timestamp
        );
    }

    /// The host retires a VC whose load was deleted; its history stays.
    function retireContainer(bytes32 vcTag, uint256 timestamp) external onlyHost(vcTag) {
        Container storage c = containers[vcTag];
        c.retired = true;
        c.available = false;
        c.updated = uint64(block.timestamp);
        delete pending[vcTag];
        emit ContainerRetired(vcTag, msg.sender, timestamp);
    }

    function container(bytes32 vcTag) external view returns (Container memory) {
        return containers[vcTag];
    }

    function pendingMigration(bytes32 vcTag) external view returns (Migration memory) {
        return pending[vcTag];
    }
}
