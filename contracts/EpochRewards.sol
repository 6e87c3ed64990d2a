// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title Epoch rewards claimed by Merkle proof (the MerkleDistributor pattern, one root per closed epoch).
/// @notice The router posts each closed epoch's root with the hash of its report. The owner may veto a root
/// during the challenge window; after it, accounts claim lazily. Leaves are
/// keccak256(bytes.concat(keccak256(abi.encode(account, amount, epoch)))), sorted-pair trees (OpenZeppelin).
contract EpochRewards is AccessControl {
    using SafeERC20 for IERC20;

    bytes32 public constant ROUTER_ROLE = keccak256("ROUTER_ROLE");

    struct EpochRoot {
        bytes32 root;
        bytes32 reportHash;
        uint64 postedAt;
        bool vetoed;
        uint128 total;
    }

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

    event RootPosted(uint256 indexed epoch, bytes32 root, bytes32 reportHash, uint256 total);
    event RootVetoedBy(uint256 indexed epoch, address indexed by, bytes32 reason);
    event Claimed(uint256 indexed epoch, address indexed account, uint256 amount);

    IERC20 public immutable token;
    uint256 public immutable challengeWindow;

    mapping(uint256 epoch => EpochRoot) private _epochs;
    /// One bit per (account, epoch): a node claiming every epoch rewrites the same word, 256 epochs to a word.
    mapping(address account => mapping(uint256 word => uint256 bits)) private _claimed;
    /// Sum of the totals of posted, unvetoed roots: what the pool has promised (claims do not lower it, so
    /// it is compared with the pool plus what was paid).
    uint256 public promised;
    uint256 public paid;

    constructor(IERC20 token_, uint256 challengeWindow_, address admin, address router) {
        token = token_;
        challengeWindow = challengeWindow_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ROUTER_ROLE, router);
    }

    /// Posts epoch `epoch`'s root; `total` is what its leaves add up to, and must be covered by the pool.
    function postRoot(uint256 epoch, bytes32 root, bytes32 reportHash, uint256 total) external onlyRole(ROUTER_ROLE) {
        if (root == bytes32(0)) revert EmptyRoot();
        EpochRoot storage e = _epochs[epoch];
        if (e.postedAt != 0 && !e.vetoed) revert EpochAlreadyPosted(epoch);
        uint256 available = token.balanceOf(address(this)) + paid - promised;
        if (total > available) revert InsufficientRewardsPool(available, total);
        promised += total;
        _epochs[epoch] = EpochRoot(root, reportHash, uint64(block.timestamp), false, uint128(total));
        emit RootPosted(epoch, root, reportHash, total);
    }

    /// The owner's veto of a root still in its challenge window; the router may post a corrected one.
    function veto(uint256 epoch, bytes32 reason) external onlyRole(DEFAULT_ADMIN_ROLE) {
        EpochRoot storage e = _epochs[epoch];
        if (e.postedAt == 0) revert UnknownEpoch(epoch);
        if (e.vetoed) revert RootVetoed(epoch);
        if (block.timestamp >= e.postedAt + challengeWindow) revert ChallengeWindowClosed(epoch);
        e.vetoed = true;
        promised -= e.total;
        emit RootVetoedBy(epoch, msg.sender, reason);
    }

    /// Pays `account` its reward for `epoch`. Anyone may send it; the tokens go to `account`.
    /// No reentrancy guard: the bit is set before the only external call, to the project's own token.
    function claim(uint256 epoch, address account, uint256 amount, bytes32[] calldata proof) external {
        _claim(epoch, account, amount, proof);
        token.safeTransfer(account, amount);
    }

    /// Claims several epochs for one account with one transfer.
    function claimMany(
        uint256[] calldata epochs,
        address account,
        uint256[] calldata amounts,
        bytes32[][] calldata proofs
    ) external {
        if (epochs.length != amounts.length || epochs.length != proofs.length) revert LengthMismatch();
        uint256 sum = 0;
        for (uint256 i = 0; i < epochs.length; i++) {
            _claim(epochs[i], account, amounts[i], proofs[i]);
            sum += amounts[i];
        }
        token.safeTransfer(account, sum);
    }

    function _claim(uint256 epoch, address account, uint256 amount, bytes32[] calldata proof) private {
        EpochRoot storage e = _epochs[epoch];
        uint256 postedAt = e.postedAt;
        if (postedAt == 0) revert UnknownEpoch(epoch);
        if (e.vetoed) revert RootVetoed(epoch);
        if (block.timestamp < postedAt + challengeWindow) revert RootNotFinal(epoch, postedAt + challengeWindow);
        uint256 bit = 1 << (epoch & 255);
        uint256 bits = _claimed[account][epoch >> 8];
        if (bits & bit != 0) revert AlreadyClaimed(epoch, account);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, amount, epoch))));
        if (!MerkleProof.verifyCalldata(proof, e.root, leaf)) revert InvalidProof(epoch, account, amount);
        _claimed[account][epoch >> 8] = bits | bit;
        paid += amount;
        emit Claimed(epoch, account, amount);
    }

    /// An epoch's root, report hash, posting time, veto flag and total.
    function epochRoot(uint256 epoch) external view returns (EpochRoot memory) {
        return _epochs[epoch];
    }

    /// Whether `account` has claimed `epoch`.
    function isClaimed(uint256 epoch, address account) external view returns (bool) {
        return _claimed[account][epoch >> 8] & (1 << (epoch & 255)) != 0;
    }
}
