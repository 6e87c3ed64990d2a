// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title Epoch rewards claimed by Merkle proof (the MerkleDistributor pattern, one root per closed epoch).
/// @notice The router posts each closed epoch's root with the hash of its report. The owner may veto a root
/// during the challenge window; after it, accounts claim lazily. Leaves are
/// keccak256(abi.encode(index, account, amount, epoch)) (128 bytes, so never an inner node's 64), sorted-pair
/// trees (OpenZeppelin); `index` numbers an epoch's leaves from 0 and picks the leaf's claim bit.
contract EpochRewards is AccessControl {
    using SafeERC20 for IERC20;

    bytes32 public constant ROUTER_ROLE = keccak256("ROUTER_ROLE");

    /// The view of a posted epoch (`epochRoot`).
    struct EpochRoot {
        bytes32 root;
        bytes32 reportHash;
        uint64 postedAt;
        bool vetoed;
        uint128 total;
    }

    /// Storage of an epoch. `state` packs what every claim reads and writes into one slot: bits 0-39 the
    /// posting time, bit 40 the veto, bits 48-255 the claim bits of leaves 0-207. A claim of one of those
    /// leaves touches two slots of this contract (root and state), neither of them fresh.
    struct Epoch {
        bytes32 root;
        uint256 state;
        bytes32 reportHash;
        uint256 total;
    }

    uint256 private constant VETOED = 1 << 40;
    uint256 private constant FIRST_BIT = 48;
    uint256 private constant INLINE_LEAVES = 208;

    error EmptyRoot();
    error EpochAlreadyPosted(uint256 epoch);
    error InsufficientRewardsPool(uint256 available, uint256 total);
    error UnknownEpoch(uint256 epoch);
    error RootNotFinal(uint256 epoch, uint256 finalAt);
    error RootVetoed(uint256 epoch);
    error ChallengeWindowClosed(uint256 epoch);
    error AlreadyClaimed(uint256 epoch, address account);
    error InvalidProof(uint256 epoch, address account, uint256 amount);
    error LengthMismatch();
    error ZeroAmount();

    event RootPosted(uint256 indexed epoch, bytes32 root, bytes32 reportHash, uint256 total);
    event RootVetoedBy(uint256 indexed epoch, address indexed by, bytes32 reason);
    event Claimed(uint256 indexed epoch, address indexed account, uint256 amount);
    event Funded(address indexed from, uint256 amount);

    IERC20 public immutable token;
    uint256 public immutable challengeWindow;

    mapping(uint256 epoch => Epoch) private _epochs;
    /// Claim bits of leaves from 208 on, 256 leaves to a word: only the first claimer of a word pays a fresh slot.
    mapping(uint256 epoch => mapping(uint256 word => uint256 bits)) private _claimedMore;
    /// What the pool was given (the genesis minted to it before it existed, then `fund`), and the sum of the
    /// totals of posted, unvetoed roots. `promised <= funded` holds, so every posted root can be paid; claims
    /// write neither (the pool's balance is `funded - paid`, plus any tokens sent to it by plain transfer,
    /// which back no root).
    uint256 public funded;
    uint256 public promised;

    constructor(IERC20 token_, uint256 challengeWindow_, address admin, address router) {
        token = token_;
        challengeWindow = challengeWindow_;
        funded = token_.balanceOf(address(this));
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ROUTER_ROLE, router);
    }

    /// Adds `amount` of the sender's OMNIT to the pool (needs an allowance).
    function fund(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        funded += amount;
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit Funded(msg.sender, amount);
    }

    /// Posts epoch `epoch`'s root; `total` is what its leaves add up to, and must be covered by the pool.
    function postRoot(uint256 epoch, bytes32 root, bytes32 reportHash, uint256 total) external onlyRole(ROUTER_ROLE) {
        if (root == bytes32(0)) revert EmptyRoot();
        Epoch storage e = _epochs[epoch];
        uint256 state = e.state;
        if (state != 0 && state & VETOED == 0) revert EpochAlreadyPosted(epoch);
        uint256 available = funded - promised;
        if (total > available) revert InsufficientRewardsPool(available, total);
        promised += total;
        // A vetoed root was never final, so nothing of it was claimed: its claim bits are all zero.
        e.root = root;
        e.state = uint40(block.timestamp);
        e.reportHash = reportHash;
        e.total = total;
        emit RootPosted(epoch, root, reportHash, total);
    }

    /// The owner's veto of a root still in its challenge window; the router may post a corrected one.
    function veto(uint256 epoch, bytes32 reason) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Epoch storage e = _epochs[epoch];
        uint256 state = e.state;
        if (state == 0) revert UnknownEpoch(epoch);
        if (state & VETOED != 0) revert RootVetoed(epoch);
        if (block.timestamp >= uint40(state) + challengeWindow) revert ChallengeWindowClosed(epoch);
        e.state = state | VETOED;
        promised -= e.total;
        emit RootVetoedBy(epoch, msg.sender, reason);
    }

    /// Pays `account` its reward for `epoch` (leaf `index`). Anyone may send it; the tokens go to `account`.
    /// No reentrancy guard: the bit is set before the only external call, to the project's own token.
    function claim(uint256 epoch, uint256 index, address account, uint256 amount, bytes32[] calldata proof)
        external
    {
        _claim(epoch, index, account, amount, proof);
        token.safeTransfer(account, amount);
    }

    /// The sender claims its own leaf: as `claim`, with 20 bytes less calldata (about 370 gas).
    function claimOwn(uint256 epoch, uint256 index, uint256 amount, bytes32[] calldata proof) external {
        _claim(epoch, index, msg.sender, amount, proof);
        token.safeTransfer(msg.sender, amount);
    }

    /// Claims several epochs for one account with one transfer.
    function claimMany(
        uint256[] calldata epochs,
        uint256[] calldata indexes,
        address account,
        uint256[] calldata amounts,
        bytes32[][] calldata proofs
    ) external {
        uint256 n = epochs.length;
        if (indexes.length != n || amounts.length != n || proofs.length != n) revert LengthMismatch();
        uint256 sum = 0;
        for (uint256 i = 0; i < n; i++) {
            _claim(epochs[i], indexes[i], account, amounts[i], proofs[i]);
            sum += amounts[i];
        }
        token.safeTransfer(account, sum);
    }

    function _claim(uint256 epoch, uint256 index, address account, uint256 amount, bytes32[] calldata proof)
        private
    {
        Epoch storage e = _epochs[epoch];
        uint256 state = e.state;
        uint256 postedAt = uint40(state);
        if (postedAt == 0) revert UnknownEpoch(epoch);
        if (state & VETOED != 0) revert RootVetoed(epoch);
        if (block.timestamp < postedAt + challengeWindow) revert RootNotFinal(epoch, postedAt + challengeWindow);
        // The proof first: AlreadyClaimed then always means this very leaf was paid.
        bytes32 leaf = keccak256(abi.encode(index, account, amount, epoch));
        if (!MerkleProof.verifyCalldata(proof, e.root, leaf)) revert InvalidProof(epoch, account, amount);
        if (index < INLINE_LEAVES) {
            uint256 bit = 1 << (FIRST_BIT + index);
            if (state & bit != 0) revert AlreadyClaimed(epoch, account);
            e.state = state | bit;
        } else {
            uint256 i = index - INLINE_LEAVES;
            uint256 bit = 1 << (i & 255);
            uint256 bits = _claimedMore[epoch][i >> 8];
            if (bits & bit != 0) revert AlreadyClaimed(epoch, account);
            _claimedMore[epoch][i >> 8] = bits | bit;
        }
        emit Claimed(epoch, account, amount);
    }

    /// An epoch's root, report hash, posting time, veto flag and total.
    function epochRoot(uint256 epoch) external view returns (EpochRoot memory) {
        Epoch storage e = _epochs[epoch];
        uint256 state = e.state;
        return EpochRoot(e.root, e.reportHash, uint40(state), state & VETOED != 0, uint128(e.total));
    }

    /// Whether leaf `index` of `epoch` has been claimed.
    function isClaimed(uint256 epoch, uint256 index) external view returns (bool) {
        if (index < INLINE_LEAVES) return _epochs[epoch].state & (1 << (FIRST_BIT + index)) != 0;
        uint256 i = index - INLINE_LEAVES;
        return _claimedMore[epoch][i >> 8] & (1 << (i & 255)) != 0;
    }
}
