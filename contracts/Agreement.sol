// SPDX-License-Identifier: Apache-2.0
// A monetization agreement of seed 004 (section 4, Table 4.2; section 6,
// Algorithm 6.1) between a provider, who offers it ("set price by
// owner": the constructor), and a user, who signs it by paying the price
// of the whole maximum period (accept). The session starts then and ends
// when the user stops it or, at the latest, when the maximum period is
// over (then anyone may settle: the keeper). Settling charges:
//   FIXED     the whole price, whatever was used;
//   DYNAMIC   price * used seconds / maximum seconds (block timestamps),
//             the rest returned to the user (Algorithm 6.1's lock and
//             the pro-rata unlocking);
//   FLEXIBLE  as DYNAMIC, but at least the minimum charge for keeping the
//             service ready over the user's period.
// Both sides are paid by withdrawal (pull payments).
//
// SLA (section 6): an offer may name a Federation ledger and a percentage.
// The provider then binds the VC serving the session (bindService, with
// the session URL) and the charge is void, everything refunded, when that
// VC's availability from binding to the end of the session, as the
// Federation records it in block time, is below the percentage; a session
// never bound is refunded too (nothing was delivered).
//
// Constraints (Table 4.2, constraint based): pairs (key, value) that the
// host DC of the serving VC must satisfy by its attributes on the same
// Federation ledger: for every key, its attribute equals one of the values
// given for that key (gdpr=true; region=eu-west or region=eu-central).
// bindService refuses a VC on a DC that does not satisfy them.
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Federation} from "./Federation.sol";

