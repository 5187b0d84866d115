//! The shared behavioural suite on smol.

mcp_testsuite::suite!(mcp_smol::SmolRuntime, smol::block_on);
