// SPDX-License-Identifier: Apache-2.0
// The federation ledger of seed 000 (CATALYST VCG): data centres, virtual
// containers (VC tags), availability, migrations between DCs and retirement.
// Every change emits an event whose VC tag and DC addresses are indexed, so
// a VC's history is one topic filter away.
pragma solidity ^0.8.24;

contract Federation {
    /// What the contract itself must know about a VC to check later calls,
    /// packed into one storage slot (20 + 8 + 1 + 1 bytes). The VC's
    /// details (type, flavour, id, address, controller) live in the events,
    /// which are as permanent as storage and cost a fraction of its gas:
    /// storing the strings cost about 193k gas per VC, this slot 22k.
    struct Container {
        address host;   // DC currently running it
        uint64 created; // Unix seconds, as the registering DC reported
        bool available;
        bool retired;
    }

    /// A migration intent: the target and a hash of the agreed terms.
    struct Migration {
        address to;
        uint64 timestamp;
        bytes32 terms; // keccak256(abi.encode(price, invoice))
    }

    /// A change of a VC's availability in block time (never the host's
    /// word for when it happened): `total` seconds down before `since`,
    /// down or up from `since` on. One per change, so the seconds a VC was
    /// down up to any past moment are exact (downtimeAt), for example over
    /// an agreement's session (seed 004's SLA refund).
    struct Downtime {
        uint64 since;
        uint64 total;
        bool down;
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
    mapping(bytes32 => Downtime[]) private downtimes;
    /// What a DC declares about itself (region, country, gdpr, ...), for
    /// agreements' constraints (seed 004): its keys in order, and values.
    mapping(address => string[]) private attributeKeys;
    mapping(address => mapping(bytes32 => string)) private attributeValues;

    uint256 public constant MAX_ATTRIBUTES = 16;
    uint256 public datacenterCount;
    uint256 public containerCount;

    event DatacenterAdmitted(address indexed wallet);
    event DatacenterRegistered(address indexed wallet, string name, uint256 timestamp);
    event DatacenterAttributes(address indexed wallet, string[] keys, string[] values);
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

    /// A registered DC declares its attributes, replacing what it declared
    /// before: keys of 1 to 32 bytes, none twice, values of at most 64
    /// bytes, at most MAX_ATTRIBUTES. Every declaration stays in the events.
    function setDatacenterAttributes(string[] calldata keys, string[] calldata values)
        external
        onlyDatacenter
    {
        require(keys.length == values.length, "keys and values differ in number");
        require(keys.length <= MAX_ATTRIBUTES, "too many attributes");
        string[] storage old = attributeKeys[msg.sender];
        for (uint256 i = 0; i < old.length; i++) {
            delete attributeValues[msg.sender][keccak256(bytes(old[i]))];
        }
        delete attributeKeys[msg.sender];
        for (uint256 i = 0; i < keys.length; i++) {
            bytes32 k = keccak256(bytes(keys[i]));
            require(bytes(keys[i]).length != 0 && bytes(keys[i]).length <= 32, "key must be 1 to 32 bytes");
            require(bytes(values[i]).length <= 64, "value longer than 64 bytes");
            for (uint256 j = 0; j < i; j++) {
                require(keccak256(bytes(keys[j])) != k, "key given twice");
            }
            attributeKeys[msg.sender].push(keys[i]);
            attributeValues[msg.sender][k] = values[i];
        }
        emit DatacenterAttributes(msg.sender, keys, values);
    }

    /// The DC's attribute called key ("" when it declared none).
    function attribute(address wallet, string calldata key) external view returns (string memory) {
        return attributeValues[wallet][keccak256(bytes(key))];
    }

    /// Everything the DC declared, in its order.
    function attributes(address wallet)
        external
        view
        returns (string[] memory keys, string[] memory values)
    {
        keys = attributeKeys[wallet];
        values = new string[](keys.length);
        for (uint256 i = 0; i < keys.length; i++) {
            values[i] = attributeValues[wallet][keccak256(bytes(keys[i]))];
        }
    }

    // ------------------------------------------------------------ containers

    function vcTagOf(string memory vcType, string memory id, address owner, uint256 created)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(vcType, id, owner, created));
    }

    /// Registers one VC. Its arguments lie in the calldata exactly as one
    /// ContainerInput of registerContainers does (from byte 4), so both
    /// functions share _registerAt.
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
    ) external onlyDatacenter returns (bytes32 vcTag) {
        // The compiler has decoded (and so checked) the arguments already;
        // _registerAt reads them from the calldata itself.
        assembly ("memory-safe") {
            pop(vcType.offset) pop(available) pop(vcpu) pop(vram) pop(vdisk)
            pop(id.offset) pop(ipAddress.offset) pop(controller.offset) pop(created)
        }
        containerCount++;
        vcTag = _registerAt(4);
    }

    /// Registers many VCs in one transaction, for throughput.
    function registerContainers(ContainerInput[] calldata vcs) external onlyDatacenter {
        containerCount += vcs.length;
        for (uint256 i = 0; i < vcs.length; i++) {
            uint256 tuple;
            assembly ("memory-safe") {
                let rel := calldataload(add(vcs.offset, shl(5, i)))
                tuple := add(vcs.offset, rel)
                if gt(rel, 0xffffffff) {
                    tuple := calldatasize() // out of bounds: refused as malformed
                }
            }
            _registerAt(tuple);
        }
    }

    /// Registers the VC whose ContainerInput tuple starts at calldata offset
    /// v: checks, storage and the ContainerRegistered event, in assembly.
    /// The compiler's generic decoding and encoding took about 845 EVM steps
    /// a VC, this 565, and Hardhat, which traces every step, spends its time
    /// per step (a 200-VC batch mined in 25-35 ms instead of 75-100). Every
    /// calldata offset and length is bounds-checked and every value
    /// range-checked as the ABI decoder would, and the event data is built
    /// word by word, so it is canonical ABI whatever the input
    /// (tests/integration/ledger decodes it and checks the refusals).
    function _registerAt(uint256 v) private returns (bytes32 tag) {
        bytes32 topic = ContainerRegistered.selector;
        uint256 failure;
        assembly ("memory-safe") {
            // Copies string field `word` of the tuple at v (calldata) to
            // m + o as ABI encodes it (length, bytes, zero padding).
            // Returns: the offset after it, or 0 if the field points or
            // reaches outside the calldata.
            function put(m, o, v_, word, end) -> next {
                let rel := calldataload(add(v_, word))
                let src := add(v_, rel)
                let len := calldataload(src)
                if or(or(gt(rel, 0xffffffff), gt(len, 0xffffffff)), gt(add(add(src, 0x20), len), end)) {
                    leave
                }
                let dst := add(m, o)
                mstore(dst, len)
                let padded := and(add(len, 31), not(31))
                mstore(add(dst, padded), 0) // the last word: zeros after the bytes
                calldatacopy(add(dst, 0x20), add(src, 0x20), len)
                next := add(o, add(0x20, padded))
            }
            // Copies n bytes from s to d by whole words (MCOPY is Cancun's,
            // and the contracts target London: docs/CHAIN.md). It may
            // write up to 31 bytes past d + n; callers write over them.
            function copy(d, s, n) {
                for { let i := 0 } lt(i, n) { i := add(i, 0x20) } {
                    mstore(add(d, i), mload(add(s, i)))
                }
            }
            // Memory past the free pointer, used and given back: the event
            // data abi.encode(timestamp, vcType, id, ipAddress, controller,
            // vcpu, vram, vdisk, available), then the tag's preimage.
            function reg(v_, m, end, topic_) -> fail, vcTag {
                let available := calldataload(add(v_, 0x20))
                if or(gt(add(v_, 0x120), end), gt(available, 1)) {
                    fail := 1
                    leave
                }
                let vcpu := calldataload(add(v_, 0x40))
                let vram := calldataload(add(v_, 0x60))
                let vdisk := calldataload(add(v_, 0x80))
                if gt(or(or(vcpu, vram), vdisk), 0xffffffff) {
                    fail := 1
                    leave
                }
                let created := calldataload(add(v_, 0x100))
                mstore(m, created)
                mstore(add(m, 0xa0), vcpu)
                mstore(add(m, 0xc0), vram)
                mstore(add(m, 0xe0), vdisk)
                mstore(add(m, 0x100), available)
                mstore(add(m, 0x20), 0x120)
                let o := put(m, 0x120, v_, 0x00, end)
                mstore(add(m, 0x40), o)
                if o {
                    o := put(m, o, v_, 0xa0, end)
                }
                mstore(add(m, 0x60), o)
                if o {
                    o := put(m, o, v_, 0xc0, end)
                }
                mstore(add(m, 0x80), o)
                if o {
                    o := put(m, o, v_, 0xe0, end)
                }
                if iszero(o) {
                    fail := 1
                    leave
                }
                let tLen := mload(add(m, 0x120))
                let idAt := add(m, mload(add(m, 0x40)))
                let iLen := mload(idAt)
                if iszero(tLen) {
                    fail := 2
                    leave
                }
                if iszero(iLen) {
                    fail := 3
                    leave
                }
                if gt(created, 0xffffffffffffffff) {
                    fail := 4
                    leave
                }
                // vcTag = keccak256(abi.encodePacked(vcType, id, msg.sender, created))
                let p := add(m, o)
                // The id's copy covers what the type's wrote past its end,
                // and the stores at q what the id's did.
                copy(p, add(m, 0x140), tLen)
                copy(add(p, tLen), add(idAt, 0x20), iLen)
                let q := add(p, add(tLen, iLen))
                mstore(q, shl(96, caller()))
                mstore(add(q, 0x14), created)
                vcTag := keccak256(p, add(sub(q, p), 0x34))
                mstore(0x00, vcTag)
                mstore(0x20, containers.slot)
                let slot := keccak256(0x00, 0x40)
                if sload(slot) {
                    fail := 5
                    leave
                }
                // Container(host, created, available, retired = false)
                sstore(slot, or(caller(), or(shl(160, created), shl(224, available))))
                log3(m, o, topic_, vcTag, caller())
            }
            failure, tag := reg(v, mload(0x40), calldatasize(), topic)
        }
        if (failure != 0) {
            _refuse(failure);
        }
    }

    function _refuse(uint256 failure) private pure {
        require(failure != 1, "malformed VC input");
        require(failure != 2, "vcType is empty");
        require(failure != 3, "id is empty");
        require(failure != 4, "created out of range");
        revert("VC already registered");
    }

    function changeAvailability(bytes32 vcTag, bool available, uint256 timestamp)
        external
        onlyHost(vcTag)
    {
        containers[vcTag].available = available;
        _recordAvailability(vcTag, available);
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
        pending[vcTag] = Migration(to, uint64(timestamp), keccak256(abi.encode(price, invoice)));
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
        require(m.terms == keccak256(abi.encode(price, invoice)), "price or invoice does not match");
        require(bytes(id).length != 0, "id is empty");
        Container storage c = containers[vcTag];
        require(!c.retired, "VC is retired");
        address from = c.host;
        delete pending[vcTag];
        c.host = msg.sender;
        emit ContainerMigrated(
            vcTag, from, msg.sender, id, ipAddress, controller, price, invoice, timestamp
        );
    }

    /// The host retires a VC whose load was deleted; its history stays.
    function retireContainer(bytes32 vcTag, uint256 timestamp) external onlyHost(vcTag) {
        Container storage c = containers[vcTag];
        c.retired = true;
        c.available = false;
        _recordAvailability(vcTag, false);
        delete pending[vcTag];
        emit ContainerRetired(vcTag, msg.sender, timestamp);
    }

    /// Appends a checkpoint when the VC goes down or comes back (a VC is
    /// counted up until its first checkpoint: registered unavailable and
    /// never changed, it has none).
    function _recordAvailability(bytes32 vcTag, bool available) private {
        Downtime[] storage d = downtimes[vcTag];
        uint256 n = d.length;
        uint64 now_ = uint64(block.timestamp);
        if (n == 0) {
            if (!available) d.push(Downtime(now_, 0, true));
            return;
        }
        Downtime storage last = d[n - 1];
        if (last.down != available) return; // no change
        uint64 total = last.total + (last.down ? now_ - last.since : 0);
        if (last.since == now_) {
            last.down = !available; // twice in one block: the last state holds
        } else {
            d.push(Downtime(now_, total, !available));
        }
    }

    /// Seconds the VC was recorded unavailable from its first change up to
    /// block time t (t in the future: as if nothing changes until then).
    function downtimeAt(bytes32 vcTag, uint256 t) public view returns (uint256) {
        Downtime[] storage d = downtimes[vcTag];
        uint256 lo = 0;
        uint256 hi = d.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (d[mid].since <= t) lo = mid + 1;
            else hi = mid;
        }
        if (lo == 0) return 0;
        Downtime storage c = d[lo - 1];
        return c.total + (c.down ? t - c.since : 0);
    }

    /// The VC's availability checkpoints, oldest first.
    function downtimeRecord(bytes32 vcTag) external view returns (Downtime[] memory) {
        return downtimes[vcTag];
    }

    function container(bytes32 vcTag) external view returns (Container memory) {
        return containers[vcTag];
    }

    function pendingMigration(bytes32 vcTag) external view returns (Migration memory) {
        return pending[vcTag];
    }
}
