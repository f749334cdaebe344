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
// Both sides are paid by withdrawal (pull payments). Not built yet: the
// other kinds of Table 4.2 (time-limited usage, division of income,
// consensus decision, constraints) and the SLA refund from the Federation
// ledger's availability record.
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

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

    event Accepted(address indexed user, uint256 deposit, uint256 startedAt);
    event Settled(uint256 usedSeconds, uint256 charge, uint256 refund);
    event Withdrawn(address indexed payee, uint256 amount);

    error BadTerms();
    error WrongState(State state);
    error WrongDeposit(uint256 sent, uint256 price);
    error NotUser();
    error ProviderCannotAccept();
    error StillRunning(uint256 endsAt);
    error NothingToWithdraw();
    error TransferFailed();

    Kind public immutable kind;
    address public immutable provider;
    uint256 public immutable price; // wei for the whole maximum period
    uint256 public immutable maxSeconds;
    uint256 public immutable minimum; // FLEXIBLE: charged at least this

    address public user;
    State public state;
    uint256 public startedAt;
    uint256 public endedAt;
    uint256 public charged; // to the provider at settlement
    uint256 public refunded; // to the user at settlement
    mapping(address => uint256) public owed; // settled, not yet withdrawn

    constructor(Kind kind_, uint256 price_, uint256 maxSeconds_, uint256 minimum_) {
        if (price_ == 0 || maxSeconds_ == 0 || minimum_ > price_) revert BadTerms();
        if (kind_ != Kind.FLEXIBLE && minimum_ != 0) revert BadTerms();
        kind = kind_;
        provider = msg.sender;
        price = price_;
        maxSeconds = maxSeconds_;
        minimum = minimum_;
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

    /// Seconds used so far (or in all, once settled).
    function secondsUsed() external view returns (uint256) {
        if (state == State.OFFERED) return 0;
        if (state == State.SETTLED) return endedAt - startedAt;
        uint256 end = block.timestamp < endsAt() ? block.timestamp : endsAt();
        return end - startedAt;
    }
}