contract Agreement is ReentrancyGuard {
    enum Kind {
        FIXED,
        DYNAMIC,
        FLEXIBLE
    }

    enum State {
        OFFERED,
        ACTIVE,
        SETTLED
    }

    /// Every agreement contract emits it once, when offered, so that all
    /// of them can be listed by one topic (the gateway's /api/agreements).
    event AgreementCreated(address indexed provider);
    event Accepted(address indexed user, uint256 deposit, uint256 startedAt);
    event ServiceBound(bytes32 indexed vcTag, string url, uint256 boundAt);
    event Settled(uint256 usedSeconds, uint256 charge, uint256 refund);
    event SlaBreached(uint256 upSeconds, uint256 windowSeconds);
    event Withdrawn(address indexed payee, uint256 amount);

    error BadTerms();
    error WrongState(State state);
    error WrongDeposit(uint256 sent, uint256 price);
    error NotUser();
    error ProviderCannotAccept();
    error StillRunning(uint256 endsAt);
    error NothingToWithdraw();
    error TransferFailed();
    error NotProvider();
    error NoSla();
    error AlreadyBound();
    error VcUnavailable(bytes32 vcTag);
    error ConstraintsNotMet(address datacenter);

    Kind public immutable kind;
    address public immutable provider;
    uint256 public immutable price; // wei for the whole maximum period
    uint256 public immutable maxSeconds;
    uint256 public immutable minimum; // FLEXIBLE: charged at least this
    Federation public immutable federation; // zero: no SLA
    uint256 public immutable slaPercent; // availability owed, 1..100 (0: no SLA)

    address public user;
    State public state;
    uint256 public startedAt;
    uint256 public endedAt;
    uint256 public charged; // to the provider at settlement
    uint256 public refunded; // to the user at settlement
    mapping(address => uint256) public owed; // settled, not yet withdrawn

    string[] private constraintKeys;
    string[] private constraintValues;

    bytes32 public vcTag; // the VC serving the session, once bound
    string public sessionUrl;
    uint256 public boundAt;
    uint256 public downAtBind; // the VC's downtimeAt(boundAt)

    constructor(
        Kind kind_,
        uint256 price_,
        uint256 maxSeconds_,
        uint256 minimum_,
        Federation federation_,
        uint256 slaPercent_,
        string[] memory constraintKeys_,
        string[] memory constraintValues_
    ) {
        if (price_ == 0 || maxSeconds_ == 0 || minimum_ > price_) revert BadTerms();
        if (kind_ != Kind.FLEXIBLE && minimum_ != 0) revert BadTerms();
        if (slaPercent_ > 100 || (slaPercent_ != 0) != (address(federation_) != address(0))) {
            revert BadTerms();
        }
        if (constraintKeys_.length != constraintValues_.length || constraintKeys_.length > 16) {
            revert BadTerms();
        }
        if (constraintKeys_.length != 0 && slaPercent_ == 0) revert BadTerms(); // checked on the ledger
        for (uint256 i = 0; i < constraintKeys_.length; i++) {
            if (bytes(constraintKeys_[i]).length == 0) revert BadTerms();
        }
        constraintKeys = constraintKeys_;
        constraintValues = constraintValues_;
        kind = kind_;
        provider = msg.sender;
        price = price_;
        maxSeconds = maxSeconds_;
        minimum = minimum_;
        federation = federation_;
        slaPercent = slaPercent_;
        emit AgreementCreated(msg.sender);
    }

    /// The user signs by paying exactly the price; the session starts.
    function accept() external payable {
        if (state != State.OFFERED) revert WrongState(state);
        if (msg.sender == provider) revert ProviderCannotAccept();
        if (msg.value != price) revert WrongDeposit(msg.value, price);
        user = msg.sender;
        state = State.ACTIVE;
        startedAt = block.timestamp;
        emit Accepted(msg.sender, msg.value, block.timestamp);
    }

    /// When the session ends at the latest.
    function endsAt() public view returns (uint256) {
        return startedAt + maxSeconds;
    }

    /// The user stops the session (now, or at its end if that is past).
    function stop() external {
        if (state != State.ACTIVE) revert WrongState(state);
        if (msg.sender != user) revert NotUser();
        _settle(block.timestamp < endsAt() ? block.timestamp : endsAt());
    }

    /// After the maximum period anyone may settle (the keeper does).
    function settle() external {
        if (state != State.ACTIVE) revert WrongState(state);
        if (block.timestamp < endsAt()) revert StillRunning(endsAt());
        _settle(endsAt());
    }

    /// The provider names the VC serving the session (registered, available
    /// and not retired on the Federation ledger) and the session's URL.
    function bindService(bytes32 vcTag_, string calldata url) external {
        if (msg.sender != provider) revert NotProvider();
        if (state != State.ACTIVE || block.timestamp >= endsAt()) revert WrongState(state);
        if (slaPercent == 0) revert NoSla();
        if (boundAt != 0) revert AlreadyBound();
        Federation.Container memory c = federation.container(vcTag_);
        if (c.host == address(0) || c.retired || !c.available) revert VcUnavailable(vcTag_);
        if (!satisfiedBy(c.host)) revert ConstraintsNotMet(c.host);
        vcTag = vcTag_;
        sessionUrl = url;
        boundAt = block.timestamp;
        downAtBind = federation.downtimeAt(vcTag_, block.timestamp);
        emit ServiceBound(vcTag_, url, block.timestamp);
    }

    /// The offer's constraints, as pairs.
    function constraints() external view returns (string[] memory keys, string[] memory values) {
        return (constraintKeys, constraintValues);
    }

    /// Whether the DC's attributes on the ledger satisfy the constraints:
    /// for every key, the attribute is one of the values given for it.
    function satisfiedBy(address datacenter) public view returns (bool) {
        uint256 n = constraintKeys.length;
        for (uint256 i = 0; i < n; i++) {
            bytes32 key = keccak256(bytes(constraintKeys[i]));
            bytes32 have = keccak256(bytes(federation.attribute(datacenter, constraintKeys[i])));
            bool ok = false;
            for (uint256 j = 0; j < n && !ok; j++) {
                ok = keccak256(bytes(constraintKeys[j])) == key
                    && keccak256(bytes(constraintValues[j])) == have;
            }
            if (!ok) return false;
        }
        return true;
    }

    /// Seconds the serving VC was up, and the seconds from binding to `end`
    /// (both 0 when not bound).
    function uptime(uint256 end) public view returns (uint256 up, uint256 window) {
        if (boundAt == 0 || end <= boundAt) return (0, 0);
        window = end - boundAt;
        uint256 down = federation.downtimeAt(vcTag, end) - downAtBind;
        up = down < window ? window - down : 0;
    }

    /// Whether the session ending at `end` met its SLA (true without one).
    function slaMet(uint256 end) public view returns (bool) {
        if (slaPercent == 0) return true;
        if (boundAt == 0) return false;
        (uint256 up, uint256 window) = uptime(end);
        return up * 100 >= slaPercent * window;
    }

    /// What a session of `used` seconds costs under these terms.
    function chargeFor(uint256 used) public view returns (uint256) {
        if (used > maxSeconds) used = maxSeconds;
        if (kind == Kind.FIXED) return price;
        uint256 c = price * used / maxSeconds;
        if (kind == Kind.FLEXIBLE && c < minimum) c = minimum;
        return c;
    }

    function _settle(uint256 end) private {
        uint256 used = end - startedAt;
        uint256 c = chargeFor(used);
        if (!slaMet(end)) {
            (uint256 up, uint256 window) = uptime(end);
            emit SlaBreached(up, window);
            c = 0;
        }
        endedAt = end;
        state = State.SETTLED;
        charged = c;
        refunded = price - c;
        owed[provider] += c;
        owed[user] += price - c;
        emit Settled(used, c, price - c);
    }

    /// Pull payment of what settlement owes the caller.
    function withdraw() external nonReentrant {
        uint256 amount = owed[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        owed[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
        emit Withdrawn(msg.sender, amount);
    }

    /// The serving VC's availability in percent (floor) from binding to
    /// the end of the session or now; 100 before anything can be measured.
    function availabilityPercent() external view returns (uint256) {
        uint256 end = state == State.SETTLED ? endedAt : block.timestamp;
        if (state == State.ACTIVE && end > endsAt()) end = endsAt();
        (uint256 up, uint256 window) = uptime(end);
        return window == 0 ? 100 : up * 100 / window;
    }

    /// Seconds used so far (or in all, once settled).
    function secondsUsed() external view returns (uint256) {
        if (state == State.OFFERED) return 0;
        if (state == State.SETTLED) return endedAt - startedAt;
        uint256 end = block.timestamp < endsAt() ? block.timestamp : endsAt();
        return end - startedAt;
    }
}
