// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/// @title The bridge between OMNIT on chain and the router's off-chain ledger.
/// @notice Deposits emit an event the router credits once (keyed by transaction hash and log index) after
/// enough confirmations. Withdrawals are paid against an EIP-712 voucher signed by a router signer, each
/// nonce usable once: a voucher pays at once, where an epoch root would wait for the epoch and its window.
contract Vault is AccessControl, ReentrancyGuard, EIP712 {
    using SafeERC20 for IERC20;

    bytes32 public constant SIGNER_ROLE = keccak256("SIGNER_ROLE");
    bytes32 public constant WITHDRAWAL_TYPEHASH =
        keccak256("Withdrawal(address account,uint256 amount,uint256 nonce,uint256 deadline)");

    error DepositBelowMinimum(uint256 amount, uint256 minimum);
    error ZeroAccount();
    error VoucherExpired(uint256 deadline);
    error VoucherUsed(uint256 nonce);
    error InvalidVoucherSigner(address signer);
    error InsufficientVaultBalance(uint256 available, uint256 amount);

    event Deposited(address indexed from, address indexed account, uint256 amount);
    event Funded(address indexed from, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount, uint256 indexed nonce);

    IERC20 public immutable token;
    uint256 public immutable minDeposit;
    uint256 public deposited;
    uint256 public funded;
    uint256 public withdrawn;

    mapping(uint256 word => uint256 bits) private _usedNonces;

    constructor(IERC20 token_, uint256 minDeposit_, address admin, address signer) EIP712("OmniTensor Vault", "1") {
        token = token_;
        minDeposit = minDeposit_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(SIGNER_ROLE, signer);
    }

    /// Locks `amount` for the ledger account `account` (usually the sender's own address).
    function deposit(uint256 amount, address account) external nonReentrant {
        if (amount < minDeposit) revert DepositBelowMinimum(amount, minDeposit);
        if (account == address(0)) revert ZeroAccount();
        deposited += amount;
        emit Deposited(msg.sender, account, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// Adds tokens that back withdrawals without crediting any ledger account (for example, the rewards
    /// the ledger paid off chain).
    function fund(uint256 amount) external nonReentrant {
        funded += amount;
        emit Funded(msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// Pays a voucher: `amount` to `account`, signed by a router signer, nonce `nonce` unused, before `deadline`.
    function withdraw(address account, uint256 amount, uint256 nonce, uint256 deadline, bytes calldata signature)
        external
        nonReentrant
    {
        if (block.timestamp > deadline) revert VoucherExpired(deadline);
        uint256 bit = 1 << (nonce & 255);
        uint256 bits = _usedNonces[nonce >> 8];
        if (bits & bit != 0) revert VoucherUsed(nonce);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(WITHDRAWAL_TYPEHASH, account, amount, nonce, deadline)));
        address signer = ECDSA.recover(digest, signature);
        if (!hasRole(SIGNER_ROLE, signer)) revert InvalidVoucherSigner(signer);
        uint256 available = deposited + funded - withdrawn;
        if (amount > available) revert InsufficientVaultBalance(available, amount);
        _usedNonces[nonce >> 8] = bits | bit;
        withdrawn += amount;
        emit Withdrawn(account, amount, nonce);
        token.safeTransfer(account, amount);
    }

    /// Whether a voucher nonce was used.
    function isNonceUsed(uint256 nonce) external view returns (bool) {
        return _usedNonces[nonce >> 8] & (1 << (nonce & 255)) != 0;
    }
}
