// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title OMNIT, the OmniTensor network's token (seed 000 names it, seed 001 makes it an ERC-20).
/// @notice The whole supply is minted once, at deployment, to the genesis split; there is no mint function.
contract OmniToken is ERC20 {
    /// The genesis lists differ in length.
    error GenesisLengthMismatch(uint256 recipients, uint256 amounts);
    /// The genesis list is empty.
    error EmptyGenesis();

    constructor(address[] memory recipients, uint256[] memory amounts) ERC20("OmniTensor", "OMNIT") {
        if (recipients.length != amounts.length) revert GenesisLengthMismatch(recipients.length, amounts.length);
        if (recipients.length == 0) revert EmptyGenesis();
        for (uint256 i = 0; i < recipients.length; i++) {
            _mint(recipients[i], amounts[i]);
        }
    }
}
