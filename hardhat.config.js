// Configuration of the local development chain that `catena up` and the
// tests start with `hardhat node`. Catena compiles its contracts with
// solc-js itself, so no Solidity settings live here.
module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
    },
  },
};
