// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title Stake per node (seed 001: one stake s_i per GPU g_i), with unbonding and slashing by the router.
contract NodeStaking is AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    bytes32 public constant ROUTER_ROLE = keccak256("ROUTER_ROLE");

    struct NodeStake {
        address owner;
        uint64 unlockAt;
        uint128 bonded;
        uint128 unbonding;
    }

    error ZeroAmount();
    error NotNodeOwner(bytes32 node, address owner, address caller);
    error InsufficientStake(bytes32 node, uint256 bonded, uint256 requested);
    error NothingUnbonding(bytes32 node);
    error StillUnbonding(bytes32 node, uint256 unlockAt);
    error SlashTooLarge(bytes32 node, uint256 staked, uint256 requested);
    error EvidenceUsed(bytes32 evidence);

    event Staked(bytes32 indexed node, address indexed owner, uint256 amount);
    event Unstaked(bytes32 indexed node, address indexed owner, uint256 amount, uint256 unlockAt);
    event Withdrawn(bytes32 indexed node, address indexed owner, uint256 amount);
    event Slashed(bytes32 indexed node, address indexed owner, uint256 amount, bytes32 evidence);

    IERC20 public immutable token;
    uint256 public immutable unbondingPeriod;
    /// Where slashed tokens go (the network's treasury).
    address public immutable slashRecipient;

    mapping(bytes32 node => NodeStake) private _stakes;
    /// Evidence already slashed for: each slash names its evidence once, so a router that sends a slash again
    /// (a lost answer, a restart) slashes nothing twice.
    mapping(bytes32 evidence => bool) public evidenceUsed;
    mapping(address owner => uint256) private _bondedOf;
    mapping(address owner => uint256) private _unbondingOf;
    mapping(address owner => bytes32[]) private _nodesOf;

    constructor(IERC20 token_, uint256 unbondingPeriod_, address admin, address router, address slashRecipient_) {
        token = token_;
        unbondingPeriod = unbondingPeriod_;
        slashRecipient = slashRecipient_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ROUTER_ROLE, router);
    }

    /// Bonds `amount` to `node`; the first staker of a node becomes its owner.
    function stake(bytes32 node, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        NodeStake storage s = _stakes[node];
        if (s.owner == address(0)) {
            s.owner = msg.sender;
            _nodesOf[msg.sender].push(node);
        } else if (s.owner != msg.sender) {
            revert NotNodeOwner(node, s.owner, msg.sender);
        }
        s.bonded += uint128(amount);
        _bondedOf[msg.sender] += amount;
        emit Staked(node, msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// Starts unbonding `amount`; it can be withdrawn after the unbonding period (restarted by each unstake).
    function unstake(bytes32 node, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        NodeStake storage s = _stakes[node];
        if (s.owner != msg.sender) revert NotNodeOwner(node, s.owner, msg.sender);
        if (s.bonded < amount) revert InsufficientStake(node, s.bonded, amount);
        s.bonded -= uint128(amount);
        s.unbonding += uint128(amount);
        uint64 unlockAt = uint64(block.timestamp + unbondingPeriod);
        s.unlockAt = unlockAt;
        _bondedOf[msg.sender] -= amount;
        _unbondingOf[msg.sender] += amount;
        emit Unstaked(node, msg.sender, amount, unlockAt);
    }

    /// Pays out what finished unbonding.
    function withdraw(bytes32 node) external nonReentrant {
        NodeStake storage s = _stakes[node];
        if (s.owner != msg.sender) revert NotNodeOwner(node, s.owner, msg.sender);
        uint256 amount = s.unbonding;
        if (amount == 0) revert NothingUnbonding(node);
        if (block.timestamp < s.unlockAt) revert StillUnbonding(node, s.unlockAt);
        s.unbonding = 0;
        _unbondingOf[msg.sender] -= amount;
        emit Withdrawn(node, msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// Takes `amount` from the node's stake (bonded first, then unbonding), for the evidence the router names
    /// (once per evidence hash: `EvidenceUsed`).
    function slash(bytes32 node, uint256 amount, bytes32 evidence) external onlyRole(ROUTER_ROLE) nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (evidenceUsed[evidence]) revert EvidenceUsed(evidence);
        evidenceUsed[evidence] = true;
        NodeStake storage s = _stakes[node];
        uint256 total = uint256(s.bonded) + s.unbonding;
        if (amount > total) revert SlashTooLarge(node, total, amount);
        uint256 fromBonded = amount <= s.bonded ? amount : s.bonded;
        uint256 fromUnbonding = amount - fromBonded;
        s.bonded -= uint128(fromBonded);
        s.unbonding -= uint128(fromUnbonding);
        _bondedOf[s.owner] -= fromBonded;
        _unbondingOf[s.owner] -= fromUnbonding;
        emit Slashed(node, s.owner, amount, evidence);
        token.safeTransfer(slashRecipient, amount);
    }

    /// A node's owner, bonded and unbonding stake, and when the unbonding amount unlocks.
    function stakeOf(bytes32 node) external view returns (NodeStake memory) {
        return _stakes[node];
    }

    /// What an owner has bonded and unbonding over all its nodes.
    function stakeOfOwner(address owner) external view returns (uint256 bonded, uint256 unbonding) {
        return (_bondedOf[owner], _unbondingOf[owner]);
    }

    /// The nodes an owner has staked.
    function nodesOf(address owner) external view returns (bytes32[] memory) {
        return _nodesOf[owner];
    }
}
